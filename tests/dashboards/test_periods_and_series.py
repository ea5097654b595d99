"""Calendar periods in Europe/Rome and the arithmetic on hourly series, without a database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cer.dashboards import series
from cer.dashboards.views import period_from_query
from cercalc import periods
from cercalc.distribution import consumer_shares_wh
from cercalc.sharing import attribute_chronologically, shared_energy_by_hour


@pytest.mark.parametrize(
    ("period", "hours"),
    [
        (periods.month(2025, 3), 743),  # clocks go forward on Sunday 30 March
        (periods.month(2025, 10), 745),  # and back on Sunday 26 October
        (periods.month(2025, 6), 720),
        (periods.year(2025), 8760),
        (periods.year(2024), 8784),
    ],
)
def test_a_period_holds_its_local_hours_including_daylight_saving(period, hours):
    assert period.hours == hours
    assert period.hour_starts_s().size == hours


def test_a_month_starts_at_local_midnight_in_utc():
    start, end = periods.month(2025, 3).utc_bounds()

    assert start == dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC)


def test_the_last_sunday_of_march_has_23_hours_and_of_october_25():
    march = np.diff(np.append(periods.month(2025, 3).hour_offsets(by="day"), 743))
    october = np.diff(np.append(periods.month(2025, 10).hour_offsets(by="day"), 745))

    assert march[29] == 23
    assert october[25] == 25
    assert set(march[:29]) == {24}


def test_year_buckets_by_month_start_at_each_local_month():
    starts = periods.year(2025).hour_offsets(by="month")

    assert starts.size == 12
    assert starts[3] == 31 * 24 + 28 * 24 + 31 * 24 - 1  # April, after the lost hour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03", periods.month(2025, 3)),
        ("2025", periods.year(2025)),
        ("2025-13", None),
        ("25-03", None),
        ("", None),
        (None, None),
        ("2025-03; drop", None),
        ("2025-Q2", None),
    ],
)
def test_period_text_is_read_strictly(text, expected):
    assert period_from_query(text) == expected


def test_midnight_utc_on_new_years_eve_is_already_january_in_rome():
    assert periods.month_of(dt.datetime(2024, 12, 31, 23, tzinfo=dt.UTC)) == periods.month(2025, 1)


def test_periods_step_across_years():
    assert periods.month(2025, 1).previous() == periods.month(2024, 12)
    assert periods.month(2025, 12).next() == periods.month(2026, 1)
    assert periods.year(2025).next() == periods.year(2026)


def test_shared_energy_is_the_hourly_minimum():
    injected = np.array([0, 500, 2000], dtype=np.int64)
    withdrawn = np.array([300, 800, 700], dtype=np.int64)

    shared = shared_energy_by_hour(injected_by_hour_wh=injected, withdrawn_by_hour_wh=withdrawn)

    assert shared.tolist() == [0, 500, 700]


def test_shared_energy_is_zero_without_injection():
    zeros = np.zeros(3, dtype=np.int64)

    shared = shared_energy_by_hour(
        injected_by_hour_wh=zeros, withdrawn_by_hour_wh=np.ones(3, dtype=np.int64)
    )

    assert shared.sum() == 0


def test_a_consumer_gets_shared_energy_in_proportion_to_their_withdrawal():
    shared = np.array([600, 0], dtype=np.int64)
    own = np.array([400, 500], dtype=np.int64)
    others = np.array([800, 0], dtype=np.int64)

    share = consumer_shares_wh(withdrawn_wh=np.vstack([own, others]), shared_wh=shared)

    assert share[0].tolist() == [200, 0]


def test_consumer_shares_add_up_to_the_shared_energy_by_largest_remainder():
    shared = np.array([100], dtype=np.int64)
    withdrawn = np.array([[100], [100], [100]], dtype=np.int64)

    share = consumer_shares_wh(withdrawn_wh=withdrawn, shared_wh=shared)

    # 33.3 Wh each: the leftover watt-hour goes to the first, the parts add up to 100.
    assert share[:, 0].tolist() == [34, 33, 33]


def test_producers_are_served_oldest_plant_first_up_to_their_injection():
    shared = np.array([1500, 300], dtype=np.int64)
    injected = np.array([[1000, 1000], [2000, 2000]], dtype=np.int64)

    attributed = attribute_chronologically(
        energy_by_hour_wh=shared, capacity_wh=injected, order=np.array([0, 1], dtype=np.intp)
    )

    assert attributed.tolist() == [[1000, 300], [500, 0]]


def test_ratio_is_none_when_nothing_was_withdrawn():
    assert series.ratio_pct(0, 0) is None
    assert series.ratio_pct(1, 3) == 33.3
