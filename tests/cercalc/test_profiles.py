"""Average days, totals and gap estimates: the worked week of docs/algorithms/profiles.md."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cercalc import buckets
from cercalc.profiles import (
    DayType,
    ProfileInputError,
    compute_profiles,
    day_type_of,
    easter_sunday,
    estimate_missing,
    italian_public_holidays,
)

# Saturday 26 October 2024 00:00 in Rome to Saturday 2 November 00:00: 169 buckets.
WEEK_START_S = buckets.local_midnight_utc_s(dt.date(2024, 10, 26))
WEEK_END_S = buckets.local_midnight_utc_s(dt.date(2024, 11, 2))
WEEKDAYS = {dt.date(2024, 10, day) for day in (28, 29, 30, 31)}
# (local day, local hour) left unread in the worked week.
GAPS = {(dt.date(2024, 10, 26), 3), (dt.date(2024, 10, 29), 20), (dt.date(2024, 11, 1), 12)}
INJECTED_AT_NOON = {26: 1000, 27: 1500, 28: 900, 29: 800, 30: 700, 31: 600}
WITHDRAWN_AT_NOON_ON_WEEKDAYS = {28: 100, 29: 101, 30: 100, 31: 101}


def _worked_week():
    """Build the week of the worked example from its rules, bucket by bucket."""
    starts = np.arange(WEEK_START_S, WEEK_END_S, buckets.HOUR_S, dtype=np.int64)
    injected, withdrawn, present = [], [], []
    for start in starts.tolist():
        local = dt.datetime.fromtimestamp(start, buckets.ROME)
        day, hour = local.date(), local.hour
        wdr = 100 if day in WEEKDAYS else 200
        if hour == 12 and day in WEEKDAYS:
            wdr = WITHDRAWN_AT_NOON_ON_WEEKDAYS[day.day]
        inj = INJECTED_AT_NOON.get(day.day, 0) if hour == 12 and day.month == 10 else 0
        read = (day, hour) not in GAPS
        injected.append(inj if read else 0)
        withdrawn.append(wdr if read else 0)
        present.append(read)
    return (
        starts,
        np.array(injected, dtype=np.int64),
        np.array(withdrawn, dtype=np.int64),
        np.array(present, dtype=bool),
    )


@pytest.fixture
def week():
    return _worked_week()


@pytest.fixture
def profiles(week):
    starts, injected, withdrawn, present = week
    return compute_profiles(
        hour_starts_s=starts, injected_wh=injected, withdrawn_wh=withdrawn, present=present
    )


def test_the_worked_week_has_169_buckets_and_three_gaps(week):
    starts, _, _, present = week

    assert starts.size == 169
    assert int((~present).sum()) == 3


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, dt.date(2024, 3, 31)), (2025, dt.date(2025, 4, 20)), (2026, dt.date(2026, 4, 5))],
)
def test_easter_sunday_is_computed_for_any_year(year, easter):
    assert easter_sunday(year) == easter


def test_easter_monday_and_the_fixed_holidays_are_weekend_days():
    holidays = italian_public_holidays(2025)

    assert dt.date(2025, 4, 21) in holidays  # Easter Monday
    assert len(holidays) == 12
    assert day_type_of(dt.date(2024, 11, 1)) == DayType.WEEKEND  # All Saints, a Friday
    assert day_type_of(dt.date(2025, 4, 21)) == DayType.WEEKEND
    assert day_type_of(dt.date(2025, 4, 22)) == DayType.WEEKDAY
    assert day_type_of(dt.date(2024, 10, 26)) == DayType.WEEKEND  # a Saturday


def test_st_francis_is_a_national_holiday_from_2026_only():
    assert dt.date(2025, 10, 4) not in italian_public_holidays(2025)
    assert dt.date(2026, 10, 4) in italian_public_holidays(2026)


def test_october_weekday_average_day_matches_the_worked_table(profiles):
    average = profiles.average_days[(2024, 10, DayType.WEEKDAY)]

    assert average.withdrawn_wh[12] == 101  # 402 / 4 = 100.5, half up
    assert average.withdrawn_wh[20] == 100
    assert average.days[20] == 3  # Tuesday's 20:00 is missing
    assert average.injected_wh[12] == 750
    assert set(average.withdrawn_wh.tolist()) == {100, 101}
    assert average.days.tolist() == [4] * 20 + [3] + [4] * 3


def test_october_weekend_sums_the_repeated_hour_into_hour_2(profiles):
    average = profiles.average_days[(2024, 10, DayType.WEEKEND)]

    assert average.withdrawn_wh[2] == 300  # (200 + 2 x 200) / 2
    assert average.days[2] == 2
    assert average.withdrawn_wh[3] == 200
    assert average.days[3] == 1  # Saturday's 03:00 is missing
    assert average.injected_wh[12] == 1250
    assert average.withdrawn_wh[0] == 200


def test_the_holiday_is_november_weekend_and_its_missing_noon_has_no_day(profiles):
    average = profiles.average_days[(2024, 11, DayType.WEEKEND)]

    assert average.days[12] == 0
    assert average.days.sum() == 23
    assert (2024, 11, DayType.WEEKDAY) not in profiles.average_days


def test_year_average_day_matches_the_worked_table(profiles):
    year = profiles.year_average_days[2024]

    assert year.withdrawn_wh[0] == 143  # 1000 / 7
    assert year.withdrawn_wh[2] == 171  # 1200 / 7
    assert year.withdrawn_wh[3] == 133  # 800 / 6
    assert year.withdrawn_wh[12] == 134  # 802 / 6
    assert year.injected_wh[12] == 917  # 5500 / 6
    assert year.withdrawn_wh[20] == 150  # 900 / 6
    assert year.days[12] == 6


def test_daily_and_monthly_totals_match_the_worked_table(profiles):
    daily = profiles.daily
    monthly = profiles.monthly

    assert daily.starts[0] == dt.date(2024, 10, 26)
    assert daily.withdrawn_wh.tolist() == [4600, 5000, 2400, 2301, 2400, 2401, 4600]
    assert daily.injected_wh.tolist() == [1000, 1500, 900, 800, 700, 600, 0]
    assert daily.hours_present.tolist() == [23, 25, 24, 23, 24, 24, 23]
    assert daily.hours_expected.tolist() == [24, 25, 24, 24, 24, 24, 24]
    assert monthly.starts == (dt.date(2024, 10, 1), dt.date(2024, 11, 1))
    assert monthly.withdrawn_wh.tolist() == [19102, 4600]
    assert monthly.injected_wh.tolist() == [5500, 0]
    assert monthly.hours_present.tolist() == [143, 23]
    assert monthly.hours_expected.tolist() == [145, 24]


def test_estimates_fill_the_three_gaps_with_the_fallbacks_of_the_worked_table(week, profiles):
    starts, _, _, present = week

    estimates = estimate_missing(hour_starts_s=starts, present=present, profiles=profiles)

    filled = {
        (
            dt.datetime.fromtimestamp(int(starts[i]), buckets.ROME).date(),
            dt.datetime.fromtimestamp(int(starts[i]), buckets.ROME).hour,
        ): (int(estimates.injected_wh[i]), int(estimates.withdrawn_wh[i]))
        for i in np.flatnonzero(estimates.estimated)
    }
    assert filled == {
        (dt.date(2024, 10, 26), 3): (0, 200),  # October weekend, Sunday only
        (dt.date(2024, 10, 29), 20): (0, 100),  # October weekday
        (dt.date(2024, 11, 1), 12): (917, 134),  # the year's average day
    }
    assert not estimates.not_estimated.any()


def test_the_missing_march_hour_counts_one_day_fewer():
    day = dt.date(2024, 3, 31)  # Easter Sunday and the 23-hour day
    starts = np.arange(
        buckets.local_midnight_utc_s(dt.date(2024, 3, 30)),
        buckets.local_midnight_utc_s(dt.date(2024, 4, 1)),
        buckets.HOUR_S,
        dtype=np.int64,
    )
    energy = np.full(starts.size, 10, dtype=np.int64)

    profiles = compute_profiles(
        hour_starts_s=starts,
        injected_wh=energy,
        withdrawn_wh=energy,
        present=np.ones(starts.size, dtype=bool),
    )

    average = profiles.average_days[(2024, 3, DayType.WEEKEND)]
    assert starts.size == 47
    assert average.days[2] == 1
    assert average.days[1] == average.days[3] == 2
    assert average.withdrawn_wh.tolist() == [10] * 24
    assert profiles.daily.hours_expected.tolist() == [24, buckets.buckets_in_local_day(day)]


def test_an_hour_never_read_gets_no_estimate():
    starts = buckets.bucket_starts_of_local_day(dt.date(2024, 6, 3))
    present = np.ones(24, dtype=bool)
    present[5] = False
    energy = np.full(24, 7, dtype=np.int64)
    profiles = compute_profiles(
        hour_starts_s=starts, injected_wh=energy, withdrawn_wh=energy, present=present
    )

    estimates = estimate_missing(hour_starts_s=starts, present=present, profiles=profiles)

    assert not estimates.estimated.any()
    assert np.flatnonzero(estimates.not_estimated).tolist() == [5]


def test_misaligned_or_negative_input_is_refused():
    starts = np.array([0, 3600], dtype=np.int64)
    ok = np.ones(2, dtype=bool)

    with pytest.raises(ProfileInputError, match="same length"):
        compute_profiles(
            hour_starts_s=starts, injected_wh=np.zeros(1, np.int64), withdrawn_wh=starts, present=ok
        )
    with pytest.raises(ProfileInputError, match="increasing"):
        compute_profiles(
            hour_starts_s=starts[::-1], injected_wh=starts, withdrawn_wh=starts, present=ok
        )
    with pytest.raises(ProfileInputError, match="negative"):
        compute_profiles(hour_starts_s=starts, injected_wh=-starts, withdrawn_wh=starts, present=ok)


# --- properties ---------------------------------------------------------------------------

FIRST_DAYS = [dt.date(2024, 3, 28), dt.date(2024, 10, 24), dt.date(2024, 12, 29)]


@st.composite
def series(draw):
    """A few local days around a change-over day or a new year, random energy and gaps."""
    first = draw(st.sampled_from(FIRST_DAYS))
    days = draw(st.integers(1, 6))
    starts = np.arange(
        buckets.local_midnight_utc_s(first),
        buckets.local_midnight_utc_s(first + dt.timedelta(days=days)),
        buckets.HOUR_S,
        dtype=np.int64,
    )
    size = starts.size
    energy = st.lists(st.integers(0, 5_000), min_size=size, max_size=size)
    injected = np.array(draw(energy), dtype=np.int64)
    withdrawn = np.array(draw(energy), dtype=np.int64)
    present = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
    return starts, injected * present, withdrawn * present, present


def _profiles(data):
    starts, injected, withdrawn, present = data
    return compute_profiles(
        hour_starts_s=starts, injected_wh=injected, withdrawn_wh=withdrawn, present=present
    )


@settings(max_examples=60, deadline=None)
@given(series())
def test_each_average_lies_between_the_least_and_greatest_of_its_days(data):
    starts, _, withdrawn, present = data
    profiles = _profiles(data)
    values: dict[tuple[int, int, DayType, int], dict[dt.date, list[int]]] = {}
    for start, wdr, read in zip(starts.tolist(), withdrawn.tolist(), present.tolist(), strict=True):
        local = dt.datetime.fromtimestamp(start, buckets.ROME)
        key = (local.year, local.month, day_type_of(local.date()), local.hour)
        values.setdefault(key, {}).setdefault(local.date(), []).append(wdr if read else -1)

    for (year, month, day_type, hour), by_day in values.items():
        complete = [sum(v) for v in by_day.values() if min(v) >= 0]
        average = profiles.average_days.get((year, month, day_type))
        if not complete:
            assert average is None or average.days[hour] == 0
            continue
        assert average is not None
        assert average.days[hour] == len(complete)
        assert min(complete) <= average.withdrawn_wh[hour] <= max(complete)


@settings(max_examples=60, deadline=None)
@given(series())
def test_daily_totals_add_up_to_the_monthly_totals(data):
    profiles = _profiles(data)
    daily, monthly = profiles.daily, profiles.monthly

    for index, first in enumerate(monthly.starts):
        in_month = [
            i
            for i, day in enumerate(daily.starts)
            if (day.year, day.month) == (first.year, first.month)
        ]
        assert daily.injected_wh[in_month].sum() == monthly.injected_wh[index]
        assert daily.withdrawn_wh[in_month].sum() == monthly.withdrawn_wh[index]
        assert daily.hours_present[in_month].sum() == monthly.hours_present[index]
        assert daily.hours_expected[in_month].sum() == monthly.hours_expected[index]
    assert monthly.hours_expected.sum() == data[0].size


@settings(max_examples=60, deadline=None)
@given(series())
def test_estimates_never_touch_present_hours_and_a_second_pass_adds_nothing(data):
    starts, _, _, present = data
    profiles = _profiles(data)

    first = estimate_missing(hour_starts_s=starts, present=present, profiles=profiles)
    again = estimate_missing(hour_starts_s=starts, present=present, profiles=profiles)
    filled = present | first.estimated
    second = estimate_missing(hour_starts_s=starts, present=filled, profiles=profiles)

    assert not (first.estimated & present).any()
    assert not first.injected_wh[present].any() and not first.withdrawn_wh[present].any()
    assert np.array_equal(first.estimated | first.not_estimated, ~present)
    assert np.array_equal(first.withdrawn_wh, again.withdrawn_wh)
    assert not second.estimated.any()
    assert np.array_equal(second.not_estimated, first.not_estimated)
