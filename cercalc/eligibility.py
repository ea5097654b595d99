"""Eligibility limits of a plant, read from the dated parameters, and the 30 % existing-share rule.

A plant is "existing" when it entered service before D.Lgs. 199/2021 took effect, i.e. before
`existing_plant_cutoff_date` (16 Dec 2021): it may join but earns the valorisation only
(REGULATION.md §3.6 [S]). In a CER the power of the existing plants may be at most
`existing_share_max` (30 %) of the power of all its plants: the share existing power / total
power is compared exactly, before any rounding, and the limit itself is allowed (D.Lgs. 199/2021
art. 31 c. 2; REGULATION.md §3.6 [S], §9 [S]). A community without plant power has a share of 0.

The other limits a plant is checked against (1 MW, the DM 414/2023 start for new plants, the
DM 16/9/2020 power and deadline, the Superbonus 20 kW, the photovoltaic regional correction)
are read here in one go from the same parameter tables the settlement uses, on the day they
apply to: the plant's entry into service.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cercalc.params import Parameters


@dataclass(frozen=True)
class EligibilityLimits:
    """The regulatory limits a plant is checked against, with the parameter each comes from.

    Dates are Europe/Rome calendar dates.
    """

    max_power_kw: Decimal  # tip_max_power_kw: above 1 MW no tariff (§3.6, §9)
    existing_before_date: date  # existing_plant_cutoff_date: earlier plants are existing (§3.6)
    new_plant_from_date: date  # tip_new_plant_from_date: DM 414/2023 in force (§9)
    dm2020_requests_until_date: date  # dm2020_requests_until_date: last day included (§1)
    dm2020_max_power_kw: Decimal  # dm2020_max_power_kw (§1)
    existing_share_max: Decimal  # existing_share_max [1]: 0.30 of a CER's power (§3.6)
    superbonus_max_kw: Decimal  # superbonus_max_kw (§3.3)
    pv_correction_eur_per_mwh: Mapping[str, Decimal]  # pv_regional_correction_eur_per_mwh (§4.2)


def eligibility_limits(
    parameters: Parameters, *, day: date, warnings: list[str] | None = None
) -> EligibilityLimits:
    """Return the eligibility limits valid on the local date `day`.

    A date no period of a parameter covers takes its nearest value, with a warning added to
    `warnings` when given. Raises ParameterError for a parameter the tables lack.
    """
    notes: list[str] = [] if warnings is None else warnings

    def value(name: str) -> Any:
        return parameters.value_on(name, day, notes)

    return EligibilityLimits(
        max_power_kw=value("tip_max_power_kw"),
        existing_before_date=value("existing_plant_cutoff_date"),
        new_plant_from_date=value("tip_new_plant_from_date"),
        dm2020_requests_until_date=value("dm2020_requests_until_date"),
        dm2020_max_power_kw=value("dm2020_max_power_kw"),
        existing_share_max=value("existing_share_max"),
        superbonus_max_kw=value("superbonus_max_kw"),
        pv_correction_eur_per_mwh=value("pv_regional_correction_eur_per_mwh"),
    )


def is_existing_plant(
    entry_into_service_date: date, *, parameters: Parameters, regime: str = "DM414"
) -> bool:
    """Tell whether a plant entered service before D.Lgs. 199/2021 took effect.

    A plant admitted under DM 16/9/2020 (`regime` "DM2020") is never existing: it keeps that
    regime's terms, and the cut-off belongs to the new regime only (REGULATION.md §1 [V]).
    Source: REGULATION.md §3.6 [S] (in service before 16 Dec 2021).
    """
    if regime == "DM2020":
        return False
    cutoff = parameters.value_on("existing_plant_cutoff_date", entry_into_service_date, [])
    return bool(entry_into_service_date < cutoff)


def existing_share(*, existing_power_kw: Decimal, total_power_kw: Decimal) -> Fraction:
    """Return the existing plants' share of the community's plant power [1], exactly.

    `existing_power_kw` and `total_power_kw` [kW] both include every plant of the community;
    the share is 0 when the total is not positive. Source: REGULATION.md §3.6 [S].
    """
    if total_power_kw <= 0:
        return Fraction(0)
    return Fraction(existing_power_kw) / Fraction(total_power_kw)


def existing_share_within_limit(
    *, existing_power_kw: Decimal, total_power_kw: Decimal, share_max: Decimal
) -> bool:
    """Tell whether existing plants [kW] are at most `share_max` [1] of all plants [kW].

    The limit itself is allowed (30 % of 100 kW passes, 30.1 kW fails). Source: D.Lgs.
    199/2021 art. 31 c. 2; REGULATION.md §3.6 [S], §9 [S].
    """
    share = existing_share(existing_power_kw=existing_power_kw, total_power_kw=total_power_kw)
    return share <= Fraction(share_max)
