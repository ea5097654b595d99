"""Calendar periods of the dashboards: a Europe/Rome month or year, as UTC hour buckets.

A period is half-open [start, end): its local bounds are built with zoneinfo and converted
to UTC, so a month holds 743, 744 or 745 hourly buckets depending on daylight saving time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

ROME = ZoneInfo("Europe/Rome")
HOUR_S = 3600
_PERIOD_TEXT = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A Europe/Rome calendar month (month set) or year (month None)."""

    year: int
    month: int | None = None

    @property
    def key(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"

    @property
    def is_year(self) -> bool:
        return self.month is None

    def local_start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month or 1, 1, tzinfo=ROME)

    def local_end(self) -> dt.datetime:
        if self.month is None:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=ROME)
        if self.month == 12:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=ROME)
        return dt.datetime(self.year, self.month + 1, 1, tzinfo=ROME)

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Return the UTC instants [start, end) of the period."""
        return self.local_start().astimezone(dt.UTC), self.local_end().astimezone(dt.UTC)

    def hour_count(self) -> int:
        start, end = self.utc_bounds()
        return int((end - start).total_seconds()) // HOUR_S

    def hour_starts_s(self) -> np.ndarray:
        """Return the UTC start of every hour of the period [unix s], int64."""
        start, _ = self.utc_bounds()
        return int(start.timestamp()) + HOUR_S * np.arange(self.hour_count(), dtype=np.int64)

    def previous(self) -> Period:
        if self.month is None:
            return Period(self.year - 1)
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)

    def next(self) -> Period:
        if self.month is None:
            return Period(self.year + 1)
        if self.month == 12:
            return Period(self.year + 1, 1)
        return Period(self.year, self.month + 1)

    def year_period(self) -> Period:
        return Period(self.year)

    def months(self) -> list[Period]:
        """Return the months of a year period, or the month itself."""
        if self.month is not None:
            return [self]
        return [Period(self.year, month) for month in range(1, 13)]

    def days(self) -> list[dt.date]:
        """Return the local calendar days of the period."""
        first = self.local_start().date()
        last = self.local_end().date()
        return [first + dt.timedelta(days=n) for n in range((last - first).days)]


def parse_period(text: str | None) -> Period | None:
    """Read "2025" (a year) or "2025-03" (a month); return None for anything else."""
    match = _PERIOD_TEXT.match((text or "").strip())
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    if not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
        return None
    return Period(year, month)


def month_of(moment: dt.datetime) -> Period:
    """Return the Europe/Rome month holding an aware instant."""
    local = moment.astimezone(ROME)
    return Period(local.year, local.month)


def bucket_starts(period: Period, *, by: str) -> np.ndarray:
    """Return, for each local day ("day") or month ("month"), its first hour's index.

    The indices point into the period's hourly array, ready for `np.add.reduceat`.
    """
    first_s = int(period.utc_bounds()[0].timestamp())
    if by == "day":
        starts = [dt.datetime(d.year, d.month, d.day, tzinfo=ROME) for d in period.days()]
    elif by == "month":
        starts = [month.local_start() for month in period.months()]
    else:
        raise ValueError(by)
    return np.array(
        [(int(s.astimezone(dt.UTC).timestamp()) - first_s) // HOUR_S for s in starts],
        dtype=np.int64,
    )
