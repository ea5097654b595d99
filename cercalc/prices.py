"""The hourly zonal price Pz from the market's intervals, in rate units.

An hour's own price wins; otherwise, from 1 Oct 2025 when the day-ahead market clears in
15-minute units, the hourly price is the arithmetic mean of the hour's four quarter-hour prices
(REGULATION.md §3.5, working reading [U]). An hour with neither has no price. The price is kept
in rate units of 1e-4 EUR/MWh (money.py); a value finer than that (a mean of prices given to
more than two decimals, or a price with more than four) is rounded half up, away from zero.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc.buckets import HOUR_S
from cercalc.money import RATE_UNITS_PER_EUR_PER_MWH, round_half_up

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_QUARTERS_PER_HOUR = 4


@dataclass(frozen=True, eq=False)
class HourlyPrices:
    """Hourly zonal prices [1e-4 EUR/MWh], where they are known, and whether any was rounded.

    `price_units[h]` is 0 where `known[h]` is False.
    """

    price_units: IntArray
    known: BoolArray
    rounded: bool


def hourly_price_units(
    hour_start_utc_s: IntArray, intervals: Iterable[tuple[int, int, Decimal]]
) -> HourlyPrices:
    """Return the zonal price of each hour from the market's intervals.

    Parameters
    ----------
    hour_start_utc_s : int64 array [hours]
        Bucket starts [s since epoch, UTC].
    intervals : iterable of (int, int, Decimal)
        (start [s since epoch, UTC], length [min], price [EUR/MWh]) of one market zone, in
        any order.

    Returns
    -------
    HourlyPrices
        Price [1e-4 EUR/MWh] and whether it is known, per hour; whether any was rounded.

    Notes
    -----
    A 60-minute interval is the hour's price; otherwise the mean of the hour's shorter
    intervals when exactly four are given (REGULATION.md §3.5 [U]), rounded half up (away
    from zero) to the rate unit when finer.
    """
    hourly: dict[int, Decimal] = {}
    quarters: dict[int, list[Decimal]] = {}
    for start_s, minutes, price in intervals:
        if minutes == 60:
            hourly[start_s] = price
        else:
            quarters.setdefault(start_s - start_s % HOUR_S, []).append(price)
    units = np.zeros(hour_start_utc_s.size, dtype=np.int64)
    known = np.zeros(hour_start_utc_s.size, dtype=bool)
    rounded = False
    for index, hour in enumerate(hour_start_utc_s.tolist()):
        value: Fraction | None = None
        if hour in hourly:
            value = Fraction(hourly[hour])
        elif len(quarters.get(hour, ())) == _QUARTERS_PER_HOUR:
            value = sum((Fraction(p) for p in quarters[hour]), Fraction(0)) / _QUARTERS_PER_HOUR
        if value is None:
            continue
        scaled = value * RATE_UNITS_PER_EUR_PER_MWH
        if scaled.denominator != 1:
            rounded = True
            scaled = Fraction(round_half_up(scaled, 0))
        units[index] = int(scaled)
        known[index] = True
    return HourlyPrices(price_units=units, known=known, rounded=rounded)
