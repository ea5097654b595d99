"""XLSX workbooks whose money cells hold the exact decimal, never a float's approximation.

openpyxl writes every number through `"%.16g" % value`, which turns a `Decimal` into a
float first: 86.46 is stored as `86.45999999999999`, which a spreadsheet shows rounded but
sums, exports and audits read as it is. Here openpyxl still lays out the workbook (sheets,
styles, texts made safe by cer.core.safe_export), and the `<v>` of each `Decimal` cell is
then written again from the `Decimal` itself, as plain decimal text (`86.46`, `-0.10`), in
a number cell with a money format.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from cer.core.safe_export import safe_row

MONEY_FORMAT = "#,##0.00"


def decimal_text(value: Decimal) -> str:
    """Return a finite Decimal as plain decimal text, without exponent (`1E+2` -> `100`)."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    return format(value, "f")


def workbook_bytes(sections: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """Write one sheet per (title, rows), first row bold; Decimal cells exact, in money format.

    Raises ValueError for a Decimal that is not finite.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    exact: list[dict[str, str]] = []
    for title, rows in sections:
        sheet = workbook.create_sheet(title=title[:31])
        decimals: dict[str, str] = {}
        for row in rows:
            sheet.append(safe_row(row))
        for cell in sheet[1] if rows else ():
            cell.font = Font(bold=True)
        for sheet_row in sheet.iter_rows(min_row=1):
            for cell in sheet_row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = MONEY_FORMAT
                    decimals[cell.coordinate] = decimal_text(cell.value)
        exact.append(decimals)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _with_exact_values(buffer.getvalue(), exact)


def _with_exact_values(content: bytes, exact: list[dict[str, str]]) -> bytes:
    """Rewrite the `<v>` of the listed cells of each sheet (sheetN.xml, in creation order)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match and exact[int(match.group(1)) - 1]:
                data = _rewrite_sheet(data.decode("utf-8"), exact[int(match.group(1)) - 1])
            target.writestr(info, data)
    return out.getvalue()


_NUMBER_CELL = re.compile(r'(<c r="([A-Z]+[0-9]+)"[^>]*>)<v>[^<]*</v>')


def _rewrite_sheet(xml: str, values: dict[str, str]) -> bytes:
    done: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        coordinate = match.group(2)
        if coordinate not in values:
            return match.group(0)
        done.add(coordinate)
        return f"{match.group(1)}<v>{values[coordinate]}</v>"

    rewritten = _NUMBER_CELL.sub(replace, xml)
    # A cell openpyxl wrote in a form this pattern does not know must not stay a float.
    if done != set(values):
        raise RuntimeError(f"XLSX cells not rewritten: {sorted(set(values) - done)}")
    return rewritten.encode("utf-8")
