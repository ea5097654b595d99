"""GSE fees of DM MASE 106/2024, per plant.

Yearly fee for a plant with the tariff: 0 up to 3 kW, 15 EUR up to 20 kW, above that
15 EUR + 1 EUR for each kW above 20 (a fractional kW pro rata, a working reading [U]).
One-off fee for a plant with a PNRR grant, by power step: 50 EUR up to 20 kW, 450 up to 200,
1,300 up to 600, 2,300 up to 1,000 (REGULATION.md §7 [V] decree, [S] amounts).
The amounts are dated parameters; the plant_* functions read them and apply the formulas.
GSE nets the yearly fee once a year (§7 [S]); the monthly shadow settlement provisions it:
months 1 to 11 take the year's fee divided by 12, rounded half up to the cent, and December
takes the year's fee minus what months 1 to 11 provisioned, so the twelve provisions add up
to the fee to the cent (monthly_fee_provision_eur).
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

from cercalc.money import round_eur
from cercalc.params import Parameters

MONTHS_PER_YEAR = 12


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


def plant_gse_fee_eur_per_year(
    *,
    plant_id: str,
    power_kw: Decimal,
    with_tariff: bool,
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> Decimal:
    """Return the yearly GSE fee of one plant, with the amounts in force on `start_day`.

    Parameters
    ----------
    plant_id : str
        Names the plant in warnings.
    power_kw : Decimal
        The plant's power [kW].
    with_tariff : bool
        Whether the plant gets the DM 414/2023 tariff: the fee is for its beneficiaries only.
    parameters : Parameters
        The dated parameter tables (gse_fee_*), read on `start_day`.
    start_day : date
        The settlement's first local (Europe/Rome) date.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    Decimal
        The fee [EUR/year], 0 without the tariff.

    Notes
    -----
    gse_fee_eur_per_year with the dated amounts (DM MASE 106/2024, REGULATION.md §7 [S]); a
    fraction of a kW above the fixed band is charged pro rata, with a warning (§7 [U]).
    """
    if not with_tariff:
        return Decimal(0)

    def value(name: str) -> Decimal:
        return Decimal(str(parameters.value_on(name, start_day, warnings)))

    fixed_max_kw = value("gse_fee_fixed_max_kw")
    if power_kw > fixed_max_kw and power_kw != power_kw.to_integral_value():
        warnings.append(
            f"Plant {plant_id}: the GSE fee charges the fraction of a kW above "
            f"{fixed_max_kw.normalize():f} kW pro rata, a working reading (REGULATION.md §7 [U])."
        )
    return gse_fee_eur_per_year(
        power_kw,
        free_max_kw=value("gse_fee_free_max_kw"),
        fixed_max_kw=fixed_max_kw,
        fixed_eur_per_year=value("gse_fee_fixed_eur_per_year"),
        eur_per_kw_year=value("gse_fee_eur_per_kw_year"),
    )


def plant_pnrr_fee_eur(
    *,
    power_kw: Decimal,
    grant_share: Fraction,
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> Decimal | None:
    """Return the one-off GSE fee of one plant with a capital grant.

    Parameters
    ----------
    power_kw : Decimal
        The plant's power [kW].
    grant_share : Fraction
        The plant's grant share [1]; 0 means no grant.
    parameters : Parameters
        The dated parameter tables (pnrr_fee_eur_steps), read on `start_day`.
    start_day : date
        The settlement's first local (Europe/Rome) date.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    Decimal or None
        The fee [EUR]; None without a grant or above the last power step.

    Notes
    -----
    DM MASE 106/2024 (REGULATION.md §7 [S]).
    """
    if grant_share <= 0:
        return None
    steps = parameters.value_on("pnrr_fee_eur_steps", start_day, warnings)
    return step_value(power_kw, steps)


def monthly_fee_provision_eur(
    *,
    fee_eur_per_year: Decimal,
    month: int,
    provisioned_eur: Decimal | None = None,
) -> Decimal:
    """Return the month's provision [EUR] for a yearly GSE fee [EUR/year], trued up in December.

    Months 1 to 11 take round_half_up(fee / 12) to the cent; December (month 12) takes the
    fee minus `provisioned_eur`, what months 1 to 11 provisioned [EUR] (by default eleven
    rounded twelfths of the same fee), so the year's provisions add up to the fee exactly:
    215.00 gives 11 x 17.92 + 17.88. Source: DM MASE 106/2024, fees netted yearly
    (REGULATION.md §7 [S], §10); the true-up in December is the project's rule (§14:
    round once per line, parts add up to the whole).
    Raises ValueError for a month outside 1..12.
    """
    if not 1 <= month <= MONTHS_PER_YEAR:
        raise ValueError(f"month must be 1..12, not {month}")
    twelfth = round_eur(Fraction(fee_eur_per_year) / MONTHS_PER_YEAR)
    if month < MONTHS_PER_YEAR:
        return twelfth
    if provisioned_eur is None:
        provisioned_eur = twelfth * (MONTHS_PER_YEAR - 1)
    return round_eur(Fraction(fee_eur_per_year) - Fraction(provisioned_eur))
