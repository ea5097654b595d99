"""Path converters: a year in a URL is four digits within the years the platform handles.

Anything else (99999, 0, 1999) does not match the route: the answer is 404 before the view
runs, instead of a date that Python cannot build deep inside a query or a report. Import this
module in a URLconf that uses `<year:…>`: importing it registers the converter.
"""

from __future__ import annotations

from django.urls import register_converter

# The calendar years the platform accepts in paths and query strings are those a period's
# text may name.
from cercalc.periods import FIRST_YEAR, LAST_YEAR


def is_sane_year(year: int) -> bool:
    """True when `year` lies between FIRST_YEAR and LAST_YEAR, both included."""
    return FIRST_YEAR <= year <= LAST_YEAR


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        year = int(value)
        if not is_sane_year(year):
            raise ValueError(value)  # no match: 404
        return year

    def to_url(self, value: int | str) -> str:
        return f"{int(value):04d}"


register_converter(YearConverter, "year")
