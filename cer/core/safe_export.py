"""Cells of exported spreadsheets (CSV, XLSX) that a spreadsheet program cannot run.

A member's name, a community's name or any other text typed by a user ends up in the
CSV and XLSX files that managers open in Excel or LibreOffice. A text that begins with
`=`, `+`, `-` or `@` (or a tab or carriage return before one) is read there as a
formula, which can fetch a URL or run a command (OWASP, "CSV Injection"). Such a text
is written with a leading apostrophe, which spreadsheets show as plain text.

Only text is touched: numbers, dates and booleans keep their type, so a negative
amount stays a number in XLSX and `-1.23` in CSV. Exports must hand the raw value to
these helpers, never a number already formatted as text.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.functional import Promise

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Excel in Italian (and other) locales splits a double-clicked CSV on `;`, not `,`: a
# text such as `Rossi;=1+1` would start a formula in the next column. A row holding a
# separator-like character in a text is written with every text quoted.
_FOREIGN_SEPARATORS = (";", "\t", "|")


def safe_cell(value: Any) -> Any:
    """Return `value`, with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Return the row with every cell made safe by `safe_cell`."""
    return [safe_cell(value) for value in values]


class SafeCsvWriter:
    """A `csv.writer` lookalike that writes only safe cells (see `safe_cell`).

    `render`, when given, turns each cell into its written form after the cell was made
    safe: a negative number written "-1,23" by cer.core.csv_export is never mistaken for
    a formula, since only text typed by users is neutralised.
    """

    def __init__(self, out: Any, render: Callable[[Any], Any] | None = None, **fmtparams: Any):
        self._plain = csv.writer(out, **fmtparams)
        self._quoted = csv.writer(out, **{**fmtparams, "quoting": csv.QUOTE_NONNUMERIC})
        self._render = render

    def writerow(self, values: Iterable[Any]) -> Any:
        row = safe_row(values)
        if self._render is not None:
            row = [self._render(cell) for cell in row]
        foreign = any(
            isinstance(cell, str) and any(mark in cell for mark in _FOREIGN_SEPARATORS)
            for cell in row
        )
        return (self._quoted if foreign else self._plain).writerow(row)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(
    out: Any, render: Callable[[Any], Any] | None = None, **fmtparams: Any
) -> SafeCsvWriter:
    """Return a CSV writer on `out` that neutralises formulas in text cells.

    `render` writes each safe cell (see SafeCsvWriter); cer.core.csv_export uses it for
    the Italian Excel and plain dialects.
    """
    return SafeCsvWriter(out, render, **fmtparams)
