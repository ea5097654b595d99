"""TARGET2 business days: the days on which a SEPA credit transfer can be executed.

TARGET2 (the euro area's settlement system, whose calendar SEPA credit transfers follow) is
closed on Saturdays and Sundays, New Year's Day, Good Friday, Easter Monday, 1 May,
Christmas Day and 26 December (ECB, "TARGET2 closing days", Guideline ECB/2012/27 art. 6).
Easter Sunday is the Gregorian computus (the anonymous "Meeus/Jones/Butcher" algorithm).
"""

from __future__ import annotations

import datetime as dt


def easter_sunday(year: int) -> dt.date:
    """Return Easter Sunday of a Gregorian year."""
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


def closing_days(year: int) -> frozenset[dt.date]:
    """Return the TARGET2 holidays of a year (weekends aside)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter - dt.timedelta(days=2),
            easter + dt.timedelta(days=1),
            dt.date(year, 5, 1),
            dt.date(year, 12, 25),
            dt.date(year, 12, 26),
        }
    )


def is_business_day(day: dt.date) -> bool:
    """Return whether TARGET2 is open on `day`."""
    return day.weekday() < 5 and day not in closing_days(day.year)


def next_business_day(after: dt.date) -> dt.date:
    """Return the first TARGET2 business day strictly after `after`."""
    day = after + dt.timedelta(days=1)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day
