"""Europe/Rome calendar periods: bounds, UTC hours across daylight saving time, text forms."""

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cercalc import periods
from cercalc.periods import FIRST_YEAR, LAST_YEAR, Period

UTC = dt.UTC


def test_a_month_runs_from_its_first_day_to_the_first_day_of_the_next():
    assert periods.month(2025, 3) == Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert periods.month(2025, 12) == Period(dt.date(2025, 12, 1), dt.date(2026, 1, 1))


def test_a_quarter_is_three_months():
    assert periods.quarter(2025, 1) == Period(dt.date(2025, 1, 1), dt.date(2025, 4, 1))
    assert periods.quarter(2025, 4) == Period(dt.date(2025, 10, 1), dt.date(2026, 1, 1))


def test_a_year_and_a_day_are_periods_too():
    assert periods.year(2025) == Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert periods.day(dt.date(2025, 3, 30)) == Period(dt.date(2025, 3, 30), dt.date(2025, 3, 31))


def test_the_utc_bounds_of_march_2025_start_at_plus_one_and_end_at_plus_two():
    start, end = periods.month(2025, 3).utc_bounds()

    assert start == dt.datetime(2025, 2, 28, 23, tzinfo=UTC)
    assert end == dt.datetime(2025, 3, 31, 22, tzinfo=UTC)
    assert periods.month(2025, 3).hours == 743


def test_the_utc_bounds_of_october_2025_start_at_plus_two_and_end_at_plus_one():
    start, end = periods.month(2025, 10).utc_bounds()

    assert start == dt.datetime(2025, 9, 30, 22, tzinfo=UTC)
    assert end == dt.datetime(2025, 10, 31, 23, tzinfo=UTC)
    assert periods.month(2025, 10).hours == 745


def test_the_bounds_in_seconds_match_the_aware_bounds():
    start, end = periods.month(2025, 10).utc_bounds()

    assert periods.month(2025, 10).utc_bounds_s() == (int(start.timestamp()), int(end.timestamp()))


def test_the_last_sunday_of_march_has_23_hours_and_skips_local_two_oclock():
    starts = periods.day(dt.date(2025, 3, 30)).hour_starts_s()

    assert starts.dtype == np.int64
    assert starts.size == 23
    local_hours = [dt.datetime.fromtimestamp(s, periods.ROME).hour for s in starts.tolist()]
    assert local_hours[:4] == [0, 1, 3, 4]


def test_the_last_sunday_of_october_has_25_hours_and_two_oclock_twice():
    starts = periods.day(dt.date(2025, 10, 26)).hour_starts_s()

    assert starts.size == 25
    local = [dt.datetime.fromtimestamp(s, periods.ROME) for s in starts.tolist()]
    assert [moment.hour for moment in local[:5]] == [0, 1, 2, 2, 3]
    assert [moment.utcoffset() for moment in local[2:4]] == [
        dt.timedelta(hours=2),
        dt.timedelta(hours=1),
    ]


def test_a_year_has_8760_hours_and_a_leap_year_8784():
    assert periods.year(2025).hours == 8760
    assert periods.year(2024).hours == 8784


def test_the_months_of_a_quarter_are_its_three_months():
    assert periods.quarter(2025, 2).months() == [
        periods.month(2025, 4),
        periods.month(2025, 5),
        periods.month(2025, 6),
    ]
    assert periods.month(2025, 2).months() == [periods.month(2025, 2)]


def test_a_period_contains_its_first_day_and_not_its_end():
    march = periods.month(2025, 3)

    assert march.contains(dt.date(2025, 3, 1))
    assert dt.date(2025, 3, 31) in march
    assert dt.date(2025, 4, 1) not in march


def test_periods_step_to_the_neighbour_of_the_same_kind_across_years():
    assert periods.month(2025, 1).previous() == periods.month(2024, 12)
    assert periods.month(2025, 12).next() == periods.month(2026, 1)
    assert periods.quarter(2025, 4).next() == periods.quarter(2026, 1)
    assert periods.year(2025).next() == periods.year(2026)
    assert periods.day(dt.date(2025, 3, 1)).previous() == periods.day(dt.date(2025, 2, 28))


def test_the_month_of_an_instant_is_its_local_month():
    assert periods.month_of(dt.datetime(2024, 12, 31, 23, tzinfo=UTC)) == periods.month(2025, 1)
    assert periods.month_of(dt.date(2025, 3, 30)) == periods.month(2025, 3)
    with pytest.raises(ValueError, match="no UTC offset"):
        periods.month_of(dt.datetime(2025, 3, 30, 12))  # noqa: DTZ001 (the naive case under test)


def test_the_first_hour_of_each_day_and_month_is_an_index_into_the_hours():
    march = np.diff(np.append(periods.month(2025, 3).hour_offsets(by="day"), 743))
    october = np.diff(np.append(periods.month(2025, 10).hour_offsets(by="day"), 745))
    year = periods.year(2025).hour_offsets(by="month")

    assert march[29] == 23
    assert october[25] == 25
    assert year.tolist()[:4] == [0, 744, 1416, 2159]
    with pytest.raises(ValueError, match="week"):
        periods.year(2025).hour_offsets(by="week")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025", periods.year(2025)),
        ("2025-03", periods.month(2025, 3)),
        ("2025-Q2", periods.quarter(2025, 2)),
        (" 2025-12 ", periods.month(2025, 12)),
        ("2000", periods.year(2000)),
        ("2100-Q4", periods.quarter(2100, 4)),
    ],
)
def test_parse_reads_a_year_a_month_and_a_quarter(text, expected):
    assert periods.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not a period"),
        ("March 2025", "is not a period"),
        ("2025-3", "is not a period"),
        ("2025-q2", "is not a period"),
        ("2025-03-01", "is not a period"),
        ("٢٠٢٥", "is not a period"),
        ("1999", "year must be between 2000 and 2100"),
        ("2101-01", "year must be between 2000 and 2100"),
        ("2025-00", "month must be between 01 and 12"),
        ("2025-13", "month must be between 01 and 12"),
        ("2025-Q0", "quarter must be Q1, Q2, Q3 or Q4"),
        ("2025-Q5", "quarter must be Q1, Q2, Q3 or Q4"),
    ],
)
def test_parse_names_the_problem_of_a_bad_period(text, problem):
    with pytest.raises(ValueError, match=problem):
        periods.parse(text)


@pytest.mark.parametrize(
    "period",
    [periods.year(2025), periods.quarter(2025, 3), periods.month(2025, 10)],
)
def test_the_key_of_a_period_parses_back_to_it(period):
    assert periods.parse(period.key) == period
    assert str(period) == period.key


def test_other_ranges_of_days_are_written_as_an_interval():
    assert periods.day(dt.date(2025, 3, 30)).key == "2025-03-30"
    assert Period(dt.date(2025, 3, 5), dt.date(2025, 4, 5)).key == "2025-03-05/2025-04-05"


def test_a_period_refuses_empty_ranges_datetimes_and_bad_months():
    with pytest.raises(ValueError, match="start < end"):
        Period(dt.date(2025, 3, 1), dt.date(2025, 3, 1))
    with pytest.raises(TypeError):
        Period(dt.datetime(2025, 3, 1, tzinfo=UTC), dt.date(2025, 4, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="month 13"):
        periods.month(2025, 13)
    with pytest.raises(ValueError, match="quarter 5"):
        periods.quarter(2025, 5)


years = st.integers(min_value=FIRST_YEAR, max_value=LAST_YEAR)


@given(years)
def test_the_months_of_a_year_tile_it_exactly(year_number):
    year = periods.year(year_number)
    months = year.months()

    assert len(months) == 12
    assert months[0].start == year.start
    assert months[-1].end == year.end
    assert all(a.end == b.start for a, b in itertools.pairwise(months))
    assert sum(month.hours for month in months) == year.hours
    assert np.array_equal(np.concatenate([m.hour_starts_s() for m in months]), year.hour_starts_s())


@given(
    st.dates(min_value=dt.date(FIRST_YEAR, 1, 1), max_value=dt.date(LAST_YEAR, 12, 1)),
    st.integers(min_value=1, max_value=120),
)
def test_hour_starts_are_strictly_increasing_an_hour_apart_and_count_the_hours(first, days):
    period = Period(first, first + dt.timedelta(days=days))

    starts = period.hour_starts_s()

    assert starts.size == period.hours
    assert np.all(np.diff(starts) == 3600)
    assert int(starts[0]) == period.utc_bounds_s()[0]
    assert int(starts[-1]) + 3600 == period.utc_bounds_s()[1]
    assert days * 24 - 1 <= period.hours <= days * 24 + 1
