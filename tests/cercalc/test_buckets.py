"""UTC hour buckets and Europe/Rome days, with the daylight-saving days of 2024."""

from datetime import date

import pytest

from cercalc import buckets, periods


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2024, 3, 31), 23), (date(2024, 6, 3), 24), (date(2024, 10, 27), 25)],
    ids=["last Sunday of March", "ordinary day", "last Sunday of October"],
)
def test_a_local_day_has_23_24_or_25_hours(day, hours):
    assert buckets.buckets_in_local_day(day) == hours


def test_local_midnight_is_converted_to_utc():
    assert buckets.format_utc(buckets.local_midnight_utc_s(date(2024, 1, 1))) == (
        "2023-12-31T23:00:00Z"
    )
    assert buckets.format_utc(buckets.local_midnight_utc_s(date(2024, 7, 1))) == (
        "2024-06-30T22:00:00Z"
    )


def test_the_repeated_october_hour_is_two_buckets():
    first = buckets.parse_instant_utc_s("2024-10-27T02:00:00+02:00")
    second = buckets.parse_instant_utc_s("2024-10-27T02:00:00+01:00")

    assert second - first == 3600
    day = buckets.format_utc_many(buckets.bucket_starts_of_local_day(date(2024, 10, 27)))
    # local 00:00+02, 01:00+02, 02:00+02, 02:00+01, 03:00+01 ...
    assert day[:5] == [
        "2024-10-26T22:00:00Z",
        "2024-10-26T23:00:00Z",
        "2024-10-27T00:00:00Z",
        "2024-10-27T01:00:00Z",
        "2024-10-27T02:00:00Z",
    ]


def test_a_naive_timestamp_is_refused():
    with pytest.raises(buckets.InstantError, match="no UTC offset"):
        buckets.parse_instant_utc_s("2024-10-27T02:00:00")


def test_a_month_and_a_year_are_local_calendar_periods():
    start, end = periods.month(2024, 3).utc_bounds_s()
    year_start, year_end = periods.year(2024).utc_bounds_s()

    assert (end - start) // 3600 == 31 * 24 - 1
    assert (year_end - year_start) // 3600 == 8784


def test_an_anniversary_of_29_february_in_a_common_year_is_28_february():
    assert buckets.add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert buckets.add_years(date(2024, 2, 29), 20) == date(2044, 2, 29)


@pytest.mark.parametrize(
    ("day", "hours", "incentive"),
    [("2024-03-31", 23, "2.85"), ("2024-10-27", 25, "3.10")],
    ids=["March", "October"],
)
def test_a_daylight_saving_day_settles_each_of_its_hours(
    run_case, example_case, day, hours, incentive
):
    starts = buckets.format_utc_many(buckets.bucket_starts_of_local_day(date.fromisoformat(day)))
    example_case["plants"][0]["entry_into_service"] = "2024-01-24"
    example_case["hours"] = [
        {
            "start": start,
            "zonal_price_eur_per_mwh": "140.00",
            "injected_kwh": {"PV1": "2.000"},
            "withdrawn_kwh": {"C1": "1.000"},
        }
        for start in starts
    ]

    _, output = run_case(example_case)

    assert len(output["hours"]) == hours
    assert output["totals"]["shared_kwh"] == f"{hours}.000"
    # 1 kWh per hour at 124 EUR/MWh: 23 x 0.124 = 2.852, 25 x 0.124 = 3.1
    assert output["totals"]["incentive_eur"] == incentive


def test_the_two_october_hours_written_with_offsets_are_distinct(run_case, example_case):
    example_case["hours"] = [
        {"start": start, "zonal_price_eur_per_mwh": "140.00", "injected_kwh": {"PV1": "1.000"}}
        for start in ("2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00")
    ]

    _, output = run_case(example_case)

    assert [hour["start"] for hour in output["hours"]] == [
        "2024-10-27T00:00:00Z",
        "2024-10-27T01:00:00Z",
    ]
