"""Exact, vectorised reading of decimal text into integers of a small unit.

A column of strings such as "0,123" (kWh, Italian decimal comma) becomes an int64 array
of milliwatt-hours by placing each digit at its power of ten: no float is ever built, so
"0,1" + "0,2" is exactly 300 mWh. Every value also gets a status code, so a caller can
say precisely why a cell was refused.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

OK = 0
EMPTY = 1
NOT_A_NUMBER = 2
NEGATIVE = 3
TOO_PRECISE = 4
TOO_LARGE = 5

STATUS_TEXT = {
    EMPTY: "empty value",
    NOT_A_NUMBER: "not a number",
    NEGATIVE: "negative energy",
    TOO_PRECISE: "more decimals than the file's unit allows (finer than 1 mWh)",
    TOO_LARGE: "value too large",
}

# Integer digits plus scale digits stay below 15, so sums of many values fit in int64.
_MAX_DIGITS = 15
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_ZERO, _NINE, _MINUS, _PLUS = ord("0"), ord("9"), ord("-"), ord("+")


def parse_scaled(
    values: npt.ArrayLike, *, decimal_sep: str, scale_digits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Parse decimal strings into integers of 10**-scale_digits of their unit, exactly.

    `values` is any array of str (shape kept). With scale_digits=6 a kWh figure becomes
    milliwatt-hours [mWh]; with 3 a Wh figure does. A thousands separator is not
    accepted: "1.234,5" is not a number. Returns (value, status), status 0 meaning OK and
    the other codes listed in STATUS_TEXT; value is 0 wherever status is not OK.
    """
    array = np.asarray(values)
    shape = array.shape
    flat = array.reshape(-1)
    if flat.dtype.kind != "U":
        flat = flat.astype("U")
    value = np.zeros(flat.size, np.int64)
    status = np.full(flat.size, EMPTY, np.int8)
    if flat.size == 0 or flat.dtype.itemsize == 0:
        return value.reshape(shape), status.reshape(shape)
    codes = flat.view(np.uint32).reshape(flat.size, -1)
    if ((codes == 32) | (codes == 9) | (codes == 13)).any():
        flat = np.strings.strip(flat)
        if flat.dtype.itemsize == 0:
            return value.reshape(shape), status.reshape(shape)
        codes = flat.view(np.uint32).reshape(flat.size, -1)
    # Non-ASCII characters can never be digits: fold them onto a non-digit byte.
    chars = np.where(codes < 128, codes, 127).astype(np.uint8)
    length = np.strings.str_len(flat)
    sep_pos = np.strings.find(flat, decimal_sep)
    several_seps = np.strings.count(flat, decimal_sep) > 1
    signed = (chars[:, 0] == _MINUS) | (chars[:, 0] == _PLUS)

    # Values of one file share a handful of shapes ("0,123", "12,345", ...): handle each
    # shape (length, separator position, sign) with whole-column operations.
    shape_key = (length.astype(np.int64) * 256 + (sep_pos + 1)) * 2 + signed
    keys, inverse, counts = np.unique(shape_key, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts)))
    for index, key in enumerate(keys.tolist()):
        rows = order[bounds[index] : bounds[index + 1]]
        sign = key % 2
        sep = (key // 2) % 256 - 1
        size = key // 512
        if size == 0:
            continue  # status stays EMPTY
        _parse_shape(
            chars[rows],
            rows=rows,
            size=size,
            sep=sep,
            signed=bool(sign),
            scale_digits=scale_digits,
            value=value,
            status=status,
        )
    status[several_seps] = NOT_A_NUMBER
    value[status != OK] = 0
    return value.reshape(shape), status.reshape(shape)


def _parse_shape(
    chars: npt.NDArray[np.uint8],
    *,
    rows: npt.NDArray[np.intp],
    size: int,
    sep: int,
    signed: bool,
    scale_digits: int,
    value: npt.NDArray[np.int64],
    status: npt.NDArray[np.int8],
) -> None:
    """Parse rows that all have `size` characters and the separator at `sep` (-1: none)."""
    first_digit = 1 if signed else 0
    point = sep if sep >= 0 else size
    digit_columns = [j for j in range(first_digit, size) if j != sep]
    if not digit_columns or point - first_digit + scale_digits > _MAX_DIGITS:
        status[rows] = NOT_A_NUMBER if not digit_columns else TOO_LARGE
        return
    total = np.zeros(rows.size, np.int64)
    bad = np.zeros(rows.size, bool)
    finer = np.zeros(rows.size, bool)
    for j in digit_columns:
        digit = chars[:, j].astype(np.int64) - _ZERO
        bad |= (digit < 0) | (digit > 9)
        # Before the separator a digit is worth 10**(scale + point - 1 - j), after it
        # 10**(scale - (j - point)); a negative power is a digit finer than the unit.
        power = scale_digits + point - 1 - j if j < point else scale_digits + point - j
        if power < 0:
            finer |= digit != 0
        else:
            total += digit * _POW10[power]
    result = np.full(rows.size, OK, np.int8)
    result[finer] = TOO_PRECISE
    if signed:
        result[(chars[:, 0] == _MINUS) & (total > 0)] = NEGATIVE
    result[bad] = NOT_A_NUMBER
    value[rows] = total
    status[rows] = result
