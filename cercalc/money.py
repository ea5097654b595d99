"""Units and rounding: exact integers inside, Decimal rounded half up once per shown figure.

Energy is an integer number of watt-hours [Wh]. A rate is an integer number of "rate units" of
1e-4 EUR/MWh, which keeps exact any price written with up to four decimals, including the mean of
four quarter-hour prices given to the cent. Energy [Wh] times rate [1e-4 EUR/MWh] is an exact
integer of "money units" of 1e-10 EUR (1 Wh = 1e-6 MWh). Money stays an exact integer, or an exact
Fraction once a factor such as (1 - F) applies, and becomes a Decimal rounded half up to the cent
only where it is shown (STYLE.md, Money; REGULATION.md §14).
"""

import re
from decimal import Decimal
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
