"""Synthetic hourly series for the demo community: weather, PV, loads and prices.

Every series is an ``int64`` NumPy array of watt-hours (or cent/MWh for prices)
indexed by UTC hour bucket: element ``i`` covers ``[start + i h, start + (i+1) h)``
where ``start`` is local midnight of 1 January in Europe/Rome. Daily and weekly
shapes are written in local (Europe/Rome) hours and looked up through
:class:`LocalCalendar`, so the 23-hour day in March and the 25-hour day in
October shift them exactly as a real meter would see them.

Production follows pvlib's Ineichen clear-sky model with fixed monthly Linke
turbidity values (nothing is downloaded), transposed to the module plane and
dimmed by a seeded day-by-day weather chain. Loads are normalised shapes scaled
so that a year sums exactly to the requested consumption. All randomness comes
from ``numpy.random.default_rng(seed)``: the same seed gives the same arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib

from cercalc import periods
from cercalc.periods import ROME
from cercalc.profiles import easter_sunday, italian_public_holidays

# The demo site: Spinea (VE), a few metres above sea level.
SITE_LATITUDE_DEG = 45.49
SITE_LONGITUDE_DEG = 12.16
SITE_ALTITUDE_M = 8

Seed = int | Sequence[int]

# Monthly Linke turbidity for the Venetian plain, Jan..Dec: hazier in summer.
# Fixed values stand in for pvlib's gridded climatology, which would need a
# data file that this offline generator must not fetch.
_LINKE_TURBIDITY_BY_MONTH = np.array(
    [3.0, 3.2, 3.5, 3.7, 3.8, 3.9, 3.9, 3.8, 3.5, 3.3, 3.1, 3.0], dtype=np.float64
)

# Mean daytime air temperature [°C] by month, Jan..Dec, Venice mainland; used
# only for the module temperature loss.
_DAYTIME_AIR_TEMPERATURE_C = np.array(
    [6.0, 8.0, 12.0, 16.0, 21.0, 25.0, 28.0, 27.0, 23.0, 17.0, 11.0, 7.0], dtype=np.float64
)

# Weather states of one day.
CLEAR, PARTLY_CLOUDY, OVERCAST = 0, 1, 2

# Probability of clear / partly cloudy / overcast by month, Jan..Dec. The Po
# valley is foggy and grey from November to February and mostly clear in July.
_WEATHER_STATE_PROBABILITY = np.array(
    [
        [0.34, 0.30, 0.36],
        [0.38, 0.32, 0.30],
        [0.40, 0.35, 0.25],
        [0.38, 0.40, 0.22],
        [0.44, 0.40, 0.16],
        [0.56, 0.33, 0.11],
        [0.66, 0.27, 0.07],
        [0.60, 0.30, 0.10],
        [0.50, 0.34, 0.16],
        [0.38, 0.32, 0.30],
        [0.27, 0.30, 0.43],
        [0.30, 0.30, 0.40],
    ],
    dtype=np.float64,
)

# Chance that a day simply repeats yesterday's weather: Veneto weather comes
# in spells (anticyclones, fog weeks), not as independent coin tosses.
_WEATHER_PERSISTENCE = 0.55

# Daily clearness (fraction of clear-sky irradiance) drawn uniformly per state.
_CLEARNESS_RANGE = np.array([[0.88, 1.00], [0.45, 0.80], [0.10, 0.30]], dtype=np.float64)
# Spread of the hour-to-hour cloud noise per state.
_HOURLY_CLOUD_SIGMA = np.array([0.03, 0.30, 0.25], dtype=np.float64)

# Sub-samples per hour for the irradiance average: one sample at mid-hour
# would miss the first minutes of daylight at sunrise and sunset.
_SAMPLES_PER_HOUR = 4


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class LocalCalendar:
    """Europe/Rome calendar features of every UTC hour bucket of one year.

    ``local_hour`` is the wall-clock hour 0–23 (the repeated October hour
    appears twice), ``weekday`` counts Monday as 0, ``day_index`` numbers the
    local days 0..364 (or 365), ``month`` is 1–12 and ``is_public_holiday``
    marks the Italian national holidays (Sundays are not included).
    """

    year: int
    start_at: datetime
    hour_starts_utc: np.ndarray
    local_hour: np.ndarray
    weekday: np.ndarray
    day_index: np.ndarray
    month: np.ndarray
    day_of_year: np.ndarray
    is_public_holiday: np.ndarray
    local_dates: tuple[date, ...]

    @property
    def size(self) -> int:
        """Return the number of hourly buckets in the year."""
        return int(self.hour_starts_utc.size)

    def first_bucket_of(self, day: date) -> int:
        """Return the index of the first bucket of a local day (clamped to the year)."""
        if day <= self.local_dates[0]:
            return 0
        if day > self.local_dates[-1]:
            return self.size
        return int(np.searchsorted(self.day_index, self.local_dates.index(day)))

    def is_rest_day(self) -> np.ndarray:
        """Return a boolean mask of buckets on Sundays or public holidays."""
        return (self.weekday == 6) | self.is_public_holiday


def hour_starts_utc(year: int) -> np.ndarray:
    """Return the UTC start of every hourly bucket of a Europe/Rome calendar year.

    The result is a ``datetime64[s]`` array running from local midnight of
    1 January to the last hour before local midnight of the next 1 January:
    8,760 buckets, or 8,784 in a leap year.
    """
    return local_calendar(year).hour_starts_utc


@lru_cache(maxsize=4)
def local_calendar(year: int) -> LocalCalendar:
    """Return the :class:`LocalCalendar` of ``year``; arrays are read-only and shared."""
    start_at, end_at = periods.year(year).utc_bounds()
    size = int((end_at - start_at) // timedelta(hours=1))
    starts = pd.date_range(start_at, periods=size, freq="h")
    local = starts.tz_convert(ROME)
    local_day = local.normalize().tz_localize(None).to_numpy().astype("datetime64[D]")
    day_values, day_index = np.unique(local_day, return_inverse=True)
    local_dates = tuple(day.item() for day in day_values)
    holidays = italian_public_holidays(year)
    holiday_by_day = np.array([day in holidays for day in local_dates], dtype=bool)
    calendar = LocalCalendar(
        year=year,
        start_at=start_at,
        hour_starts_utc=starts.tz_localize(None).to_numpy().astype("datetime64[s]"),
        local_hour=local.hour.to_numpy().astype(np.int64),
        weekday=local.day_of_week.to_numpy().astype(np.int64),
        day_index=day_index.astype(np.int64),
        month=local.month.to_numpy().astype(np.int64),
        day_of_year=local.day_of_year.to_numpy().astype(np.int64),
        is_public_holiday=holiday_by_day[day_index],
        local_dates=local_dates,
    )
    for value in vars(calendar).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return calendar


def _day_mask(calendar: LocalCalendar, days: Sequence[date] | frozenset[date]) -> np.ndarray:
    """Return a per-bucket mask for the given local days."""
    wanted = set(days)
    by_day = np.array([day in wanted for day in calendar.local_dates], dtype=bool)
    return by_day[calendar.day_index]


def _date_range_mask(calendar: LocalCalendar, first: date, last: date) -> np.ndarray:
    """Return a per-bucket mask for local days in ``[first, last]`` (both inclusive)."""
    by_day = np.array([first <= day <= last for day in calendar.local_dates], dtype=bool)
    return by_day[calendar.day_index]


# --------------------------------------------------------------------------- weather


@dataclass(frozen=True)
class Weather:
    """A seeded weather year for the site.

    ``state_by_day`` holds CLEAR / PARTLY_CLOUDY / OVERCAST per local day;
    ``clearness_by_hour`` is the fraction [1] of clear-sky irradiance reaching
    the ground in each bucket. All plants of the community share it: they are a
    few kilometres apart and see the same clouds.
    """

    year: int
    state_by_day: np.ndarray
    clearness_by_hour: np.ndarray


def simulate_weather(*, year: int, seed: Seed) -> Weather:
    """Draw a weather year: a persistent day-state chain and hourly clearness [1]."""
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    days = len(calendar.local_dates)
    month_by_day = np.array([day.month for day in calendar.local_dates]) - 1

    # A Markov chain that keeps yesterday's state with a fixed probability and
    # otherwise draws afresh from the month's climatology, computed without a
    # loop: each day copies the state of the latest "fresh draw" day.
    cumulative = np.cumsum(_WEATHER_STATE_PROBABILITY[month_by_day], axis=1)
    fresh_state = (rng.random(days)[:, None] > cumulative).sum(axis=1)
    keeps = rng.random(days) < _WEATHER_PERSISTENCE
    keeps[0] = False
    last_fresh = np.maximum.accumulate(np.where(keeps, 0, np.arange(days)))
    state_by_day = fresh_state[last_fresh].astype(np.int64)

    low, high = _CLEARNESS_RANGE[state_by_day].T
    clearness_by_day = low + (high - low) * rng.random(days)

    state_by_hour = state_by_day[calendar.day_index]
    noise = rng.normal(1.0, _HOURLY_CLOUD_SIGMA[state_by_hour])
    # Broken clouds can briefly lift irradiance above clear sky (edge effect),
    # hence the upper bound slightly above 1.
    clearness_by_hour = np.clip(clearness_by_day[calendar.day_index] * noise, 0.03, 1.05)
    state_by_day.setflags(write=False)
    clearness_by_hour.setflags(write=False)
    return Weather(year=year, state_by_day=state_by_day, clearness_by_hour=clearness_by_hour)


# --------------------------------------------------------------------------- photovoltaics


@lru_cache(maxsize=4)
def _clear_sky(year: int) -> pd.DataFrame:
    """Return sub-hourly solar position and Ineichen clear-sky irradiance [W/m²]."""
    calendar = local_calendar(year)
    offsets_min = (np.arange(_SAMPLES_PER_HOUR) + 0.5) * (60 / _SAMPLES_PER_HOUR)
    minutes = (np.arange(calendar.size)[:, None] * 60 + offsets_min[None, :]).ravel()
    times = pd.DatetimeIndex(pd.Timestamp(calendar.start_at) + pd.to_timedelta(minutes, "min"))
    site = pvlib.location.Location(
        SITE_LATITUDE_DEG, SITE_LONGITUDE_DEG, tz="UTC", altitude=SITE_ALTITUDE_M
    )
    position = site.get_solarposition(times)
    month = np.repeat(calendar.month, _SAMPLES_PER_HOUR)
    sky = site.get_clearsky(
        times,
        model="ineichen",
        linke_turbidity=_LINKE_TURBIDITY_BY_MONTH[month - 1],
        solar_position=position,
    )
    return pd.concat([position[["apparent_zenith", "azimuth"]], sky], axis=1)


@lru_cache(maxsize=16)
def _clear_sky_poa(year: int, tilt_deg: float, azimuth_deg: float) -> np.ndarray:
    """Return hourly mean clear-sky irradiance on the module plane [W/m²]."""
    sky = _clear_sky(year)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=tilt_deg,
        surface_azimuth=azimuth_deg,
        solar_zenith=sky["apparent_zenith"],
        solar_azimuth=sky["azimuth"],
        dni=sky["dni"],
        ghi=sky["ghi"],
        dhi=sky["dhi"],
        albedo=0.2,
    )["poa_global"].to_numpy()
    # The sun below the horizon gives no energy, whatever the model's rounding.
    poa = np.where(sky["apparent_zenith"].to_numpy() < 90.0, np.nan_to_num(poa), 0.0)
    hourly = poa.reshape(-1, _SAMPLES_PER_HOUR).mean(axis=1).clip(min=0.0)
    hourly.setflags(write=False)
    return hourly


def clear_sky_ghi(year: int) -> np.ndarray:
    """Return hourly mean clear-sky global horizontal irradiance at the site [W/m²]."""
    ghi = _clear_sky(year)["ghi"].to_numpy()
    return ghi.reshape(-1, _SAMPLES_PER_HOUR).mean(axis=1)


def pv_production_wh(
    *,
    power_kw: Decimal | float,
    weather: Weather,
    tilt_deg: float = 30.0,
    azimuth_deg: float = 180.0,
    performance_ratio: float = 0.86,
    entry_into_service_date: date | None = None,
) -> np.ndarray:
    """Return the hourly AC production of a PV plant [Wh].

    power_kw: peak DC power [kWp]. tilt_deg / azimuth_deg: module plane [°],
    azimuth 180 = south. performance_ratio: system losses before the
    temperature loss [1]. entry_into_service_date: local day the plant starts
    producing; every earlier bucket is zero. The yearly yield for the Venetian
    plain comes out around 1,100–1,350 kWh/kWp.
    """
    calendar = local_calendar(weather.year)
    poa = _clear_sky_poa(weather.year, float(tilt_deg), float(azimuth_deg))
    irradiance = poa * weather.clearness_by_hour
    # Cell temperature from a NOCT-like rise of 30 °C at 1000 W/m², and the
    # usual crystalline-silicon loss of 0.4 %/°C above 25 °C.
    cell_c = _DAYTIME_AIR_TEMPERATURE_C[calendar.month - 1] + 0.03 * irradiance
    temperature_factor = 1.0 - 0.004 * (cell_c - 25.0)
    watts_per_kwp = irradiance * performance_ratio * temperature_factor
    production = np.rint(watts_per_kwp * float(power_kw)).astype(np.int64)
    if entry_into_service_date is not None:
        production[: calendar.first_bucket_of(entry_into_service_date)] = 0
    return np.maximum(production, 0)


def split_at_meter(
    *,
    year: int,
    production_wh: np.ndarray,
    consumption_wh: np.ndarray,
    storage_power_kw: Decimal | float = 0,
    storage_capacity_kwh: Decimal | float = 0,
    round_trip_efficiency_pct: int = 90,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(injected_wh, withdrawn_wh)`` measured at a prosumer's grid meter [Wh].

    Without storage: injected = max(0, production − consumption) and
    withdrawn = max(0, consumption − production), hour by hour. A battery
    [kW, kWh] charges from the surplus and, once the day's last surplus hour
    has passed, covers the evening and night deficit until 04:00 local time;
    round_trip_efficiency_pct [%] is lost on the way. The day-by-day rule keeps
    the computation vectorised; a battery left with energy at 04:00 simply
    starts the next day from empty, which slightly understates its benefit.
    """
    production = np.asarray(production_wh, dtype=np.int64)
    consumption = np.asarray(consumption_wh, dtype=np.int64)
    surplus = np.maximum(production - consumption, 0)
    deficit = np.maximum(consumption - production, 0)
    capacity_wh = int(Decimal(str(storage_capacity_kwh)) * 1000)
    power_wh = int(Decimal(str(storage_power_kw)) * 1000)
    if capacity_wh <= 0 or power_wh <= 0:
        return surplus, deficit

    calendar = local_calendar(year)
    # Battery days run 04:00 to 04:00 local time, so one evening's discharge
    # and the following night belong to the day that charged the battery.
    window = calendar.day_index - (calendar.local_hour < 4)
    starts = np.flatnonzero(np.r_[True, np.diff(window) != 0])
    lengths = np.diff(np.r_[starts, window.size])

    charge_offer = np.minimum(surplus, power_wh)
    charged_cumulative = np.minimum(_group_cumsum(charge_offer, starts, lengths), capacity_wh)
    charged = np.diff(charged_cumulative, prepend=0)
    charged[starts] = charged_cumulative[starts]
    stored_total = charged_cumulative[np.r_[starts[1:], window.size] - 1]
    usable_total = stored_total * round_trip_efficiency_pct // 100

    positions = np.arange(window.size)
    last_surplus = np.maximum.reduceat(np.where(charge_offer > 0, positions, -1), starts)
    eligible = positions > np.repeat(last_surplus, lengths)
    discharge_offer = np.where(eligible, np.minimum(deficit, power_wh), 0)
    served_cumulative = np.minimum(
        _group_cumsum(discharge_offer, starts, lengths), np.repeat(usable_total, lengths)
    )
    served = np.diff(served_cumulative, prepend=0)
    served[starts] = served_cumulative[starts]
    return surplus - charged, deficit - served


def _group_cumsum(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return the running sum of ``values`` restarted at every index in ``starts``."""
    total = np.cumsum(values)
    before = total[starts] - values[starts]
    return total - np.repeat(before, lengths)


# --------------------------------------------------------------------------- loads


def _scale_to_wh(weights: np.ndarray, total_wh: int, cap_wh: int | None = None) -> np.ndarray:
    """Scale non-negative weights to integers summing exactly to ``total_wh``.

    Rounding hands out the leftover watt-hours by largest remainder, so a
    yearly total asked for is the yearly total delivered. ``cap_wh`` bounds
    each hour (the contracted power) by spreading the excess over the others.
    """
    weights = np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    scaled = weights * (total_wh / weights.sum())
    if cap_wh is not None:
        limit = cap_wh - 1.0
        for _ in range(8):
            over = scaled > limit
            if not over.any():
                break
            excess = (scaled[over] - limit).sum()
            scaled[over] = limit
            free = ~over & (scaled < limit)
            scaled[free] += excess * scaled[free] / scaled[free].sum()
    floor = np.floor(scaled).astype(np.int64)
    missing = int(total_wh - floor.sum())
    if missing > 0:
        remainders = scaled - floor
        floor[np.argpartition(-remainders, missing)[:missing]] += 1
    return floor


def _shape(values_by_hour: Sequence[float]) -> np.ndarray:
    """Return a 24-element float array of a daily shape in local hours."""
    shape = np.asarray(values_by_hour, dtype=np.float64)
    if shape.shape != (24,):
        raise ValueError("a daily shape needs 24 hourly values")
    return shape


def _winter_weight(calendar: LocalCalendar) -> np.ndarray:
    """Return 1 at the winter solstice falling to 0 at the summer solstice [1]."""
    return 0.5 * (1.0 + np.cos(2.0 * np.pi * (calendar.day_of_year + 10) / 365.25))


def _summer_heat(calendar: LocalCalendar) -> np.ndarray:
    """Return a bell of heat centred on late July (1 at its peak) [1]."""
    return np.exp(-0.5 * ((calendar.day_of_year - 205) / 22.0) ** 2)


def _noise(rng: np.random.Generator, calendar: LocalCalendar, hourly_sigma: float) -> np.ndarray:
    """Return multiplicative log-normal noise: a day-level term times an hour-level term."""
    days = len(calendar.local_dates)
    daily = rng.lognormal(0.0, 0.12, days)[calendar.day_index]
    hourly = rng.lognormal(0.0, hourly_sigma, calendar.size)
    return daily * hourly


_HOUSEHOLD_WORKDAY = _shape(
    [0.35, 0.30, 0.28, 0.28, 0.28, 0.30, 0.45, 0.90, 0.85, 0.60, 0.50, 0.50,
     0.70, 0.75, 0.55, 0.50, 0.50, 0.65, 0.95, 1.25, 1.35, 1.15, 0.85, 0.55]
)  # fmt: skip
_HOUSEHOLD_REST_DAY = _shape(
    [0.42, 0.34, 0.30, 0.28, 0.28, 0.28, 0.30, 0.45, 0.65, 0.90, 1.00, 1.05,
     1.20, 1.15, 0.80, 0.70, 0.70, 0.80, 1.00, 1.25, 1.30, 1.15, 0.90, 0.60]
)  # fmt: skip


def household_withdrawal_wh(
    *,
    year: int,
    annual_kwh: int,
    seed: Seed,
    has_air_conditioning: bool = False,
    away_in_august: bool = False,
    contracted_power_kw: Decimal | float | None = None,
) -> np.ndarray:
    """Return the hourly consumption of a household [Wh] summing to ``annual_kwh`` [kWh].

    Workdays peak at breakfast (7–9) and in the evening (18–22) over a night
    base load; Sundays and holidays start later with a midday lunch peak.
    Winter evenings add lighting; with air conditioning, July and August
    afternoons add cooling. A household away in August keeps only its fridge
    and standby load for about two weeks. contracted_power_kw [kW] caps every
    hour.
    """
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    # Each household has its own rhythm: shift its day by up to an hour.
    shift = int(rng.integers(-1, 2))
    workday = np.roll(_HOUSEHOLD_WORKDAY, shift)
    rest_day = np.roll(_HOUSEHOLD_REST_DAY, shift)
    hour = calendar.local_hour
    # Half of the households spend Saturday at home like a Sunday.
    saturday_off = bool(rng.random() < 0.5)
    rest = calendar.is_rest_day() | ((calendar.weekday == 5) & saturday_off)
    weights = np.where(rest, rest_day[hour], workday[hour])

    winter = _winter_weight(calendar)
    evening = (hour >= 16) & (hour <= 22)
    early = (hour >= 6) & (hour <= 8)
    weights = weights * (0.92 + 0.16 * winter)
    weights = weights + 0.40 * winter * evening + 0.20 * winter * early
    if has_air_conditioning:
        afternoon = (hour >= 13) & (hour <= 19)
        night = (hour >= 20) & (hour <= 23)
        weights = weights + _summer_heat(calendar) * (1.3 * afternoon + 0.6 * night)
    if away_in_august:
        first = date(year, 8, 1) + timedelta(days=int(rng.integers(0, 15)))
        last = first + timedelta(days=int(rng.integers(9, 16)))
        weights = np.where(_date_range_mask(calendar, first, last), 0.22, weights)

    weights = weights * _noise(rng, calendar, 0.30)
    cap = None if contracted_power_kw is None else int(Decimal(str(contracted_power_kw)) * 1000)
    return _scale_to_wh(weights, annual_kwh * 1000, cap)


@dataclass(frozen=True)
class OpeningSchedule:
    """When a business draws power, in local hours.

    ``weekday_levels`` holds seven 24-hour shapes (Monday first) relative to
    full activity; ``standby_level`` is the floor that stays on when closed
    (refrigeration, alarms, servers); the closures are inclusive
    ``((month, day), (month, day))`` ranges repeated every year, and public
    holidays close the business when ``closed_on_public_holidays``.
    """

    name: str
    weekday_levels: tuple[tuple[float, ...], ...]
    standby_level: float
    closures: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()
    closed_on_public_holidays: bool = True


def _day_levels(spans: Sequence[tuple[int, int, float]]) -> tuple[float, ...]:
    """Return a 24-hour shape from ``(first_hour, end_hour, level)`` spans (end exclusive)."""
    levels = [0.0] * 24
    for first, end, level in spans:
        for hour in range(first, end):
            levels[hour] = level
    return tuple(levels)


_CLOSED = _day_levels([])

BAKERY = OpeningSchedule(
    name="bakery",
    weekday_levels=(
        # Ovens fire from 03:00; the shop stays open with a lunch break.
        *[_day_levels([(3, 7, 1.0), (7, 11, 0.7), (11, 13, 0.5), (15, 19, 0.35)])] * 5,
        _day_levels([(3, 7, 1.0), (7, 11, 0.75), (11, 13, 0.5)]),
        _CLOSED,
    ),
    standby_level=0.12,
    closures=(((8, 11), (8, 24)),),
)

METALWORK = OpeningSchedule(
    name="metalwork",
    weekday_levels=(
        *[_day_levels([(7, 12, 1.0), (12, 13, 0.45), (13, 17, 1.0), (17, 18, 0.6)])] * 5,
        _CLOSED,
        _CLOSED,
    ),
    standby_level=0.06,
    # Two weeks around Ferragosto and the Christmas break, as most small
    # manufacturers in the area do.
    closures=(((8, 4), (8, 22)), ((12, 24), (12, 31)), ((1, 1), (1, 6))),
)

ASSOCIATION_SEAT = OpeningSchedule(
    name="association seat",
    weekday_levels=(
        *[_day_levels([(9, 12, 0.3), (15, 18, 0.6), (18, 22, 0.9)])] * 5,
        _day_levels([(9, 13, 0.6)]),
        _CLOSED,
    ),
    standby_level=0.10,
    closures=(((8, 1), (8, 31)),),
)


def sme_withdrawal_wh(
    *,
    year: int,
    annual_kwh: int,
    schedule: OpeningSchedule,
    seed: Seed,
    contracted_power_kw: Decimal | float | None = None,
) -> np.ndarray:
    """Return the hourly consumption of a business open by ``schedule`` [Wh].

    The year sums exactly to annual_kwh [kWh]; the shape follows the local
    opening hours, drops to the standby level on Sundays, public holidays and
    the schedule's closures (the August break), and carries moderate noise.
    contracted_power_kw [kW] caps every hour.
    """
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    levels = np.array(schedule.weekday_levels, dtype=np.float64)
    weights = levels[calendar.weekday, calendar.local_hour]
    closed = np.zeros(calendar.size, dtype=bool)
    if schedule.closed_on_public_holidays:
        closed |= calendar.is_public_holiday
    for (first_month, first_day), (last_month, last_day) in schedule.closures:
        closed |= _date_range_mask(
            calendar, date(year, first_month, first_day), date(year, last_month, last_day)
        )
    weights = np.where(closed, 0.0, weights)
    weights = np.maximum(weights, schedule.standby_level)
    # Heating and cooling of the premises: a little more in deep winter and summer.
    weights = weights * (1.0 + 0.10 * _winter_weight(calendar) + 0.10 * _summer_heat(calendar))
    weights = weights * _noise(rng, calendar, 0.10)
    cap = None if contracted_power_kw is None else int(Decimal(str(contracted_power_kw)) * 1000)
    return _scale_to_wh(weights, annual_kwh * 1000, cap)


def school_holidays(year: int) -> frozenset[date]:
    """Return the days without lessons in a Veneto-like school calendar for ``year``.

    Approximates the regional calendar: summer break from the second Saturday
    of June to 10 September, Christmas from 23 December to 6 January,
    Carnival (Monday to Ash Wednesday) and Easter (Thursday before to Tuesday
    after), plus the national holidays.
    """
    easter = easter_sunday(year)
    june_first = date(year, 6, 1)
    second_saturday = june_first + timedelta(days=(5 - june_first.weekday()) % 7 + 7)
    spans = [
        (date(year, 1, 1), date(year, 1, 6)),
        (easter - timedelta(days=48), easter - timedelta(days=46)),
        (easter - timedelta(days=3), easter + timedelta(days=2)),
        (second_saturday, date(year, 9, 10)),
        (date(year, 12, 23), date(year, 12, 31)),
    ]
    days = set(italian_public_holidays(year))
    for first, last in spans:
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days)


_SCHOOL_DAY = _day_levels([(6, 7, 0.35), (7, 8, 0.6), (8, 13, 1.0), (13, 16, 0.75), (16, 18, 0.4)])
_OFFICE_DAY = _day_levels([(7, 8, 0.25), (8, 13, 0.45), (13, 14, 0.3), (14, 17, 0.35)])


def public_building_withdrawal_wh(
    *,
    year: int,
    annual_kwh: int,
    seed: Seed,
    contracted_power_kw: Decimal | float | None = None,
) -> np.ndarray:
    """Return the hourly consumption of a municipal school with offices [Wh].

    Lessons run Monday to Friday 8–16 outside the school holidays; offices
    keep a lighter load on the other working days, including the summer
    break; nights, weekends and holidays keep only the standby load. Winter
    mornings add the heating circulation pumps. The year sums to annual_kwh [kWh].
    """
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    hour = calendar.local_hour
    working = (calendar.weekday < 5) & ~calendar.is_public_holiday
    lessons = working & ~_day_mask(calendar, school_holidays(year))
    school = np.array(_SCHOOL_DAY)[hour]
    office = np.array(_OFFICE_DAY)[hour]
    weights = np.where(lessons, school, np.where(working, office, 0.0))
    weights = np.maximum(weights, 0.10)
    pumps = (hour >= 5) & (hour <= 16) & working
    weights = weights + 0.25 * _winter_weight(calendar) * pumps
    weights = weights * _noise(rng, calendar, 0.12)
    cap = None if contracted_power_kw is None else int(Decimal(str(contracted_power_kw)) * 1000)
    return _scale_to_wh(weights, annual_kwh * 1000, cap)


_PARISH_SUNDAY = _day_levels(
    [(7, 8, 0.6), (8, 12, 1.0), (12, 13, 0.5), (15, 18, 0.45), (18, 20, 0.65)]
)
_PARISH_SATURDAY = _day_levels([(8, 9, 0.3), (14, 17, 0.4), (17, 20, 0.8), (20, 22, 0.35)])
_PARISH_WEEKDAY = _day_levels([(8, 9, 0.35), (9, 12, 0.25), (16, 18, 0.3), (18, 22, 0.55)])
_PARISH_BUSY_EVENING = _day_levels([(8, 9, 0.35), (9, 12, 0.25), (16, 18, 0.4), (18, 22, 0.75)])


def parish_withdrawal_wh(
    *,
    year: int,
    annual_kwh: int,
    seed: Seed,
    contracted_power_kw: Decimal | float | None = None,
) -> np.ndarray:
    """Return the hourly consumption of a parish: church, rectory and youth centre [Wh].

    Sunday and holiday mornings peak with the Masses, Saturday evenings with
    the vigil Mass, and weekday evenings with catechism and meetings (busier
    on Tuesday and Thursday). Late June and July weekdays host the summer
    camp; Christmas Eve has its midnight Mass. Winter adds heating fans and
    lighting. The year sums to annual_kwh [kWh].
    """
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    hour = calendar.local_hour
    weekday = calendar.weekday
    shapes = np.array(
        [
            _PARISH_WEEKDAY,
            _PARISH_BUSY_EVENING,
            _PARISH_WEEKDAY,
            _PARISH_BUSY_EVENING,
            _PARISH_WEEKDAY,
            _PARISH_SATURDAY,
            _PARISH_SUNDAY,
        ]
    )
    day_kind = np.where(calendar.is_public_holiday, 6, weekday)
    weights = shapes[day_kind, hour]
    summer_camp = _date_range_mask(calendar, date(year, 6, 16), date(year, 7, 25))
    camp_hours = summer_camp & (weekday < 5) & (hour >= 8) & (hour < 17)
    weights = np.where(camp_hours, np.maximum(weights, 0.6), weights)
    midnight_mass = _day_mask(calendar, [date(year, 12, 24)]) & (hour >= 22)
    weights = np.where(midnight_mass, 1.0, weights)
    weights = np.maximum(weights, 0.08)
    weights = weights * (1.0 + 0.45 * _winter_weight(calendar))
    weights = weights * _noise(rng, calendar, 0.15)
    cap = None if contracted_power_kw is None else int(Decimal(str(contracted_power_kw)) * 1000)
    return _scale_to_wh(weights, annual_kwh * 1000, cap)


def auxiliary_withdrawal_wh(*, year: int, annual_kwh: int, seed: Seed) -> np.ndarray:
    """Return the small hourly consumption of a producer-only connection [Wh].

    Inverter standby, monitoring and a few barn lights: a flat load, a bit
    higher at night and on winter evenings. The year sums to annual_kwh [kWh].
    """
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    hour = calendar.local_hour
    night = (hour < 6) | (hour >= 21)
    evening = (hour >= 17) & (hour < 21)
    weights = 0.8 + 0.4 * night + 0.8 * _winter_weight(calendar) * evening
    weights = weights * _noise(rng, calendar, 0.10)
    return _scale_to_wh(weights, annual_kwh * 1000)


# --------------------------------------------------------------------------- prices

# Synthetic monthly mean of the NORD zonal price [€/MWh], Jan..Dec: gas-driven
# winter highs and a spring trough; after the solar dip and the cheaper
# weekends the yearly mean lands near 115 €/MWh.
_MONTHLY_PRICE_EUR_PER_MWH = np.array(
    [154.0, 162.0, 134.0, 112.0, 106.0, 118.0, 126.0, 121.0, 121.0, 123.0, 132.0, 130.0]
)
# Hourly shape before the solar dip: morning ramp and evening peak.
_PRICE_SHAPE = _shape(
    [0.88, 0.85, 0.83, 0.82, 0.83, 0.88, 0.97, 1.08, 1.12, 1.06, 1.00, 0.97,
     0.95, 0.94, 0.96, 1.00, 1.05, 1.12, 1.22, 1.30, 1.27, 1.15, 1.03, 0.95]
)  # fmt: skip
# How deep solar production cuts the midday price, by month: strongest in
# spring, when demand is low and the sun already strong.
_SOLAR_DIP_DEPTH = np.array(
    [0.08, 0.12, 0.25, 0.40, 0.42, 0.30, 0.25, 0.28, 0.25, 0.18, 0.10, 0.06]
)


def synthetic_zonal_price_cent_per_mwh(*, weather: Weather, seed: Seed) -> np.ndarray:
    """Return a synthetic hourly NORD zonal price [cent/MWh] as exact integers.

    NOT market data: a plausible series for demonstrations only. Monthly
    levels near 2025 values (about 100–130 €/MWh on average), an evening peak,
    a midday dip that deepens with sunshine, cheaper weekends, and near-zero
    hours around noon on clear spring Sundays. Never negative.
    """
    year = weather.year
    calendar = local_calendar(year)
    rng = np.random.default_rng(seed)
    hour = calendar.local_hour
    month = calendar.month - 1
    days = len(calendar.local_dates)

    ghi = clear_sky_ghi(year)
    sun = ghi / ghi.max() * weather.clearness_by_hour
    rest = calendar.is_rest_day()
    dip_depth = _SOLAR_DIP_DEPTH[month] * np.where(rest, 1.6, 1.0)
    relative = _PRICE_SHAPE[hour] - dip_depth * sun
    relative = relative * np.where(rest, 0.86, np.where(calendar.weekday == 5, 0.94, 1.0))

    # Day-to-day drift of fuel prices and demand: a smooth AR(1) built with a
    # one-pole filter over days via cumulative weights, no loop over hours.
    shocks = rng.normal(0.0, 0.05, days)
    phi = 0.8
    powers = phi ** np.arange(days)
    drift = np.convolve(shocks, powers)[:days]
    level = 1.0 + drift[calendar.day_index]
    price = _MONTHLY_PRICE_EUR_PER_MWH[month] * relative * level
    price = price * rng.lognormal(0.0, 0.03, calendar.size)

    # On clear spring Sundays and holidays the solar glut pushes the midday
    # clearing price to almost nothing.
    spring = (calendar.month >= 3) & (calendar.month <= 6)
    clear = weather.state_by_day[calendar.day_index] == CLEAR
    glut = spring & rest & clear & (hour >= 11) & (hour <= 15)
    price = np.where(glut, price * rng.uniform(0.0, 0.12, calendar.size), price)

    return np.maximum(np.rint(price * 100.0), 0).astype(np.int64)
