"""GSE fees of DM MASE 106/2024, per plant.

Yearly fee for a plant with the tariff: 0 up to 3 kW, 15 EUR up to 20 kW, above that
15 EUR + 1 EUR for each kW above 20 (a fractional kW pro rata, a working reading [U]).
One-off fee for a plant with a PNRR grant, by power step: 50 EUR up to 20 kW, 450 up to 200,
1,300 up to 600, 2,300 up to 1,000 (REGULATION.md §7 [V] decree, [S] amounts).
"""

from collections.abc import Sequence
from decimal import Decimal


def gse_fee_eur_per_year(
    power_kw: Decimal,
    *,
    free_max_kw: Decimal,
    fixed_max_kw: Decimal,
    fixed_eur_per_year: Decimal,
    eur_per_kw_year: Decimal,
) -> Decimal:
    """Return the yearly GSE fee [EUR/year] of a plant of `power_kw` [kW] with the tariff.

    Source: DM MASE 15 marzo 2024 n. 106 (REGULATION.md §7 [S]).
    """
    if power_kw <= free_max_kw:
        return Decimal(0)
    if power_kw <= fixed_max_kw:
        return fixed_eur_per_year
    return fixed_eur_per_year + (power_kw - fixed_max_kw) * eur_per_kw_year


def step_value(power_kw: Decimal, steps: Sequence[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Return the value of the first step whose upper power bound [kW] is >= `power_kw`.

    Returns None above the last step.
    """
    for max_kw, value in steps:
        if power_kw <= max_kw:
            return value
    return None


def pnrr_fee_eur(power_kw: Decimal, steps: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """Return the one-off GSE fee [EUR] of a plant of `power_kw` [kW] with a PNRR grant.

    Source: DM MASE 106/2024 (REGULATION.md §7 [S]).
    Raises ValueError above the last power step (1,000 kW: no PNRR grant).
    """
    fee = step_value(power_kw, steps)
    if fee is None:
        raise ValueError(f"no PNRR fee for {power_kw} kW, above the last power step")
    return fee
