"""The 55 %/45 % rule: the part of the tariff above the threshold share of shared energy.

For each set of plants (tariff only: threshold 55 %; tariff and capital grant: 45 %) and each
settlement year: excess share = max(0; incentivised energy / injected energy - threshold), in
percentage points, and excess amount = excess share x the set's whole tariff amount
(DM 414/2023 art. 3 c. 2 lett. g and Allegato 1 §4 [V]; RO §2.2.2.1.3 formula [C];
REGULATION.md §5). It is not (ratio - threshold) / ratio.
"""

from decimal import Decimal
from fractions import Fraction


def excess_share(*, incentivised_wh: int, injected_wh: int, threshold: Decimal) -> Fraction:
    """Return max(0; incentivised / injected - threshold) for one set of plants [1, exact].

    `incentivised_wh` and `injected_wh` are the set's yearly sums [Wh]. A set that injected
    nothing has no excess. Source: REGULATION.md §5 [V]/[C].
    """
    if injected_wh <= 0:
        return Fraction(0)
    return max(Fraction(0), Fraction(incentivised_wh, injected_wh) - Fraction(threshold))


def excess_eur(
    *, incentivised_wh: int, injected_wh: int, threshold: Decimal, incentive_eur: Fraction
) -> Fraction:
    """Return the excess amount [EUR, exact] of one set of plants over a settlement year.

    `incentive_eur` is the set's whole tariff amount [EUR, exact, after F].
    Source: RO §2.2.2.1.3 as quoted in REGULATION.md §5 [C].
    """
    share = excess_share(
        incentivised_wh=incentivised_wh, injected_wh=injected_wh, threshold=threshold
    )
    return share * incentive_eur
