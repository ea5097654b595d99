"""A table a manager downloads from a list page: CSV for Italian Excel, or XLSX.

The CSV is the dialect Excel expects in an Italian locale, so a double-click opens it in
columns: semicolon separators, UTF-8 with a byte-order mark (without it Excel reads the
accents as Latin-1). Cells are made safe against formulas (cer.core.safe_export). Texts
arrive already formatted for a person (cer.core.formatting); the XLSX keeps dates and
Decimals as values, which the spreadsheet formats itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.http import HttpResponse

from cer.core.csv_export import CsvDialect, DialectCsv
from cer.core.xlsx import workbook_bytes

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def italian_csv(rows: Sequence[Sequence[object]]) -> str:
    """Return the rows as CSV in the Italian Excel dialect (`;`, CRLF), BOM first.

    The one CSV writer of cer.core.csv_export, in its Excel dialect.
    """
    table = DialectCsv(CsvDialect.EXCEL)
    table.writerows(rows)
    return table.content()


def export_response(
    *,
    kind: str,
    title: str,
    filename_stem: str,
    header: Sequence[str],
    csv_rows: Sequence[Sequence[object]],
    xlsx_rows: Sequence[Sequence[object]],
) -> HttpResponse:
    """Return the download of one table as `kind` (`csv` or `xlsx`), as an attachment.

    `csv_rows` hold texts formatted for a reader; `xlsx_rows` the same cells as values
    (dates, Decimals). Raises ValueError for another kind.
    """
    if kind == "csv":
        content: bytes = italian_csv([list(header), *csv_rows]).encode("utf-8")
        content_type = "text/csv; charset=utf-8"
    elif kind == "xlsx":
        content = workbook_bytes([(title, [list(header), *(_cells(row) for row in xlsx_rows)])])
        content_type = XLSX_TYPE
    else:
        raise ValueError(f"unknown export format: {kind}")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename_stem}.{kind}"'
    return response


def _cells(row: Sequence[object]) -> list[object]:
    # openpyxl writes a date but not a lazy translation or None as wanted: text and blanks.
    return [
        value
        if value is None or isinstance(value, (int, dt.date, str)) or hasattr(value, "is_finite")
        else str(value)
        for value in row
    ]
