"""Checks on what is declared about a configuration's plants, each a warning the user must see.

In words: the engine settles what it is given, but some declarations break a rule the
settlement cannot enforce by itself. Each check below adds one plain sentence naming the
plant and the rule, and changes no figure:

* existing plants above `existing_share_max` (30 %) of a CER's plant power (D.Lgs. 199/2021
  art. 31 c. 2; REGULATION.md §3.6 [S]); a plant is existing when declared so or, under the
  DM 414/2023 regime, in service before `existing_plant_cutoff_date` (DM 2020 plants keep
  their own regime and are not counted);
* a PNRR grant declared in a configuration type the grant does not cover (a remote
  self-consumer, §8 [S], parameter `pnrr_configuration_types`);
* a PNRR grant declared for a plant entering service after `pnrr_entry_into_service_until_date`
  (31 Dec 2027, DM 127/2025, §8 [S]);
* storage declared on a plant: it is read as in §3.4 [U], through the point's metered
  injections and withdrawals only;
* injection metered before a plant's entry into service, left out of shared energy
  (`injection_before_service`; settle.py applies the exclusion).
"""

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cercalc import buckets
from cercalc.eligibility import existing_share, existing_share_within_limit
from cercalc.money import format_kwh, round_half_up
from cercalc.params import Parameters

IntArray = npt.NDArray[np.int64]


class DeclaredPlant(Protocol):
    """What the checks read of a plant (settle.Plant holds these facts)."""

    @property
    def plant_id(self) -> str: ...
    @property
    def power_kw(self) -> Decimal: ...
    @property
    def entry_into_service_date(self) -> date: ...
    @property
    def existing(self) -> bool: ...
    @property
    def regime(self) -> str: ...
    @property
    def pnrr_investment_eur(self) -> Decimal | None: ...
    @property
    def storage_power_kw(self) -> Decimal: ...
    @property
    def storage_capacity_kwh(self) -> Decimal: ...


def check_declarations(
    *,
    configuration_type: str,
    plants: Sequence[DeclaredPlant],
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> None:
    """Append a warning for each declaration that breaks a rule the settlement cannot enforce.

    Parameters are read on `start_day`, the settlement's first local date. Plants are taken
    in id order so that the warnings do not depend on the order of `plants`.
    Sources: REGULATION.md §3.4 [U], §3.6 [S], §8 [S].
    """
    ordered = sorted(plants, key=lambda plant: plant.plant_id)

    def value(name: str) -> object:
        return parameters.value_on(name, start_day, warnings)

    if configuration_type == "CER":
        _check_existing_share(ordered, value, warnings)
    pnrr_types = value("pnrr_configuration_types")
    pnrr_until = value("pnrr_entry_into_service_until_date")
    assert isinstance(pnrr_types, tuple) and isinstance(pnrr_until, date)
    for plant in ordered:
        if plant.pnrr_investment_eur is not None:
            if configuration_type not in pnrr_types:
                warnings.append(
                    f"Plant {plant.plant_id} declares a PNRR grant, but the grant is for "
                    f"plants in a {' or '.join(pnrr_types)} configuration, not a "
                    f"{configuration_type}: the grant and its factor F are applied as "
                    "declared; check it (REGULATION.md §8 [S])."
                )
            if plant.entry_into_service_date > pnrr_until:
                warnings.append(
                    f"Plant {plant.plant_id} declares a PNRR grant but enters service on "
                    f"{plant.entry_into_service_date.isoformat()}, after "
                    f"{pnrr_until.isoformat()}, the last day DM 127/2025 allows: the grant "
                    "and its factor F are applied as declared; check it (REGULATION.md §8 [S])."
                )
        if plant.storage_power_kw > 0 or plant.storage_capacity_kwh > 0:
            warnings.append(
                f"Plant {plant.plant_id} declares storage ({_number(plant.storage_power_kw)} kW, "
                f"{_number(plant.storage_capacity_kwh)} kWh): storage counts only through the "
                "injections and withdrawals metered at the point of connection, a working "
                "reading (REGULATION.md §3.4 [U])."
            )


def injection_before_service(
    *,
    plants: Sequence[DeclaredPlant],
    hour_start_utc_s: IntArray,
    injected_wh: IntArray,
    warnings: list[str],
) -> IntArray:
    """Return the injections [Wh] with every hour before a plant's entry into service zeroed.

    A plant shares energy only once in service (REGULATION.md §3.2 [V]: attribution by entry
    into service); energy metered before that date is left out of shared energy, and of the
    plant's injected energy, with a warning naming the plant and the energy. The input array
    is not modified.
    """
    starts = np.array(
        [buckets.local_midnight_utc_s(plant.entry_into_service_date) for plant in plants],
        dtype=np.int64,
    )
    early = hour_start_utc_s[np.newaxis, :] < starts[:, np.newaxis]
    early_injection = np.where(early, injected_wh, 0)
    if not early_injection.any():
        return injected_wh
    for index in sorted(range(len(plants)), key=lambda i: plants[i].plant_id):
        energy = int(early_injection[index].sum())
        if energy:
            plant = plants[index]
            warnings.append(
                f"Plant {plant.plant_id} injected {format_kwh(energy)} kWh before its entry "
                f"into service on {plant.entry_into_service_date.isoformat()}: that energy is "
                "left out of shared energy (REGULATION.md §3.2 [V])."
            )
    return np.where(early, 0, injected_wh)


def _check_existing_share(
    plants: Sequence[DeclaredPlant], value: Callable[[str], object], warnings: list[str]
) -> None:
    cutoff = value("existing_plant_cutoff_date")
    share_max = value("existing_share_max")
    assert isinstance(cutoff, date) and isinstance(share_max, Decimal)
    existing = [
        plant
        for plant in plants
        if plant.existing or (plant.regime != "DM2020" and plant.entry_into_service_date < cutoff)
    ]
    existing_kw = sum((plant.power_kw for plant in existing), Decimal(0))
    total_kw = sum((plant.power_kw for plant in plants), Decimal(0))
    if existing_share_within_limit(
        existing_power_kw=existing_kw, total_power_kw=total_kw, share_max=share_max
    ):
        return
    share = existing_share(existing_power_kw=existing_kw, total_power_kw=total_kw)
    warnings.append(
        f"Existing plants ({', '.join(plant.plant_id for plant in existing)}) have "
        f"{_number(existing_kw)} kW of the configuration's {_number(total_kw)} kW, "
        f"{_percent(share)} %, above the {_percent(Fraction(share_max))} % a CER allows "
        "(D.Lgs. 199/2021 art. 31 c. 2; REGULATION.md §3.6 [S])."
    )


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _percent(share: Fraction) -> str:
    return format(round_half_up(share * 100, 1).normalize(), "f")
