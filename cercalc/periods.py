"""Calendar periods: a half-open range [start, end) of Europe/Rome dates, and its UTC hours.

A period is a run of whole local calendar days: a day, a month, a quarter, a year (or any
other range of days). Its bounds are local midnights, built with zoneinfo in Europe/Rome and
converted to UTC; the hourly buckets [s since the epoch] between the two are its hours.
Europe/Rome is a whole number of hours off UTC, so each local hour is exactly one hourly
bucket: a day has 23, 24 or 25 of them (the last Sundays of March and October), a month 743,
744 or 745, a year 8760 or 8784 (STYLE.md, Time).

Why one type: settlement, dashboards, reports and imports each carried their own notion of
a month or a year (a date, a (year, month) pair, a label with two dates) and their own
conversion to UTC. One immutable value, with one text form ("2025", "2025-Q2", "2025-03")
that `parse` reads and `key` writes, keeps the daylight-saving arithmetic in one place.
`ROME` lives here too: every module that needs the zone imports it from this one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

ROME = ZoneInfo("Europe/Rome")
HOUR_S = 3600

# The calendar years the platform accepts in text (the CER incentive schemes start in 2020;
# 2100 leaves room for every plant's 20-year incentive period).
FIRST_YEAR = 2000
LAST_YEAR = 2100

_TEXT = re.compile(r"([0-9]{4})(?:-([0-9]{2})|-Q([0-9]))?")
_FORMS = "write YYYY, YYYY-MM or YYYY-Qn (e.g. 2025, 2025-03, 2025-Q1)"


@dataclass(frozen=True, order=True)
class Period:
    """The Europe/Rome calendar days from `start` included to `end` excluded.

    Build one with `day`, `month`, `quarter`, `year`, `month_of` or `parse`; the fields are
    plain dates (not datetimes), the first day and the day after the last.
    Raises TypeError for bounds that are not dates and ValueError when `end` is not after
    `start`.
    """

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        # A datetime is a date too; accepting one would silently drop its time and zone.
        if type(self.start) is not dt.date or type(self.end) is not dt.date:
            raise TypeError(f"a period's bounds are dates, got {self.start!r} and {self.end!r}")
        if self.end <= self.start:
            raise ValueError(f"a period needs start < end, got [{self.start}, {self.end})")

    def __str__(self) -> str:
        return self.key

    # What kind of period -----------------------------------------------------------------

    @property
    def is_day(self) -> bool:
        return self.end == self.start + dt.timedelta(days=1)

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == _add_months(self.start, 1)

    @property
    def is_quarter(self) -> bool:
        return (
            self.start.day == 1
            and self.start.month % 3 == 1
            and self.end == _add_months(self.start, 3)
        )

    @property
    def is_year(self) -> bool:
        return (self.start.month, self.start.day) == (1, 1) and self.end == _add_months(
            self.start, 12
        )

    @property
    def key(self) -> str:
        """Return the period as text: "2025", "2025-Q2", "2025-03", "2025-03-30".

        The first three are what `parse` reads back. Any other range of days is written as
        an ISO 8601 interval of its two bounds, "2025-03-05/2025-04-05".
        """
        if self.is_year:
            return f"{self.start.year:04d}"
        if self.is_quarter:
            return f"{self.start.year:04d}-Q{(self.start.month + 2) // 3}"
        if self.is_month:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.is_day:
            return self.start.isoformat()
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    # Bounds and hours ----------------------------------------------------------------------

    def local_start(self) -> dt.datetime:
        """Return local midnight (Europe/Rome) starting the period."""
        return _local_midnight(self.start)

    def local_end(self) -> dt.datetime:
        """Return local midnight (Europe/Rome) ending the period (excluded)."""
        return _local_midnight(self.end)

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Return the UTC instants [start, end) of the period, as aware datetimes."""
        return self.local_start().astimezone(dt.UTC), self.local_end().astimezone(dt.UTC)

    def utc_bounds_s(self) -> tuple[int, int]:
        """Return the UTC instants [start, end) of the period [s since the epoch]."""
        return int(self.local_start().timestamp()), int(self.local_end().timestamp())

    @property
    def hours(self) -> int:
        """Count the hourly buckets of the period (23, 24 or 25 for a day)."""
        start, end = self.utc_bounds_s()
        return (end - start) // HOUR_S

    def hour_starts_s(self) -> npt.NDArray[np.int64]:
        """Return the UTC start of every hour of the period [s since the epoch], int64."""
        start, end = self.utc_bounds_s()
        return np.arange(start, end, HOUR_S, dtype=np.int64)

    def hour_offsets(self, *, by: str) -> npt.NDArray[np.int64]:
        """Return, for each local day (by="day") or month (by="month"), its first hour's index.

        The indices point into `hour_starts_s()`, ready for `np.add.reduceat`. A month that
        starts before the period counts from the period's first hour.
        Raises ValueError for any other `by`.
        """
        if by == "day":
            firsts = self.days()
        elif by == "month":
            firsts = [max(month.start, self.start) for month in self.months()]
        else:
            raise ValueError(f'hour_offsets by "day" or "month", not {by!r}')
        first_s = self.utc_bounds_s()[0]
        return np.array(
            [(int(_local_midnight(day).timestamp()) - first_s) // HOUR_S for day in firsts],
            dtype=np.int64,
        )

    # Days and months -----------------------------------------------------------------------

    def contains(self, day: dt.date) -> bool:
        """Tell whether the local calendar day `day` lies in the period."""
        return self.start <= day < self.end

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and not isinstance(day, dt.datetime) and self.contains(day)

    def days(self) -> list[dt.date]:
        """Return the local calendar days of the period, in order."""
        count = (self.end - self.start).days
        return [self.start + dt.timedelta(days=n) for n in range(count)]

    def months(self) -> list[Period]:
        """Return the calendar months the period touches, whole, in order.

        A month, a quarter or a year is tiled exactly by its months.
        """
        result = []
        first = dt.date(self.start.year, self.start.month, 1)
        while first < self.end:
            result.append(Period(first, _add_months(first, 1)))
            first = _add_months(first, 1)
        return result

    def previous(self) -> Period:
        """Return the period of the same kind just before: the previous month, year, ..."""
        return self._shifted(-1)

    def next(self) -> Period:
        """Return the period of the same kind just after: the next month, year, ..."""
        return self._shifted(1)

    def _shifted(self, steps: int) -> Period:
        # Calendar units first: months have different lengths, so a month's neighbour is not
        # the same number of days away.
        for is_kind, months in ((self.is_year, 12), (self.is_quarter, 3), (self.is_month, 1)):
            if is_kind:
                start = _add_months(self.start, steps * months)
                return Period(start, _add_months(start, months))
        length = self.end - self.start
        return Period(self.start + steps * length, self.end + steps * length)


# Constructors --------------------------------------------------------------------------------


def day(local_day: dt.date) -> Period:
    """Return the Europe/Rome calendar day `local_day` as a period."""
    return Period(local_day, local_day + dt.timedelta(days=1))


def month(year_number: int, month_number: int) -> Period:
    """Return a Europe/Rome calendar month. Raises ValueError for a month outside 1-12."""
    if not 1 <= month_number <= 12:
        raise ValueError(f"month {month_number} is not between 1 and 12")
    start = dt.date(year_number, month_number, 1)
    return Period(start, _add_months(start, 1))


def quarter(year_number: int, quarter_number: int) -> Period:
    """Return a calendar quarter (Q1 = January-March). Raises ValueError outside 1-4."""
    if not 1 <= quarter_number <= 4:
        raise ValueError(f"quarter {quarter_number} is not between 1 and 4")
    start = dt.date(year_number, 3 * quarter_number - 2, 1)
    return Period(start, _add_months(start, 3))


def year(year_number: int) -> Period:
    """Return a Europe/Rome calendar year."""
    return Period(dt.date(year_number, 1, 1), dt.date(year_number + 1, 1, 1))


def month_of(when: dt.date) -> Period:
    """Return the Europe/Rome month holding a calendar day, or an aware instant.

    Raises ValueError for a naive datetime: its local day is ambiguous.
    """
    if isinstance(when, dt.datetime):
        if when.utcoffset() is None:
            raise ValueError(f"{when.isoformat()} has no UTC offset")
        when = when.astimezone(ROME).date()
    return month(when.year, when.month)


def parse(text: str) -> Period:
    """Read a year "2025", a month "2025-03" or a quarter "2025-Q2" (spaces around ignored).

    The forms the web pages, the API and the commands accept. Raises ValueError naming the
    problem: another form, a year outside FIRST_YEAR-LAST_YEAR, a month outside 01-12, a
    quarter outside Q1-Q4.
    """
    stripped = text.strip()
    match = _TEXT.fullmatch(stripped)
    if match is None:
        raise ValueError(f'"{stripped}" is not a period: {_FORMS}')
    year_number = int(match.group(1))
    if not FIRST_YEAR <= year_number <= LAST_YEAR:
        raise ValueError(f'"{stripped}": the year must be between {FIRST_YEAR} and {LAST_YEAR}')
    if match.group(2) is not None:
        month_number = int(match.group(2))
        if not 1 <= month_number <= 12:
            raise ValueError(f'"{stripped}": the month must be between 01 and 12')
        return month(year_number, month_number)
    if match.group(3) is not None:
        quarter_number = int(match.group(3))
        if not 1 <= quarter_number <= 4:
            raise ValueError(f'"{stripped}": the quarter must be Q1, Q2, Q3 or Q4')
        return quarter(year_number, quarter_number)
    return year(year_number)


def _local_midnight(local_day: dt.date) -> dt.datetime:
    # Midnight always exists in Europe/Rome: the clocks change at 02:00 and 03:00.
    return dt.datetime(local_day.year, local_day.month, local_day.day, tzinfo=ROME)


def _add_months(first: dt.date, months: int) -> dt.date:
    """Return the first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
