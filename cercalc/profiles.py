"""Load profiles: the average day of each Europe/Rome month and day type, totals, gap estimates.

The average day of a month and day type holds, for each local hour 0-23, the sum of that hour
over the days where it was read, divided by the number of those days, rounded half up to whole
watt-hours. Days are weekdays (Monday to Friday) or weekend (Saturday, Sunday and the Italian
national public holidays). A missing hour is estimated with the average-day value of its month,
day type and local hour; failing that, of the other day type; failing that, of the year.

Daylight saving time, decided once here:
- the last Sunday of March has no local 02:00, so that hour of the average day simply counts
  one day fewer;
- the last Sunday of October has 02:00 twice (02:00+02:00, then 02:00+01:00): both buckets are
  summed into local hour 2 of that day, which is read only when both buckets are. The average of
  hour 2 in October's weekend therefore holds one two-hour value among its days: the day's energy
  stays whole and the profile keeps 24 values.

Energy is integer Wh (`int64`) in and out. Averages are exact integer divisions rounded half up
(`(2 * sum + days) // (2 * days)`), never floats, so the same readings always give the same
profile on every machine.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from cercalc.buckets import HOUR_S, ROME, local_date_of, local_midnight_utc_s

HOURS_PER_DAY = 24
Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


class ProfileInputError(ValueError):
    """Hour starts, energy and presence arrays that cannot describe a series of hours."""


class DayType(StrEnum):
    WEEKDAY = "WEEKDAY"
    WEEKEND = "WEEKEND"


def easter_sunday(year: int) -> dt.date:
    """Return the date of (Gregorian) Easter Sunday, by the Meeus/Jones/Butcher algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@functools.lru_cache(maxsize=64)
def italian_public_holidays(year: int) -> frozenset[dt.date]:
    """Return Italy's national public holidays of `year` (Legge 260/1949 as amended).

    New Year, Epiphany, Easter Sunday and Monday, Liberation Day (25 April), Labour Day
    (1 May), Republic Day (2 June), Assumption (15 August), All Saints (1 November),
    Immaculate Conception (8 December), Christmas and St Stephen's Day; St Francis
    (4 October) from 2026 (Legge 151/2025, in force 1 January 2026). Local patron saints'
    days are not national and are left out.
    """
    easter = easter_sunday(year)
    fixed = [(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)]
    if year >= 2026:
        fixed.append((10, 4))
    days = {dt.date(year, month, day) for month, day in fixed}
    return frozenset(days | {easter, easter + dt.timedelta(days=1)})


def day_type_of(day: dt.date) -> DayType:
    """Return WEEKEND for Saturdays, Sundays and national holidays, WEEKDAY otherwise.

    A public holiday behaves like a Sunday (offices and most businesses closed), so it counts
    as a weekend day even when it falls from Monday to Friday.
    """
    if day.weekday() >= 5 or day in italian_public_holidays(day.year):
        return DayType.WEEKEND
    return DayType.WEEKDAY


@dataclass(frozen=True)
class AverageDay:
    """The average day of one group of days: 24 local-hour values [Wh] and their day counts.

    `month` is 1-12, or 0 with `day_type` None for the whole year (both day types). A value
    with a day count of 0 means no day had that hour read; it is 0 and must not be shown.
    """

    year: int
    month: int
    day_type: DayType | None
    injected_wh: Int64s
    withdrawn_wh: Int64s
    days: Int64s


@dataclass(frozen=True)
class PeriodTotals:
    """Energy read per local day or month [Wh], with the hours read and the hours given."""

    starts: tuple[dt.date, ...]  # first local day of each day or month
    injected_wh: Int64s
    withdrawn_wh: Int64s
    hours_present: Int64s
    hours_expected: Int64s


@dataclass(frozen=True)
class Profiles:
    """Average days by (year, month, day type), the year's average day, daily and monthly totals."""

    average_days: dict[tuple[int, int, DayType], AverageDay]
    year_average_days: dict[int, AverageDay]
    daily: PeriodTotals
    monthly: PeriodTotals

    def lookup(self, year: int, month: int, day_type: DayType, hour: int) -> tuple[int, int] | None:
        """Return (injected, withdrawn) [Wh] for an hour, with the fallbacks of the estimates.

        Same month and day type; else same month, other day type; else the year's average day.
        None when none of them ever read that local hour.
        """
        other = DayType.WEEKEND if day_type == DayType.WEEKDAY else DayType.WEEKDAY
        candidates = [
            self.average_days.get((year, month, day_type)),
            self.average_days.get((year, month, other)),
            self.year_average_days.get(year),
        ]
        for average in candidates:
            if average is not None and average.days[hour] > 0:
                return int(average.injected_wh[hour]), int(average.withdrawn_wh[hour])
        return None


@dataclass(frozen=True)
class _LocalClock:
    """Where each bucket falls on the Europe/Rome calendar."""

    days: tuple[dt.date, ...]  # the local days spanned, in order
    day_index: Int64s  # per bucket: index into `days`
    hour: Int64s  # per bucket: local hour 0-23 (both October 02:00 buckets are 2)


def _local_clock(hour_starts_s: Int64s) -> _LocalClock:
    """Place each bucket on its local day and hour; a loop runs per day, never per hour."""
    first, last = local_date_of(int(hour_starts_s[0])), local_date_of(int(hour_starts_s[-1]))
    days = tuple(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    midnights = np.array([local_midnight_utc_s(day) for day in days], dtype=np.int64)
    day_index = np.searchsorted(midnights, hour_starts_s, side="right").astype(np.int64) - 1
    hour = (hour_starts_s - midnights[day_index]) // HOUR_S
    # Only the two change-over days are not 24 hours long; read their clock from zoneinfo.
    lengths = (
        np.append(midnights[1:], local_midnight_utc_s(last + dt.timedelta(days=1))) - midnights
    ) // HOUR_S
    for short_or_long in np.flatnonzero(lengths != HOURS_PER_DAY):
        in_day = np.flatnonzero(day_index == short_or_long)
        hour[in_day] = [dt.datetime.fromtimestamp(int(hour_starts_s[i]), ROME).hour for i in in_day]
    return _LocalClock(days=days, day_index=day_index, hour=hour)


def _check(
    hour_starts_s: Int64s, injected_wh: Int64s, withdrawn_wh: Int64s, present: Bools
) -> None:
    sizes = {len(hour_starts_s), len(injected_wh), len(withdrawn_wh), len(present)}
    if len(sizes) != 1:
        raise ProfileInputError("hour starts, energy and presence must have the same length")
    if len(hour_starts_s) == 0:
        raise ProfileInputError("at least one hour is needed")
    if np.any(hour_starts_s % HOUR_S) or np.any(np.diff(hour_starts_s) <= 0):
        raise ProfileInputError("hour starts must be whole UTC hours in increasing order")
    if np.any(injected_wh < 0) or np.any(withdrawn_wh < 0):
        raise ProfileInputError("energy must not be negative")


def _round_half_up(total: Int64s, count: Int64s) -> Int64s:
    """Divide exactly, rounding halves up; 0 where the count is 0."""
    safe = np.maximum(count, 1)
    return np.where(count > 0, (2 * total + safe) // (2 * safe), 0).astype(np.int64)


def _totals(
    starts: tuple[dt.date, ...],
    index: Int64s,
    injected_wh: Int64s,
    withdrawn_wh: Int64s,
    present: Bools,
) -> PeriodTotals:
    size = len(starts)
    read = present.astype(np.int64)
    return PeriodTotals(
        starts=starts,
        injected_wh=_sum_by(index, injected_wh * read, size),
        withdrawn_wh=_sum_by(index, withdrawn_wh * read, size),
        hours_present=_sum_by(index, read, size),
        hours_expected=np.bincount(index, minlength=size).astype(np.int64),
    )


def _sum_by(index: Int64s, values: Int64s, size: int) -> Int64s:
    """Exact integer sums per group (np.bincount would go through float64)."""
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, index, values)
    return sums


def compute_profiles(
    *,
    hour_starts_s: Int64s,
    injected_wh: Int64s,
    withdrawn_wh: Int64s,
    present: Bools,
) -> Profiles:
    """Compute the average days, daily and monthly totals of one series of hours.

    `hour_starts_s` [s, UTC] are the buckets given, in increasing order (not necessarily
    consecutive); `injected_wh`, `withdrawn_wh` [Wh] their energy, read only where `present`.
    Expected hours of a day or month are the buckets given in it, so pass whole periods.
    Raises ProfileInputError for arrays of different lengths, unsorted or negative input.
    """
    hour_starts_s = np.asarray(hour_starts_s, dtype=np.int64)
    injected_wh = np.asarray(injected_wh, dtype=np.int64)
    withdrawn_wh = np.asarray(withdrawn_wh, dtype=np.int64)
    present = np.asarray(present, dtype=bool)
    _check(hour_starts_s, injected_wh, withdrawn_wh, present)
    clock = _local_clock(hour_starts_s)
    day_count = len(clock.days)
    read = present.astype(np.int64)

    # One cell per (local day, local hour): buckets given, buckets read, energy read.
    cell = clock.day_index * HOURS_PER_DAY + clock.hour
    cells = day_count * HOURS_PER_DAY
    given = np.bincount(cell, minlength=cells).astype(np.int64).reshape(day_count, HOURS_PER_DAY)
    reads = _sum_by(cell, read, cells).reshape(day_count, HOURS_PER_DAY)
    inj = _sum_by(cell, injected_wh * read, cells).reshape(day_count, HOURS_PER_DAY)
    wdr = _sum_by(cell, withdrawn_wh * read, cells).reshape(day_count, HOURS_PER_DAY)
    # A local hour counts only when all its buckets were read (both in October).
    complete = ((given > 0) & (reads == given)).astype(np.int64)

    month_keys = sorted({(day.year, day.month) for day in clock.days})
    month_of_day = np.array([month_keys.index((d.year, d.month)) for d in clock.days], np.int64)
    weekend_of_day = np.array([day_type_of(d) == DayType.WEEKEND for d in clock.days], np.int64)
    group_of_day = month_of_day * 2 + weekend_of_day
    groups = len(month_keys) * 2
    group_days = np.zeros((groups, HOURS_PER_DAY), np.int64)
    group_inj = np.zeros((groups, HOURS_PER_DAY), np.int64)
    group_wdr = np.zeros((groups, HOURS_PER_DAY), np.int64)
    np.add.at(group_days, group_of_day, complete)
    np.add.at(group_inj, group_of_day, inj * complete)
    np.add.at(group_wdr, group_of_day, wdr * complete)

    average_days: dict[tuple[int, int, DayType], AverageDay] = {}
    for group in range(groups):
        if not group_days[group].any():
            continue
        year, month = month_keys[group // 2]
        day_type = DayType.WEEKEND if group % 2 else DayType.WEEKDAY
        average_days[(year, month, day_type)] = AverageDay(
            year=year,
            month=month,
            day_type=day_type,
            injected_wh=_round_half_up(group_inj[group], group_days[group]),
            withdrawn_wh=_round_half_up(group_wdr[group], group_days[group]),
            days=group_days[group],
        )

    year_average_days: dict[int, AverageDay] = {}
    for year in sorted({year for year, _ in month_keys}):
        rows = [g for g in range(groups) if month_keys[g // 2][0] == year]
        days = group_days[rows].sum(axis=0)
        if days.any():
            year_average_days[year] = AverageDay(
                year=year,
                month=0,
                day_type=None,
                injected_wh=_round_half_up(group_inj[rows].sum(axis=0), days),
                withdrawn_wh=_round_half_up(group_wdr[rows].sum(axis=0), days),
                days=days,
            )

    month_firsts = tuple(dt.date(year, month, 1) for year, month in month_keys)
    return Profiles(
        average_days=average_days,
        year_average_days=year_average_days,
        daily=_totals(clock.days, clock.day_index, injected_wh, withdrawn_wh, present),
        monthly=_totals(
            month_firsts, month_of_day[clock.day_index], injected_wh, withdrawn_wh, present
        ),
    )


@dataclass(frozen=True)
class Estimates:
    """Estimated energy of the missing hours [Wh]; zero where `estimated` is False."""

    injected_wh: Int64s
    withdrawn_wh: Int64s
    estimated: Bools  # a missing hour that received an estimate
    not_estimated: Bools  # a missing hour no average day could fill


def estimate_missing(*, hour_starts_s: Int64s, present: Bools, profiles: Profiles) -> Estimates:
    """Estimate each hour not `present` from the average day of its month, day type and hour.

    Falls back to the other day type of the month, then to the year's average day; an hour
    that none of them ever read stays without an estimate. Present hours are never touched.
    Pass profiles computed from real readings only, so that estimates never feed estimates.
    Raises ProfileInputError when the arrays differ in length or are not increasing hours.
    """
    hour_starts_s = np.asarray(hour_starts_s, dtype=np.int64)
    present = np.asarray(present, dtype=bool)
    size = len(hour_starts_s)
    zeros = np.zeros(size, dtype=np.int64)
    _check(hour_starts_s, zeros, zeros, present)
    injected = zeros.copy()
    withdrawn = zeros.copy()
    estimated = np.zeros(size, dtype=bool)
    clock = _local_clock(hour_starts_s)
    missing = np.flatnonzero(~present)
    # A month has at most 745 hours: a plain loop over the missing ones is cheap enough.
    for position in missing:
        day = clock.days[int(clock.day_index[position])]
        found = profiles.lookup(day.year, day.month, day_type_of(day), int(clock.hour[position]))
        if found is not None:
            injected[position], withdrawn[position] = found
            estimated[position] = True
    return Estimates(
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        estimated=estimated,
        not_estimated=~present & ~estimated,
    )
