"""PNRR capital grant (DM 414/2023 Part III) and the tariff reduction factor F it causes.

Eligible cost = min(actual cost; cap [EUR/kW] of the plant's power step x power), the cap
taken for the whole plant by its step, not progressively (REGULATION.md §8 [S], [U] reading);
grant = 40 % of the eligible cost; advance = 30 % of the grant (10 % before DM 127/2025).
F = F_max x (grant share / 0.40) with F_max = 0.50; above a 40 % grant share no tariff is due
(§4.3 [V] formula). The grant share is grant / investment, a working reading [U]: the base may
be the eligible cost instead (the two agree when the cost is under the cap).

The application file's rules (DM 127/2025, §8 [S]): entry into service at the latest
min(end of works + 24 months; 31 Dec 2027); a disbursement asks at most advance share x grant
(advance) or grant share x documented eligible cost (instalments and balance); the grant share
stored on a plant is grant / base x 100, rounded half up to 0.01 %.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from cercalc.fees import step_value
from cercalc.money import round_half_up
from cercalc.params import Parameters


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


def plant_grant(
    *,
    plant_id: str,
    power_kw: Decimal,
    investment_eur: Decimal | None,
    capital_grant_pct: Decimal,
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> tuple[CapitalGrant | None, Fraction]:
    """Return a plant's PNRR grant (when its investment is given) and its grant share.

    Parameters
    ----------
    plant_id : str
        Names the plant in warnings.
    power_kw : Decimal
        The plant's power [kW].
    investment_eur : Decimal or None
        The investment [EUR] under the PNRR grant; None when only a share is declared.
    capital_grant_pct : Decimal
        The declared capital grant [% of the investment], used without `investment_eur`.
    parameters : Parameters
        The dated parameter tables, read on `start_day`.
    start_day : date
        The settlement's first local (Europe/Rome) date.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    grant : CapitalGrant or None
        The grant figures [EUR], None without an investment or above the last power step.
    grant_share : Fraction
        The grant share [1, exact] that sets the factor F; 0 above the last power step.

    Notes
    -----
    The grant follows capital_grant (REGULATION.md §8 [S]); the share is grant / investment,
    or grant / eligible cost when f_grant_share_base says so (§4.3 [U]).
    """
    if investment_eur is None:
        return None, Fraction(capital_grant_pct) / 100
    try:
        grant = capital_grant(
            power_kw=power_kw,
            investment_eur=investment_eur,
            cost_caps_eur_per_kw=parameters.value_on(
                "pnrr_cost_cap_eur_per_kw_steps", start_day, warnings
            ),
            grant_share=parameters.value_on("pnrr_grant_share", start_day, warnings),
            advance_share=parameters.value_on("pnrr_advance_share", start_day, warnings),
        )
    except ValueError:
        warnings.append(
            f"Plant {plant_id} is above the largest PNRR power step: no grant is computed."
        )
        return None, Fraction(0)
    if grant.investment_eur == 0:
        return grant, Fraction(0)
    base = parameters.value_on("f_grant_share_base", start_day, warnings)
    if base == "eligible_cost":
        return grant, Fraction(grant.grant_eur) / Fraction(grant.eligible_cost_eur)
    if grant.investment_eur > grant.eligible_cost_eur:
        warnings.append(
            f"Plant {plant_id}: the factor F measures the grant on the whole investment "
            f"({grant.investment_eur} EUR), not on the eligible cost "
            f"({grant.eligible_cost_eur} EUR), a working reading (REGULATION.md §4.3 [U], "
            "parameter f_grant_share_base)."
        )
    return grant, Fraction(grant.grant_eur) / Fraction(grant.investment_eur)


def entry_into_service_deadline(
    *, works_end_date: date, months_after_works: int, until_date: date
) -> date:
    """Return the last day a PNRR plant may enter service [date, included].

    Source: DM 127/2025, entry into service within `months_after_works` months of the end of
    works and by `until_date` (REGULATION.md §8 [S]). A month later than a day that month
    lacks (31 Aug + 6 months) falls on the month's last day.
    """
    index = works_end_date.month - 1 + months_after_works
    year, month = works_end_date.year + index // 12, index % 12 + 1
    day = min(works_end_date.day, _days_in_month(year, month))
    return min(date(year, month, day), until_date)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def advance_limit_eur(*, grant_eur: Decimal, advance_share: Decimal) -> Decimal:
    """Return the largest advance on a grant [EUR, rounded half up to the cent].

    Source: DM 414/2023 art. 10 c. 1 lett. a, 30 % from DM 127/2025 (REGULATION.md §8 [S]).
    """
    return round_half_up(grant_eur * advance_share)


def documented_limit_eur(*, documented_eur: Decimal, grant_share: Decimal) -> Decimal:
    """Return the most an instalment or the balance may ask on documented eligible costs [EUR].

    Source: DM 414/2023 art. 10, payments by state of progress on documented costs at the
    grant's share (REGULATION.md §8 [S]); rounded half up to the cent.
    """
    return round_half_up(documented_eur * grant_share)


def grant_share_pct(*, grant_eur: Decimal, base_eur: Decimal) -> Decimal:
    """Return the grant as a percentage of its base [%, two decimals, half up].

    The base is the investment, or the eligible cost when the parameter f_grant_share_base
    says so (REGULATION.md §4.3 [U]). Raises ValueError for a base that is not positive.
    """
    if base_eur <= 0:
        raise ValueError("the grant share needs a positive investment")
    return round_half_up(grant_eur * 100 / base_eur)
