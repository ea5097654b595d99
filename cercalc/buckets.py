"""Time buckets: a bucket is [start, start + step), named by its UTC start [s since the epoch].

Days, months and years are Europe/Rome calendar periods (cercalc.periods): their local
midnights are built with zoneinfo and converted to UTC, then buckets are selected by their UTC
start. Europe/Rome is a whole number of hours off UTC, so a local day holds 23, 24 or 25 hourly
buckets (STYLE.md, Time).
"""

from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from cercalc import periods
from cercalc.periods import HOUR_S, ROME


class InstantError(ValueError):
    """A timestamp that cannot name a bucket (no UTC offset, bad format)."""


def parse_instant_utc_s(text: str) -> int:
    """Parse an ISO 8601 timestamp with an offset into seconds since the epoch [s, UTC].

    Raises InstantError when the text is not ISO 8601 or carries no offset (a naive local
    time is ambiguous on the October change-over day).
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InstantError(f'"{text}" is not an ISO 8601 timestamp') from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InstantError(f'"{text}" has no UTC offset (write e.g. "+01:00" or "Z")')
    seconds = moment.timestamp()
    if seconds != int(seconds):
        raise InstantError(f'"{text}" has fractions of a second')
    return int(seconds)


def format_utc(utc_s: int) -> str:
    """Format seconds since the epoch [s] as an ISO 8601 UTC timestamp ending in "Z"."""
    return datetime.fromtimestamp(utc_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc_many(utc_s: npt.NDArray[np.int64]) -> list[str]:
    """Format many bucket starts [s] as ISO 8601 UTC timestamps ending in "Z", vectorised."""
    stamps = np.datetime_as_string(utc_s.astype("datetime64[s]"), unit="s")
    return [f"{stamp}Z" for stamp in stamps.tolist()]


def local_midnight_utc_s(day: date) -> int:
    """Return the UTC instant [s] of local midnight (Europe/Rome) starting `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=ROME).timestamp())


def local_date_of(utc_s: int) -> date:
    """Return the Europe/Rome calendar date of a UTC instant [s]."""
    return datetime.fromtimestamp(utc_s, ROME).date()


def local_day_bounds_utc_s(day: date) -> tuple[int, int]:
    """Return the half-open UTC bounds [s] of a Europe/Rome calendar day."""
    return periods.day(day).utc_bounds_s()


def buckets_in_local_day(day: date, step_s: int = HOUR_S) -> int:
    """Count the buckets of `step_s` seconds in a Europe/Rome day (23, 24 or 25 for hours)."""
    start, end = local_day_bounds_utc_s(day)
    return (end - start) // step_s


def bucket_starts_of_local_day(day: date, step_s: int = HOUR_S) -> npt.NDArray[np.int64]:
    """Return the UTC starts [s] of every bucket of a Europe/Rome day."""
    start, end = local_day_bounds_utc_s(day)
    return np.arange(start, end, step_s, dtype=np.int64)


def local_years_spanned(first_utc_s: int, last_utc_s: int) -> list[int]:
    """List the Europe/Rome calendar years touched by the buckets from first to last start."""
    return list(range(local_date_of(first_utc_s).year, local_date_of(last_utc_s).year + 1))


def add_years(day: date, years: int) -> date:
    """Return the same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
