"""Hourly shared energy of a configuration and its attribution to plants.

Shared energy in an hour is the minimum of the energy injected by all plants and the energy
withdrawn by all consumers of the configuration (one primary substation), with no netting across
hours (REGULATION.md §3.1 [V]). It is attributed to plants in order of entry into service, each
up to its own injection, until it runs out (§3.2 [V]). With the plants sorted, plant k gets
min(cumulative injection of plants 1..k, shared) - min(cumulative injection of plants 1..k-1,
shared): cumulative sums over the plant axis, then a clip, for all hours at once.

Plants entering service on the same date are taken in increasing order of their id (plain string
order). The sources give no tie-break (§3.2 and §13 point 5 [U]); this one is stable and does
not depend on the order in which plants are listed.

Energies are int64 watt-hours. Hourly sums cannot overflow in practice: 10,000 points each
withdrawing 1 GWh in one hour sum to 1e13 Wh, against an int64 limit of 9.2e18.
"""

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def shared_energy_by_hour(
    *, injected_by_hour_wh: IntArray, withdrawn_by_hour_wh: IntArray
) -> IntArray:
    """Return the hourly shared energy [Wh] from the hourly totals injected and withdrawn [Wh].

    Source: TIAD definition, GSE FAQ (REGULATION.md §3.1 [V]).
    """
    return np.minimum(injected_by_hour_wh, withdrawn_by_hour_wh)


def chronological_order(entry_dates: Sequence[date], ids: Sequence[str]) -> npt.NDArray[np.intp]:
    """Return plant indices sorted by (entry into service date, id).

    Source: GSE FAQ on attribution by entry into service (REGULATION.md §3.2 [V]); the id
    tie-break is a project reading [U].
    """
    return np.array(
        sorted(range(len(ids)), key=lambda index: (entry_dates[index], ids[index])),
        dtype=np.intp,
    )


def attribute_chronologically(
    *, energy_by_hour_wh: IntArray, capacity_wh: IntArray, order: npt.NDArray[np.intp]
) -> IntArray:
    """Split each hour's energy [Wh] among rows in the given order, each up to its capacity [Wh].

    `capacity_wh` is rows x hours (a plant's injection); the result has the same shape and each
    column sums to min(energy, total capacity) of that hour. Source: REGULATION.md §3.2 [V].
    """
    cumulative = np.cumsum(capacity_wh[order], axis=0)
    np.minimum(cumulative, energy_by_hour_wh, out=cumulative)
    taken = np.diff(cumulative, axis=0, prepend=0)
    attributed = np.empty_like(taken)
    attributed[order] = taken
    return attributed


def withdrawn_by_group(
    *, withdrawn_wh: IntArray, in_group: npt.NDArray[np.bool_], withdrawn_by_hour_wh: IntArray
) -> IntArray:
    """Return the hourly withdrawal [Wh] of the consumers flagged in `in_group`.

    `withdrawn_wh` is consumers x hours and `withdrawn_by_hour_wh` its column sums. Only the
    smaller side is read: the group's rows, or the other rows subtracted from the total, so
    the large array is not read again in full.
    """
    if 2 * int(in_group.sum()) <= in_group.size:
        return withdrawn_wh[in_group].sum(axis=0)
    return withdrawn_by_hour_wh - withdrawn_wh[~in_group].sum(axis=0)
