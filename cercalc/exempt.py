"""The part of the incentivised energy that serves consumers exempt from F, kept exact.

In words: each hour, the incentivised energy E_h of the DM 414/2023 plants is split between
withdrawal points exempt from the capital-grant factor F and the others (REGULATION.md §4.3
[C] rule). The split is open [U]: the working reading "proportional" gives the exempt points
E_h x W_exempt,h / W_h, the alternative "exempt_first" gives min(E_h; W_exempt,h). The exempt
energy goes first to the plants with a grant, oldest first, each up to its own incentivised
energy (§4.3 [C]), and is paid at the plant's tariff before F.

No energy is rounded here. A plant's incentivised energy is its attributed energy times
incentivised power / power (§3.3 [U]), a fraction with a denominator of its own; all plants are
put on one common denominator L (the least common multiple, 1 when no plant has a Superbonus
or obligation share), and the proportional split adds the hour's withdrawal W_h to it. Each
hour therefore holds integer numerators over the denominator L x W_h (or L), the chronological
attribution compares them exactly, and each plant's money is the sum over the hours of
numerator x rate / denominator, each quotient taken to 1e-20 EUR (money.sum_of_quotients:
an exact sum over a year of distinct hourly denominators would carry tens of thousands of
digits), rounded to the cent only where it is shown (ENGINE_IO.md: sums before rounding).
"""

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc import sharing
from cercalc.money import sum_of_quotients

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

RULES = ("proportional", "exempt_first")


def exempt_money_units(
    *,
    attributed_wh: IntArray,
    kept_share: Sequence[Fraction],
    under_tariff: Sequence[bool],
    with_grant: Sequence[int],
    grant_order: npt.NDArray[np.intp],
    rate_units: IntArray,
    exempt_withdrawn_wh: IntArray,
    withdrawn_by_hour_wh: IntArray,
    rule: str,
) -> list[Fraction]:
    """Return, for each plant with a grant, the money of its exempt energy [1e-10 EUR, exact].

    Parameters
    ----------
    attributed_wh : int64 array [plants, hours]
        Shared energy attributed to each plant inside its tariff years [Wh].
    kept_share : sequence of Fraction
        Per plant, incentivised power / power [1] (1 without Superbonus or obligation power).
    under_tariff : sequence of bool
        Per plant, whether it is paid the DM 414/2023 tariff (its energy counts in E_h).
    with_grant : sequence of int
        Rows of the plants with a grant (F > 0), in the order of the result.
    grant_order : intp array
        Positions in `with_grant`, oldest plant first (sharing.chronological_order).
    rate_units : int64 array [plants, hours]
        Each plant's tariff before F [1e-4 EUR/MWh].
    exempt_withdrawn_wh, withdrawn_by_hour_wh : int64 array [hours]
        Withdrawals of the exempt consumers and of all consumers [Wh].
    rule : str
        "proportional" or "exempt_first" (parameter f_exempt_split).

    Returns
    -------
    list of Fraction
        One amount [1e-10 EUR, to 1e-10 of the unit] per row of `with_grant`.

    Notes
    -----
    Source: RO §2.2.2.1.2 as quoted in REGULATION.md §4.3 [C]; the split is open [U].
    Raises ValueError for an unknown rule.
    """
    if rule not in RULES:
        raise ValueError(f"unknown exempt split rule {rule!r}")
    grants = list(with_grant)
    # Only hours where a plant with a grant has energy and an exempt consumer withdraws can
    # hold exempt money: elsewhere the exempt energy or the capacity it goes to is zero.
    hours = np.flatnonzero((attributed_wh[grants] > 0).any(axis=0) & (exempt_withdrawn_wh > 0))
    if not grants or hours.size == 0:
        return [Fraction(0)] * len(grants)
    tariff_rows = [i for i, paid in enumerate(under_tariff) if paid]
    common = math.lcm(*(kept_share[i].denominator for i in tariff_rows))
    # Numerators of each plant's incentivised energy over the common denominator [Wh / L].
    scale = {
        i: kept_share[i].numerator * (common // kept_share[i].denominator) for i in tariff_rows
    }
    columns = attributed_wh[:, hours].astype(object)
    incentivised = {i: columns[i] * scale[i] for i in tariff_rows}
    total = sum((incentivised[i] for i in tariff_rows), np.zeros(hours.size, dtype=object))
    exempt_withdrawn = exempt_withdrawn_wh[hours].astype(object)
    if rule == "proportional":
        withdrawn = np.maximum(withdrawn_by_hour_wh[hours], 1).astype(object)
        exempt = total * exempt_withdrawn
        capacity = np.stack([incentivised[i] * withdrawn for i in grants])
        denominator = withdrawn * common
    else:
        exempt = np.minimum(total, exempt_withdrawn * common)
        capacity = np.stack([incentivised[i] for i in grants])
        denominator = np.full(hours.size, common, dtype=object)
    allocation = sharing.attribute_chronologically(
        energy_by_hour_wh=exempt, capacity_wh=capacity, order=grant_order
    )
    rates = rate_units[grants][:, hours].astype(object)
    return [
        sum_of_quotients((allocation[k] * rates[k]).tolist(), denominator.tolist())
        for k in range(len(grants))
    ]
