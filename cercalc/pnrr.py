"""PNRR capital grant (DM 414/2023 Part III) and the tariff reduction factor F it causes.

Eligible cost = min(actual cost; cap [EUR/kW] of the plant's power step x power), the cap
taken for the whole plant by its step, not progressively (REGULATION.md §8 [S], [U] reading);
grant = 40 % of the eligible cost; advance = 30 % of the grant (10 % before DM 127/2025).
F = F_max x (grant share / 0.40) with F_max = 0.50; above a 40 % grant share no tariff is due
(§4.3 [V] formula). The grant share is grant / investment, a working reading [U]: the base may
be the eligible cost instead (the two agree when the cost is under the cap).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cercalc.fees import step_value


@dataclass(frozen=True)
class CapitalGrant:
    """The grant figures of one plant [EUR, exact]."""

    investment_eur: Decimal
    eligible_cost_eur: Decimal
    grant_eur: Decimal
    advance_eur: Decimal


def capital_grant(
    *,
    power_kw: Decimal,
    investment_eur: Decimal,
    cost_caps_eur_per_kw: Sequence[tuple[Decimal, Decimal]],
    grant_share: Decimal,
    advance_share: Decimal,
) -> CapitalGrant:
    """Return the PNRR grant of a plant of `power_kw` [kW] costing `investment_eur` [EUR].

    Source: DM 414/2023 Part III, artt. 6-10 (REGULATION.md §8 [S]).
    Raises ValueError above the last power step (plants above 1 MW get no grant).
    """
    cap_eur_per_kw = step_value(power_kw, cost_caps_eur_per_kw)
    if cap_eur_per_kw is None:
        raise ValueError(f"no PNRR grant for {power_kw} kW, above the last power step")
    eligible = min(investment_eur, cap_eur_per_kw * power_kw)
    grant = eligible * grant_share
    return CapitalGrant(investment_eur, eligible, grant, grant * advance_share)


def grant_reduction_factor(
    grant_share: Fraction, *, f_max: Decimal, share_at_f_max: Decimal
) -> Fraction:
    """Return F = F_max x grant share / share at F_max, capped at F_max [1, exact].

    Source: DM 414/2023 Allegato 1 §3 (REGULATION.md §4.3 [V]). A share above
    `share_at_f_max` means no tariff at all; the caller checks it.
    """
    factor = Fraction(f_max) * grant_share / Fraction(share_at_f_max)
    return min(factor, Fraction(f_max))
