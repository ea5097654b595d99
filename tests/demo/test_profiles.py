from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest

from cer.demo import build_demo, profiles
from cercalc import periods


@pytest.fixture(scope="module")
def demo():
    return build_demo(2025)


@pytest.fixture(scope="module")
def calendar():
    return profiles.local_calendar(2025)


@pytest.fixture(scope="module")
def weather():
    return profiles.simulate_weather(year=2025, seed=[2025, 0])


def _buckets_of_local_day(starts: np.ndarray, day: date) -> int:
    start, end = periods.day(day).utc_bounds()
    low = np.datetime64(start.replace(tzinfo=None), "s")
    high = np.datetime64(end.replace(tzinfo=None), "s")
    return int(((starts >= low) & (starts < high)).sum())


def _local_day_mask(calendar, first: date, last: date) -> np.ndarray:
    by_day = np.array([first <= day <= last for day in calendar.local_dates])
    return by_day[calendar.day_index]


# --------------------------------------------------------------------------- calendar


def test_year_2025_has_8760_hourly_buckets_from_local_midnight():
    starts = profiles.hour_starts_utc(2025)

    assert starts.size == 8760
    assert starts[0] == np.datetime64("2024-12-31T23:00:00")
    assert starts[-1] == np.datetime64("2025-12-31T22:00:00")
    assert np.all(np.diff(starts) == np.timedelta64(3600, "s"))


def test_leap_year_2024_has_8784_hourly_buckets():
    starts = profiles.hour_starts_utc(2024)

    assert starts.size == 8784


def test_last_sunday_of_march_has_23_buckets_and_last_sunday_of_october_has_25():
    starts = profiles.hour_starts_utc(2025)

    spring = _buckets_of_local_day(starts, date(2025, 3, 30))
    autumn = _buckets_of_local_day(starts, date(2025, 10, 26))
    ordinary = _buckets_of_local_day(starts, date(2025, 6, 1))

    assert (spring, autumn, ordinary) == (23, 25, 24)


def test_local_calendar_skips_two_oclock_in_march_and_repeats_it_in_october(calendar):
    march_30 = calendar.local_dates.index(date(2025, 3, 30))
    october_26 = calendar.local_dates.index(date(2025, 10, 26))

    march_hours = calendar.local_hour[calendar.day_index == march_30]
    october_hours = calendar.local_hour[calendar.day_index == october_26]

    assert 2 not in march_hours
    assert list(october_hours).count(2) == 2
    assert calendar.local_hour[0] == 0


def test_easter_and_public_holidays_of_2025_are_known():
    holidays = profiles.italian_public_holidays(2025)

    assert profiles.easter_sunday(2025) == date(2025, 4, 20)
    assert date(2025, 4, 21) in holidays
    assert {date(2025, 1, 6), date(2025, 8, 15), date(2025, 12, 26)} <= holidays
    assert date(2025, 4, 22) not in holidays


# --------------------------------------------------------------------------- photovoltaics


@pytest.mark.parametrize("seed", [1, 7, 2025, 31337])
def test_yearly_pv_yield_of_a_plant_in_service_all_year_is_plausible_for_veneto(seed):
    weather = profiles.simulate_weather(year=2025, seed=seed)

    production = profiles.pv_production_wh(power_kw=Decimal("10"), weather=weather)

    kwh_per_kwp = production.sum() / 1000 / 10
    assert 1050 <= kwh_per_kwp <= 1450


def test_pv_production_is_zero_at_night_in_every_season(weather, calendar):
    production = profiles.pv_production_wh(power_kw=Decimal("150"), weather=weather)

    night = np.isin(calendar.local_hour, [23, 0, 1, 2, 3])

    assert production.dtype == np.int64
    assert production.size == 8760
    assert production.min() >= 0
    assert production[night].max() == 0
    for month in range(1, 13):
        assert production[night & (calendar.month == month)].sum() == 0
        assert production[~night & (calendar.month == month)].sum() > 0


def test_pv_production_peaks_around_local_noon_after_the_clock_change(weather, calendar):
    production = profiles.pv_production_wh(power_kw=Decimal("1"), weather=weather)

    july = calendar.month == 7
    by_local_hour = np.bincount(calendar.local_hour[july], weights=production[july], minlength=24)

    assert int(np.argmax(by_local_hour)) in (12, 13, 14)


def test_pv_production_is_zero_before_entry_into_service(weather, calendar):
    entry = date(2025, 2, 20)

    production = profiles.pv_production_wh(
        power_kw=Decimal("150"), weather=weather, entry_into_service_date=entry
    )

    first = calendar.first_bucket_of(entry)
    assert production[:first].sum() == 0
    assert production[first : first + 24].sum() > 0
    assert calendar.hour_starts_utc[first] == np.datetime64("2025-02-19T23:00:00")


def test_pv_production_scales_with_peak_power(weather):
    small = profiles.pv_production_wh(power_kw=Decimal("10"), weather=weather)
    large = profiles.pv_production_wh(power_kw=Decimal("100"), weather=weather)

    assert abs(int(large.sum()) - 10 * int(small.sum())) <= large.size


def test_winter_produces_much_less_than_summer(weather, calendar):
    production = profiles.pv_production_wh(power_kw=Decimal("1"), weather=weather)

    december = production[calendar.month == 12].sum()
    july = production[calendar.month == 7].sum()

    assert december < 0.4 * july


# --------------------------------------------------------------------------- netting at the meter


def test_meter_split_without_storage_balances_hour_by_hour(weather):
    production = profiles.pv_production_wh(power_kw=Decimal("6"), weather=weather)
    consumption = profiles.household_withdrawal_wh(year=2025, annual_kwh=3500, seed=3)

    injected, withdrawn = profiles.split_at_meter(
        year=2025, production_wh=production, consumption_wh=consumption
    )

    assert np.array_equal(production - injected, consumption - withdrawn)
    assert injected.min() >= 0
    assert withdrawn.min() >= 0
    assert not np.any((injected > 0) & (withdrawn > 0))


def test_a_battery_reduces_both_injection_and_withdrawal_without_creating_energy(weather):
    production = profiles.pv_production_wh(power_kw=Decimal("19.8"), weather=weather)
    consumption = profiles.parish_withdrawal_wh(year=2025, annual_kwh=16_000, seed=4)
    plain_injected, plain_withdrawn = profiles.split_at_meter(
        year=2025, production_wh=production, consumption_wh=consumption
    )

    injected, withdrawn = profiles.split_at_meter(
        year=2025,
        production_wh=production,
        consumption_wh=consumption,
        storage_power_kw=Decimal("5"),
        storage_capacity_kwh=Decimal("10"),
    )

    charged = plain_injected - injected
    discharged = plain_withdrawn - withdrawn
    assert charged.min() >= 0
    assert discharged.min() >= 0
    assert charged.max() <= 5000
    assert discharged.max() <= 5000
    assert discharged.sum() <= charged.sum() * 0.9
    assert discharged.sum() > 0.5 * charged.sum() * 0.9
    assert not np.any((injected > 0) & (withdrawn > 0))


# --------------------------------------------------------------------------- loads


@pytest.mark.parametrize("annual_kwh", [1800, 3000, 4500])
def test_household_consumption_sums_exactly_to_the_annual_figure(annual_kwh):
    consumption = profiles.household_withdrawal_wh(
        year=2025,
        annual_kwh=annual_kwh,
        seed=[2025, 9],
        has_air_conditioning=True,
        away_in_august=True,
        contracted_power_kw=Decimal("3"),
    )

    assert consumption.dtype == np.int64
    assert consumption.size == 8760
    assert consumption.sum() == annual_kwh * 1000
    assert consumption.min() >= 0
    assert consumption.max() < 3000


def test_household_evening_peak_exceeds_night_base_load(calendar):
    consumption = profiles.household_withdrawal_wh(year=2025, annual_kwh=3000, seed=5)

    by_hour = np.bincount(calendar.local_hour, weights=consumption, minlength=24)

    assert by_hour[20] > 2.5 * by_hour[3]
    assert by_hour[8] > by_hour[3]


def test_air_conditioning_raises_july_afternoons(calendar):
    without = profiles.household_withdrawal_wh(year=2025, annual_kwh=3000, seed=6)
    with_ac = profiles.household_withdrawal_wh(
        year=2025, annual_kwh=3000, seed=6, has_air_conditioning=True
    )

    afternoon = (calendar.month == 7) & (calendar.local_hour >= 13) & (calendar.local_hour <= 19)

    assert with_ac[afternoon].sum() > 1.5 * without[afternoon].sum()


def test_winter_household_consumption_exceeds_spring(calendar):
    consumption = profiles.household_withdrawal_wh(year=2025, annual_kwh=3000, seed=8)

    january = consumption[calendar.month == 1].sum()
    may = consumption[calendar.month == 5].sum()

    assert january > 1.15 * may


def test_sme_withdrawal_on_sundays_is_far_below_weekdays(calendar):
    consumption = profiles.sme_withdrawal_wh(
        year=2025, annual_kwh=150_000, schedule=profiles.METALWORK, seed=1
    )

    sunday = consumption[calendar.weekday == 6].mean()
    weekday = consumption[(calendar.weekday < 5) & ~calendar.is_public_holiday].mean()

    assert sunday < 0.25 * weekday


def test_workshop_opens_at_seven_local_time_in_winter_and_in_summer(calendar):
    consumption = profiles.sme_withdrawal_wh(
        year=2025, annual_kwh=150_000, schedule=profiles.METALWORK, seed=2
    )
    working = (calendar.weekday < 5) & ~calendar.is_public_holiday

    for month in (1, 7):
        days = working & (calendar.month == month)
        before = consumption[days & (calendar.local_hour == 6)].mean()
        after = consumption[days & (calendar.local_hour == 8)].mean()
        assert after > 5 * before


def test_sme_closes_on_easter_monday_and_for_the_august_break(calendar):
    consumption = profiles.sme_withdrawal_wh(
        year=2025, annual_kwh=150_000, schedule=profiles.METALWORK, seed=3
    )
    mondays = (calendar.weekday == 0) & ~calendar.is_public_holiday & (calendar.month == 5)
    easter_monday = _local_day_mask(calendar, date(2025, 4, 21), date(2025, 4, 21))
    ferragosto_week = _local_day_mask(calendar, date(2025, 8, 11), date(2025, 8, 14))

    ordinary_day = consumption[mondays].sum() / mondays.sum() * 24

    assert consumption[easter_monday].sum() < 0.25 * ordinary_day
    assert consumption[ferragosto_week].sum() < 0.25 * 4 * ordinary_day


def test_bakery_ovens_run_before_dawn_and_on_saturday_mornings(calendar):
    consumption = profiles.sme_withdrawal_wh(
        year=2025, annual_kwh=62_000, schedule=profiles.BAKERY, seed=4
    )
    open_day = ~calendar.is_public_holiday & (calendar.month == 3)

    weekday_4am = consumption[open_day & (calendar.weekday < 5) & (calendar.local_hour == 4)]
    weekday_10pm = consumption[open_day & (calendar.weekday < 5) & (calendar.local_hour == 22)]
    saturday_5am = consumption[open_day & (calendar.weekday == 5) & (calendar.local_hour == 5)]
    sunday_5am = consumption[open_day & (calendar.weekday == 6) & (calendar.local_hour == 5)]

    assert weekday_4am.mean() > 4 * weekday_10pm.mean()
    assert saturday_5am.mean() > 4 * sunday_5am.mean()


def test_school_draws_far_less_in_the_summer_break_than_during_lessons(calendar):
    consumption = profiles.public_building_withdrawal_wh(year=2025, annual_kwh=58_000, seed=5)
    working = (calendar.weekday < 5) & ~calendar.is_public_holiday
    mornings = working & (calendar.local_hour >= 9) & (calendar.local_hour < 12)

    march = consumption[mornings & (calendar.month == 3)].mean()
    july = consumption[mornings & (calendar.month == 7)].mean()

    assert july < 0.6 * march


def test_parish_peaks_on_sunday_morning(calendar):
    consumption = profiles.parish_withdrawal_wh(year=2025, annual_kwh=16_000, seed=6)
    ten_am = calendar.local_hour == 10
    autumn = calendar.month >= 9

    sunday = consumption[ten_am & autumn & (calendar.weekday == 6)].mean()
    wednesday = consumption[ten_am & autumn & (calendar.weekday == 2)].mean()

    assert sunday > 2.5 * wednesday


# --------------------------------------------------------------------------- prices


def test_synthetic_prices_are_integer_cents_with_a_plausible_level(demo, calendar):
    prices = demo.price_cent_per_mwh

    assert demo.prices_are_synthetic is True
    assert prices.dtype == np.int64
    assert prices.size == 8760
    assert prices.min() >= 0
    assert 10_000 <= prices.mean() <= 13_000


def test_synthetic_prices_peak_in_the_evening_and_dip_at_midday(demo, calendar):
    prices = demo.price_cent_per_mwh
    weekdays = (calendar.weekday < 5) & (calendar.month >= 4) & (calendar.month <= 9)

    evening = prices[weekdays & (calendar.local_hour == 20)].mean()
    noon = prices[weekdays & (calendar.local_hour == 13)].mean()

    assert evening > 1.3 * noon


def test_near_zero_prices_happen_only_on_spring_rest_days(demo, calendar):
    prices = demo.price_cent_per_mwh

    near_zero = prices < 1_000
    spring_rest = calendar.is_rest_day() & (calendar.month >= 3) & (calendar.month <= 6)

    assert near_zero.any()
    assert not np.any(near_zero & ~spring_rest)


# --------------------------------------------------------------------------- the community


def test_every_series_has_one_non_negative_int64_value_per_hour(demo):
    series = [
        *demo.injected_wh.values(),
        *demo.withdrawn_wh.values(),
        *demo.consumption_wh.values(),
        *demo.production_wh.values(),
    ]

    assert demo.bucket_count == 8760
    assert demo.start_at == datetime(2024, 12, 31, 23, tzinfo=UTC)
    for values in series:
        assert values.dtype == np.int64
        assert values.shape == (8760,)
        assert values.min() >= 0
        assert not values.flags.writeable


def test_every_connection_point_has_readings(demo):
    pods = {point.pod for point in demo.roster.connection_points}

    assert set(demo.injected_wh) == pods
    assert set(demo.withdrawn_wh) == pods


def test_meter_readings_are_zero_before_a_plant_enters_service(demo, calendar):
    for plant in demo.roster.plants:
        first = calendar.first_bucket_of(plant.entry_into_service_date)

        assert demo.production_wh[plant.key][:first].sum() == 0
        assert demo.injected_wh[plant.pod][:first].sum() == 0


def test_plants_in_service_all_year_yield_a_plausible_amount(demo):
    for plant in demo.roster.plants:
        if plant.entry_into_service_date > date(2025, 1, 1):
            continue

        kwh_per_kwp = demo.production_wh[plant.key].sum() / 1000 / float(plant.power_kw)

        assert 1050 <= kwh_per_kwp <= 1450


def test_withdrawal_never_exceeds_contracted_power(demo):
    for point in demo.roster.connection_points:
        limit_wh = int(point.contracted_power_kw * 1000)

        assert demo.withdrawn_wh[point.pod].max() <= limit_wh


def test_community_shares_a_meaningful_part_of_its_injection(demo):
    injected = demo.total_injected_wh()
    withdrawn = demo.total_withdrawn_wh()

    shared = np.minimum(injected, withdrawn).sum()

    assert 0.15 * injected.sum() < shared < injected.sum()


def test_same_seed_gives_identical_arrays(demo):
    again = build_demo(2025)

    assert again.roster == demo.roster
    assert np.array_equal(again.price_cent_per_mwh, demo.price_cent_per_mwh)
    for pod, values in demo.injected_wh.items():
        assert np.array_equal(again.injected_wh[pod], values)
        assert np.array_equal(again.withdrawn_wh[pod], demo.withdrawn_wh[pod])


def test_different_seed_gives_different_arrays(demo):
    other = build_demo(2026)

    assert not np.array_equal(other.price_cent_per_mwh, demo.price_cent_per_mwh)
    assert not np.array_equal(other.total_withdrawn_wh(), demo.total_withdrawn_wh())
    assert not np.array_equal(other.production_wh["pv-school"], demo.production_wh["pv-school"])
