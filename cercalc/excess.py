"""The 55 %/45 % rule: the part of the tariff above the threshold share of shared energy.

For each set of plants (tariff only: threshold 55 %; tariff and capital grant: 45 %) and each
settlement year: excess share = max(0; incentivised energy / injected energy - threshold), in
percentage points, and excess amount = excess share x the set's whole tariff amount
(DM 414/2023 art. 3 c. 2 lett. g and Allegato 1 §4 [V]; RO §2.2.2.1.3 formula [C];
REGULATION.md §5). It is not (ratio - threshold) / ratio.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from cercalc import buckets
from cercalc.params import Parameters


def excess_share(
    *, incentivised_wh: int | Fraction, injected_wh: int, threshold: Decimal
) -> Fraction:
    """Return max(0; incentivised / injected - threshold) for one set of plants [1, exact].

    `incentivised_wh` and `injected_wh` are the set's yearly sums [Wh]. A set that injected
    nothing has no excess. Source: REGULATION.md §5 [V]/[C].
    """
    if injected_wh <= 0:
        return Fraction(0)
    return max(Fraction(0), Fraction(incentivised_wh) / injected_wh - Fraction(threshold))


def excess_eur(
    *,
    incentivised_wh: int | Fraction,
    injected_wh: int,
    threshold: Decimal,
    incentive_eur: Fraction,
) -> Fraction:
    """Return the excess amount [EUR, exact] of one set of plants over a settlement year.

    `incentive_eur` is the set's whole tariff amount [EUR, exact, after F].
    Source: RO §2.2.2.1.3 as quoted in REGULATION.md §5 [C].
    """
    share = excess_share(
        incentivised_wh=incentivised_wh, injected_wh=injected_wh, threshold=threshold
    )
    return share * incentive_eur


def excess_of_plants_eur(
    *,
    under_rule: Sequence[bool],
    with_grant: Sequence[bool],
    injected_wh: Sequence[int],
    incentivised_wh: Sequence[int | Fraction],
    incentive_eur: Sequence[Fraction],
    first_hour_utc_s: int,
    last_hour_utc_s: int,
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> Fraction:
    """Return the tariff amount above the 55 %/45 % thresholds of a settlement's plants.

    Parameters
    ----------
    under_rule : sequence of bool
        Per plant: subject to the rule (the DM 414/2023 tariff; DM 2020 plants are not).
    with_grant : sequence of bool
        Per plant: has a capital grant (45 % set) or not (55 % set).
    injected_wh, incentivised_wh : sequence of int (Fraction for incentivised)
        Per plant: the period's injected and exact incentivised energy [Wh].
    incentive_eur : sequence of Fraction
        Per plant: the period's tariff amount after F [EUR, exact].
    first_hour_utc_s, last_hour_utc_s : int
        First and last bucket starts of the period [s since epoch, UTC].
    parameters : Parameters
        The dated parameter tables (excess_threshold_share, excess_threshold_share_with_grant),
        read on `start_day`.
    start_day : date
        The settlement's first local (Europe/Rome) date.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    Fraction
        The excess amount [EUR, exact], the sum of excess_eur over the two sets.

    Notes
    -----
    The period is taken as one settlement year, with a warning when it spans several
    (REGULATION.md §5 [V] rule, [C] formula).
    """
    total = Fraction(0)
    for grant_set, threshold_name in (
        (False, "excess_threshold_share"),
        (True, "excess_threshold_share_with_grant"),
    ):
        members = [
            i
            for i, (ruled, granted) in enumerate(zip(under_rule, with_grant, strict=True))
            if ruled and granted == grant_set
        ]
        if not members:
            continue
        total += excess_eur(
            incentivised_wh=sum((Fraction(incentivised_wh[i]) for i in members), Fraction(0)),
            injected_wh=sum(injected_wh[i] for i in members),
            threshold=Decimal(str(parameters.value_on(threshold_name, start_day, warnings))),
            incentive_eur=sum((incentive_eur[i] for i in members), Fraction(0)),
        )
    years = buckets.local_years_spanned(first_hour_utc_s, last_hour_utc_s)
    if len(years) > 1 and total:
        warnings.append(
            f"The case spans the years {years[0]}-{years[-1]}: the 55 %/45 % rule was applied "
            "to the whole period as one settlement year."
        )
    return total
