"""Arithmetic of the dashboards on hourly integer series [Wh]: pure NumPy, no Django.

The rules themselves are the engine's: shared energy per hour is
`cercalc.sharing.shared_energy_by_hour`, its split among consumers
`cercalc.distribution.consumer_shares_wh` and among plants
`cercalc.sharing.attribute_chronologically`. What stays here is display arithmetic: sums
per day or month of hourly values (sums of hourly minima, never minima of sums), ratios in
percent. Money is never computed here: cer/dashboards/money.py reads the settlement's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Wh = npt.NDArray[np.int64]


def sum_by_buckets(values: Wh, starts: npt.NDArray[np.int64]) -> Wh:
    """Sum an hourly series over buckets that begin at the given hour indices."""
    if values.size == 0 or starts.size == 0:
        return np.zeros(starts.size, dtype=np.int64)
    return np.add.reduceat(values, starts).astype(np.int64)


def ratio_pct(part_wh: int, whole_wh: int) -> float | None:
    """Return part / whole in percent with one decimal, for display; None when whole is 0."""
    if whole_wh <= 0:
        return None
    return round(100 * part_wh / whole_wh, 1)
