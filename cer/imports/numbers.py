"""Why a cell of an imported curve file was refused, in the words the import reports.

The parsing itself is `cercalc.money.parse_scaled_array`, which gives each value a
`TextStatus`; this table turns a status into the reason shown next to the refused cell.
"""

from __future__ import annotations

from cercalc.money import TextStatus

STATUS_TEXT: dict[int, str] = {
    TextStatus.EMPTY: "empty value",
    TextStatus.NOT_A_NUMBER: "not a number",
    TextStatus.NEGATIVE: "negative energy",
    TextStatus.TOO_PRECISE: "more decimals than the file's unit allows (finer than 1 mWh)",
    TextStatus.TOO_LARGE: "value too large",
}
