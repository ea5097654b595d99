"""CSV files for people and for machines, from the same rows of typed values.

A person double-clicks a CSV and Excel opens it with the computer's regional settings: in
Italy it splits columns on `;` and reads `1.234,56` as a number, so a comma-separated file
with decimal points opens as one column of text. People therefore get the Italian Excel
dialect by default: semicolons, decimal comma, dates as `31/12/2025`, months in words, UTF-8
with a byte-order mark (without it Excel reads UTF-8 as Windows-1252 and "Attività" turns
into "AttivitÃ ") and CRLF line ends. Programs ask for the plain dialect
(`?dialect=plain`): commas, decimal points, ISO 8601 dates and months as `2025-06`, no mark.

Rows hold values, never numbers already written as text: Decimal amounts keep their own
decimals (two for euro, three for kWh), `cercalc.periods.Period` is a month (or any period),
dates and datetimes are days and moments. Every cell goes through the formula guard of
cer.core.safe_export first, then through cer.core.formatting (`cell_text` does the same for
pages and PDFs).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cer.core import formatting
from cer.core.safe_export import csv_writer
from cercalc.periods import ROME, Period

BOM = "\ufeff"


class CsvDialect(enum.StrEnum):
    EXCEL = "excel"
    PLAIN = "plain"


class UnknownDialect(ValueError):
    """The `dialect` asked for is neither `excel` nor `plain`."""


def csv_dialect(value: str | None) -> CsvDialect:
    """Read the `dialect` query parameter; empty means the Italian Excel dialect.

    Raises UnknownDialect, whose message names the parameter and the accepted values.
    """
    if not value:
        return CsvDialect.EXCEL
    try:
        return CsvDialect(value.strip().lower())
    except ValueError:
        raise UnknownDialect(
            _("The parameter “dialect” accepts “excel” or “plain”, not “%(value)s”.")
            % {"value": value}
        ) from None


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def period_text(period: Period, *, lang: str | None = None) -> str:
    """A period in words: "giugno 2025", "2° trimestre 2025", "2025", "6 giugno 2025"."""
    if period.is_month:
        return formatting.month(period.start, lang=lang)
    if period.is_year:
        return str(period.start.year)
    if period.is_quarter:
        return _("quarter %(number)s of %(year)s") % {
            "number": (period.start.month + 2) // 3,
            "year": period.start.year,
        }
    if period.is_day:
        return formatting.day(period.start, lang=lang)
    last = period.end - dt.timedelta(days=1)
    return f"{formatting.day(period.start, lang=lang)} – {formatting.day(last, lang=lang)}"


def cell_text(value: Any, *, lang: str | None = None) -> str:
    """Write one table cell for a person (page, PDF, Excel CSV) in the reader's language.

    Decimals keep their own number of places, integers are grouped by thousands, periods
    and dates are in words, moments in Europe/Rome; None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        # Django's own catalogue translates this triple (the yesno filter): "sì,no,forse".
        yes, no, _maybe = _("yes,no,maybe").split(",")
        return yes if value else no
    if isinstance(value, Decimal):
        return formatting.number(value, _places(value), lang=lang)
    if isinstance(value, (int, Fraction)):
        return formatting.number(value, 0, lang=lang)
    if isinstance(value, Period):
        return period_text(value, lang=lang)
    if isinstance(value, dt.datetime):
        return formatting.moment(value, lang=lang)
    if isinstance(value, dt.date):
        return formatting.day(value, lang=lang)
    return str(value)


def _excel_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dt.datetime):
        # Excel reads "31/12/2025 14:05" as a date and time in an Italian locale.
        return value.astimezone(ROME).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (Decimal, int, Fraction)) and not isinstance(value, bool):
        # Italian Excel reads "1.234,56" as a number, whatever the reader's language.
        return cell_text(value, lang="it")
    # Words (months, yes and no) in the reader's language, as the translated headers.
    return cell_text(value)


def _plain_cell(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Period):
        return value.key
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class DialectCsv:
    """Rows written in one dialect; `content()` is the whole file as text.

    Headers may differ by dialect: `header(machine, human)` writes snake_case names for
    programs and translated labels for people.
    """

    def __init__(self, dialect: CsvDialect) -> None:
        self.dialect = dialect
        self._out = io.StringIO()
        if dialect == CsvDialect.EXCEL:
            self._writer = csv_writer(
                self._out, render=_excel_cell, delimiter=";", lineterminator="\r\n"
            )
        else:
            self._writer = csv_writer(self._out, render=_plain_cell, lineterminator="\r\n")

    def header(self, machine: Sequence[str], human: Sequence[Any]) -> None:
        self.writerow(human if self.dialect == CsvDialect.EXCEL else machine)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(values)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)

    def content(self) -> str:
        text = self._out.getvalue()
        return BOM + text if self.dialect == CsvDialect.EXCEL else text
