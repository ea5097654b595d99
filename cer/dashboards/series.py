"""Arithmetic of the dashboards on hourly integer series [Wh]: pure NumPy, no Django.

Shared energy of a configuration, hour by hour, is the minimum of the energy its points
inject and the energy they withdraw in that hour (TIAD; REGULATION.md §3.1); it is summed
over hours and configurations only afterwards, so day and month totals are sums of hourly
minima, never minima of sums.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

Wh = npt.NDArray[np.int64]
CENT = Decimal("0.01")
WH_PER_MWH = Decimal(1_000_000)


def shared_energy_wh(*, injected_wh: Wh, withdrawn_wh: Wh) -> Wh:
    """Return the hourly shared energy of one configuration [Wh]: min(injected, withdrawn)."""
    return np.minimum(injected_wh, withdrawn_wh)


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


def estimate_incentive_eur(
    *,
    shared_wh: int,
    premium_rate_eur_per_mwh: Decimal,
    valorisation_eur_per_mwh: Decimal,
) -> Decimal:
    """Return an indicative amount [EUR]: shared energy [Wh] times a flat rate [EUR/MWh].

    Not a settlement: the TIP depends on hourly zonal prices and on each plant
    (REGULATION.md §4), the valorisation on the self-consumed energy (§6).
    """
    amount = Decimal(shared_wh) * (premium_rate_eur_per_mwh + valorisation_eur_per_mwh)
    return (amount / WH_PER_MWH).quantize(CENT, rounding=ROUND_HALF_UP)


def share_by_withdrawal_wh(*, shared_wh: Wh, total_withdrawn_wh: Wh, own_withdrawn_wh: Wh) -> Wh:
    """Attribute hourly shared energy to one consumer in proportion to their withdrawal [Wh].

    A project working reading (REGULATION.md §4.3, §14): rounded down to the Wh each hour.
    """
    safe_total = np.where(total_withdrawn_wh > 0, total_withdrawn_wh, 1)
    share = shared_wh * own_withdrawn_wh // safe_total
    return np.where(total_withdrawn_wh > 0, share, 0).astype(np.int64)


def attribute_chronologically_wh(*, shared_wh: Wh, injected_wh_by_point: Wh) -> Wh:
    """Attribute hourly shared energy to producing points, oldest plant first [Wh].

    `injected_wh_by_point` has one row per point, ordered by their plants' entry into
    service; each point takes up to its own injection (GSE FAQ; REGULATION.md §3.2).
    """
    remaining = shared_wh.astype(np.int64).copy()
    attributed = np.zeros_like(injected_wh_by_point, dtype=np.int64)
    for row, injected in enumerate(injected_wh_by_point):
        taken = np.minimum(injected, remaining)
        attributed[row] = taken
        remaining -= taken
    return attributed
