"""Europe/Rome calendar days as sequences of UTC intervals, and local clock times to UTC.

A local day starts at local midnight; its k-th interval (0-based) of `step` minutes starts
at midnight UTC + k * step. Europe/Rome is a whole number of hours off UTC, so the day has
23, 24 or 25 hours: 92, 96 or 100 quarter-hours. On the last Sunday of October the local
clock shows 02:00-02:59 twice: first at +02:00 (fold 0), then at +01:00 (fold 1). On the
last Sunday of March 02:00-02:59 does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from cercalc import periods
from cercalc.periods import ROME

UTC = dt.UTC

UNIQUE = 0
AMBIGUOUS = 1
NONEXISTENT = 2


@dataclass(frozen=True)
class LocalDay:
    """One Europe/Rome calendar day seen from UTC."""

    day: dt.date
    midnight_utc_s: int  # UTC instant of local midnight [s since the epoch]
    minutes: int  # 1380, 1440 or 1500

    def intervals(self, step_minutes: int) -> int:
        """Return how many intervals of `step_minutes` the day holds (92/96/100 for 15)."""
        return self.minutes // step_minutes

    def clock(self, step_minutes: int) -> tuple[tuple[int, int], ...]:
        """Return (local minute of day, fold) for each interval start, in time order."""
        return _clock(self.day, step_minutes)


@lru_cache(maxsize=4096)
def local_day(day: dt.date) -> LocalDay:
    """Return the UTC bounds of the Europe/Rome day `day`."""
    start_s, end_s = periods.day(day).utc_bounds_s()
    return LocalDay(day=day, midnight_utc_s=start_s, minutes=(end_s - start_s) // 60)


@lru_cache(maxsize=1024)
def _clock(day: dt.date, step_minutes: int) -> tuple[tuple[int, int], ...]:
    info = local_day(day)
    result = []
    for k in range(info.minutes // step_minutes):
        moment = dt.datetime.fromtimestamp(info.midnight_utc_s + 60 * step_minutes * k, ROME)
        result.append((moment.hour * 60 + moment.minute, moment.fold))
    return tuple(result)


def local_to_utc_s(moment: dt.datetime) -> tuple[int, int, int]:
    """Place a naive Europe/Rome wall-clock time on the UTC axis.

    Returns (first instant, second instant, kind) [s since the epoch]: both instants are
    equal for an ordinary time (kind UNIQUE); on the October change-over they are the
    +02:00 and the +01:00 readings (kind AMBIGUOUS); a time skipped in March has kind
    NONEXISTENT.
    """
    early = moment.replace(tzinfo=ROME, fold=0)
    late = moment.replace(tzinfo=ROME, fold=1)
    early_s, late_s = int(early.timestamp()), int(late.timestamp())
    if early_s == late_s:
        return early_s, late_s, UNIQUE
    # In a gap the two folds straddle the jump and neither converts back to itself.
    back = dt.datetime.fromtimestamp(early_s, ROME).replace(tzinfo=None)
    if back != moment:
        return early_s, late_s, NONEXISTENT
    return early_s, late_s, AMBIGUOUS


def format_utc(utc_s: int) -> str:
    """Format an instant [s] as ISO 8601 in UTC, e.g. 2025-10-26T00:00Z."""
    return dt.datetime.fromtimestamp(utc_s, UTC).strftime("%Y-%m-%dT%H:%MZ")
