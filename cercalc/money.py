"""Units and rounding: exact integers inside, Decimal rounded half up once per shown figure.

Energy is an integer number of watt-hours [Wh]. A rate is an integer number of "rate units" of
1e-4 EUR/MWh, which keeps exact any price written with up to four decimals, including the mean of
four quarter-hour prices given to the cent. Energy [Wh] times rate [1e-4 EUR/MWh] is an exact
integer of "money units" of 1e-10 EUR (1 Wh = 1e-6 MWh). Money stays an exact integer, or an exact
Fraction once a factor such as (1 - F) applies, and becomes a Decimal rounded half up to the cent
only where it is shown (STYLE.md, Money; REGULATION.md §14).

This module is the one place where decimal text becomes integer units and back, never through a
float: `parse_scaled`, `parse_kwh` and the vectorised `parse_scaled_array` read it;
`format_scaled`, `format_kwh` and `format_fixed` write it.
"""

import re
from collections.abc import Sequence
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction

import numpy as np
import numpy.typing as npt

CENT = Decimal("0.01")
WH_PER_KWH = 1000
W_PER_KW = 1000
RATE_UNITS_PER_EUR_PER_MWH = 10_000
MONEY_UNITS_PER_EUR = 10**10

_INT64_MAX = int(np.iinfo(np.int64).max)
_DECIMAL_TEXT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)

IntArray = npt.NDArray[np.int64]


class UnitError(ValueError):
    """A quantity that cannot be represented exactly in the engine's integer units."""


def round_half_up(value: Decimal | Fraction | int, places: int = 2) -> Decimal:
    """Round an exact value half up (away from zero at .5) to `places` decimals.

    Raises nothing; a Decimal is converted to an exact Fraction first, so the
    result does not depend on the Decimal context precision.
    """
    scaled = Fraction(value) * 10**places
    numerator, denominator = scaled.numerator, scaled.denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    rounded = magnitude if numerator >= 0 else -magnitude
    return Decimal(rounded).scaleb(-places)


def round_eur(amount: Decimal | Fraction | int) -> Decimal:
    """Round an amount [EUR] half up to the cent (the project rule, REGULATION.md §14)."""
    return round_half_up(amount, 2)


def money_units_to_eur(units: int | Fraction) -> Fraction:
    """Convert money units [1e-10 EUR] into an exact amount [EUR]."""
    return Fraction(units) / MONEY_UNITS_PER_EUR


def parse_scaled(text: str, places: int, *, allow_negative: bool = False) -> int:
    """Parse a decimal string into an integer count of 10**-places units, never through a float.

    Raises UnitError when the text is not a plain decimal number, is negative while
    `allow_negative` is false, or has more than `places` decimals.
    """
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        raise UnitError(f'"{text}" is not a decimal number')
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if sign and not allow_negative:
        raise UnitError(f'"{text}" is negative')
    if len(fraction) > places:
        raise UnitError(f'"{text}" has more than {places} decimals')
    if len(whole) > 15:
        raise UnitError(f'"{text}" is too large')
    magnitude = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
    return -magnitude if sign else magnitude


class TextStatus(IntEnum):
    """Why `parse_scaled_array` refused a value (OK when it did not)."""

    OK = 0
    EMPTY = 1
    NOT_A_NUMBER = 2
    NEGATIVE = 3
    TOO_PRECISE = 4
    TOO_LARGE = 5


# Integer digits plus scale digits stay below 15, so sums of many values fit in int64.
_MAX_DIGITS = 15
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_ZERO, _NINE, _MINUS, _PLUS = ord("0"), ord("9"), ord("-"), ord("+")


def parse_scaled_array(
    values: npt.ArrayLike, *, decimal_sep: str, scale_digits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Parse decimal strings into integers of 10**-scale_digits of their unit, exactly.

    The vectorised cousin of `parse_scaled`: a column of strings such as "0,123" (kWh with
    an Italian decimal comma) becomes an int64 array by placing each digit at its power of
    ten, so no float is ever built ("0,1" + "0,2" is exactly 300 mWh). `values` is any
    array of str (shape kept). With scale_digits=6 a kWh figure becomes milliwatt-hours
    [mWh]; with 3 a Wh figure does. A thousands separator is not accepted: "1.234,5" is not
    a number. Returns (value, status): status is a TextStatus code, OK or why the value was
    refused; value is 0 wherever status is not OK.
    """
    array = np.asarray(values)
    shape = array.shape
    flat = array.reshape(-1)
    if flat.dtype.kind != "U":
        flat = flat.astype("U")
    value = np.zeros(flat.size, np.int64)
    status = np.full(flat.size, TextStatus.EMPTY, np.int8)
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
            continue  # status stays TextStatus.EMPTY
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
    status[several_seps] = TextStatus.NOT_A_NUMBER
    value[status != TextStatus.OK] = 0
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
        status[rows] = TextStatus.NOT_A_NUMBER if not digit_columns else TextStatus.TOO_LARGE
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
    result = np.full(rows.size, TextStatus.OK, np.int8)
    result[finer] = TextStatus.TOO_PRECISE
    if signed:
        result[(chars[:, 0] == _MINUS) & (total > 0)] = TextStatus.NEGATIVE
    result[bad] = TextStatus.NOT_A_NUMBER
    value[rows] = total
    status[rows] = result


def parse_kwh(text: str) -> int:
    """Parse an energy [kWh, at most 3 decimals, not negative] into [Wh].

    Raises UnitError for a negative, non-numeric or over-precise value.
    """
    return parse_scaled(text, 3)


def rate_units(rate_eur_per_mwh: Decimal | str) -> int:
    """Convert a rate [EUR/MWh] into rate units [1e-4 EUR/MWh].

    Raises UnitError when the rate has more than 4 decimals.
    """
    value = Decimal(rate_eur_per_mwh) if isinstance(rate_eur_per_mwh, str) else rate_eur_per_mwh
    scaled = value * RATE_UNITS_PER_EUR_PER_MWH
    if scaled != scaled.to_integral_value():
        raise UnitError(f"rate {value} EUR/MWh has more than 4 decimals")
    return int(scaled)


def format_scaled(value: int, places: int) -> str:
    """Format an integer count of 10**-places units as a fixed-point string."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def format_fixed(value: Decimal, *, min_places: int = 2, max_places: int = 2) -> str:
    """Write a Decimal with between `min_places` and `max_places` decimals, exactly.

    Trailing zeros beyond `min_places` are dropped ("1.50000000" with 2..8 places is "1.50").
    Raises ValueError when the value has more decimals than `max_places` allow.
    """
    text = format(value, "f")
    whole, _dot, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) > max_places:
        raise ValueError(f"{value} has more than {max_places} decimals")
    return f"{whole}.{fraction.ljust(min_places, '0')}"


def format_kwh(energy_wh: int) -> str:
    """Format an energy [Wh] as kWh with three decimals."""
    return format_scaled(int(energy_wh), 3)


def checked_product(left: IntArray, right: IntArray | int) -> IntArray:
    """Multiply an integer array by an integer array or scalar element-wise, exactly.

    The int64 product is used when the largest magnitudes cannot overflow; otherwise the
    values are multiplied as Python integers (object dtype), which is slow but exact.
    """
    if _max_abs(left) * _max_abs(right) <= _INT64_MAX:
        return np.multiply(left, right, dtype=np.int64)
    other = right if isinstance(right, int) else right.astype(object)
    return np.multiply(left.astype(object), other)


def exact_row_sums(values: IntArray) -> list[int]:
    """Sum each row of a 2-D integer array exactly into Python integers.

    A year of hourly products per plant stays far below the int64 limit (9.2e18): a 1 MW
    plant at 140 EUR/MWh gives 1e6 Wh x 1.4e6 = 1.4e12 money units per hour, 1.2e16 per year.
    The margin is checked anyway; when it could be exceeded the hours are summed in blocks
    small enough not to overflow and the block sums are added as Python integers.
    """
    if values.dtype == object:
        return [int(sum(row)) for row in values]
    n_rows, n_cols = values.shape
    if n_cols == 0:
        return [0] * n_rows
    largest = _max_abs(values)
    if largest * n_cols <= _INT64_MAX:
        return [int(total) for total in values.sum(axis=1)]
    block = max(1, _INT64_MAX // max(largest, 1))
    sums = [0] * n_rows
    for start in range(0, n_cols, block):
        partial = values[:, start : start + block].sum(axis=1)
        sums = [total + int(part) for total, part in zip(sums, partial, strict=True)]
    return sums


def exact_sum(values: IntArray) -> int:
    """Sum a 1-D integer array exactly into a Python integer (see exact_row_sums)."""
    return exact_row_sums(values.reshape(1, -1))[0]


QUOTIENT_PLACES = 10
"""Decimal places of its unit to which sum_of_quotients takes each quotient."""


def sum_of_quotients(
    numerators: Sequence[int], denominators: Sequence[int], *, places: int = QUOTIENT_PLACES
) -> Fraction:
    """Return the sum of numerator / denominator, each quotient to 10**-places of its unit.

    Each quotient is rounded half up (away from zero) to 10**-places, then the parts are added
    exactly. Quotients over different denominators (one per hour) have no small common
    denominator: their exact sum is a fraction of tens of thousands of digits over a year, too
    slow to carry. At the default 10 places of the money unit (1e-10 EUR) the error is below
    0.5e-20 EUR per term, far below any shown figure (ENGINE_IO.md: sums before rounding).
    Denominators must be positive.
    """
    scale = 10**places
    if len(numerators) == 0:
        return Fraction(0)
    scaled = np.asarray(numerators, dtype=object) * scale
    divisor = np.asarray(denominators, dtype=object)
    magnitude = (2 * np.abs(scaled) + divisor) // (2 * divisor)
    parts = np.where(scaled < 0, -magnitude, magnitude)
    return Fraction(int(parts.sum()), scale)


def divide_round_half_up(numerator: IntArray, denominator: IntArray | int) -> IntArray:
    """Divide integer arrays and round half up (away from zero at .5), element-wise.

    `denominator` must be positive.
    """
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * np.asarray(denominator))
    return np.where(numerator < 0, -magnitude, magnitude)


def _max_abs(values: IntArray | int) -> int:
    if isinstance(values, int):
        return abs(values)
    if values.size == 0:
        return 0
    if values.dtype == object:
        return max(abs(int(value)) for value in values.flat)
    return max(abs(int(values.max())), abs(int(values.min())))
