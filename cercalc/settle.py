"""Settle one configuration over a run of hours: shared energy, tariff, valorisation, excess, fees.

In words: declared facts that break a rule are flagged and injection before a plant's entry into
service is left out (checks.py); each hour, shared energy = min(sum injected, sum withdrawn)
(sharing.py); it is
attributed to plants by entry into service (sharing.py); each plant's tariff, band, grant and
fees are fixed for the period and its tariff applies to its incentivised energy (tariff.py, over
the formulas of incentives.py, pnrr.py and fees.py); the valorisation applies to all shared
energy (valorisation.py); the tariff above 55 %/45 % of injected energy is the excess, over the
whole period taken as the settlement year (excess.py). Money is exact until each shown figure is
rounded half up to the cent (money.py). This module only checks the inputs and calls those
topic functions in order.

Python API (the web application calls this for monthly statements)::

    settle(
        *,
        configuration: Configuration,
        plants: Sequence[Plant],
        consumers: Sequence[Consumer],
        hour_start_utc_s: int64[hours],         # bucket starts [s since epoch, UTC], increasing
        injected_wh: int64[plants, hours],      # [Wh], not negative
        withdrawn_wh: int64[consumers, hours],  # [Wh], not negative (not re-checked here)
        zonal_price_units: int64[hours],        # Pz [1e-4 EUR/MWh], see money.rate_units()
        price_known: bool[hours] | None = None, # False where no zonal price is known
        parameters: Parameters | None = None,   # params.default_parameters().with_overrides(...)
    ) -> SettlementResult

Raises InvalidInput (a ValueError) for inconsistent inputs and MissingZonalPrice for an hour
with shared energy and no price. Rows of the arrays follow the order of `plants` and
`consumers`; the results do not depend on that order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc import buckets, checks, excess, pnrr, sharing, tariff, valorisation
from cercalc.money import exact_row_sums, exact_sum, round_eur, round_half_up
from cercalc.params import (
    CONFIGURATION_TYPES,
    CONSUMER_CATEGORIES,
    REGIONS,
    VOLTAGE_LEVELS,
    Parameters,
    default_parameters,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SOURCES = ("PV", "WIND", "HYDRO", "BIOGAS", "BIOMASS", "OTHER")
REGIMES = (tariff.DM414, tariff.DM2020)


class InvalidInput(ValueError):
    """Inputs that cannot be settled (shapes, duplicates, unknown codes, negative energy)."""


class MissingZonalPrice(InvalidInput):
    """An hour with shared energy has no zonal price."""

    def __init__(self, hour_index: int, hour_start_utc_s: int) -> None:
        super().__init__(
            f"hour {buckets.format_utc(hour_start_utc_s)} has shared energy but no zonal price"
        )
        self.hour_index = hour_index
        self.hour_start_utc_s = hour_start_utc_s


@dataclass(frozen=True)
class Configuration:
    """A configuration: one primary substation of a CER, CEC, AUC or AID."""

    type: str
    region: str
    primary_substation: str = ""


@dataclass(frozen=True)
class Plant:
    """A production plant (or upgrade section) with the facts the tariff depends on."""

    plant_id: str
    source: str
    power_kw: Decimal
    entry_into_service_date: date
    region: str
    existing: bool = False
    capital_grant_pct: Decimal = Decimal(0)
    pnrr_investment_eur: Decimal | None = None
    superbonus_kw: Decimal = Decimal(0)
    obligation_kw: Decimal = Decimal(0)
    regime: str = tariff.DM414
    storage_power_kw: Decimal = Decimal(0)
    storage_capacity_kwh: Decimal = Decimal(0)


@dataclass(frozen=True)
class Consumer:
    """A withdrawal point, the category of its holder and its voltage level (LV, MV, HV)."""

    consumer_id: str
    category: str
    voltage_level: str = "LV"


@dataclass(frozen=True)
class PlantResult:
    """The settled figures of one plant (energies [Wh], money [EUR]).

    `incentivised_wh` is the exact `incentivised_exact_wh` rounded half up once.
    """

    plant_id: str
    injected_wh: int
    shared_wh: int
    incentivised_wh: int
    incentivised_exact_wh: Fraction
    incentive_exact_eur: Fraction
    incentive_eur: Decimal
    gse_fee_eur_per_year: Decimal
    grant_reduction_f: Fraction | None
    capital_grant: pnrr.CapitalGrant | None
    pnrr_fee_eur: Decimal | None


@dataclass(frozen=True, eq=False)
class SettlementResult:
    """Hourly series (plants x hours where two-dimensional), plant figures and totals.

    `incentivised_wh` holds each hour rounded half up to the Wh, for display only: the plant
    figures and the amounts come from exact sums (ENGINE_IO.md, sums before rounding).
    """

    hour_start_utc_s: IntArray
    shared_wh: IntArray
    allocation_wh: IntArray
    incentivised_wh: IntArray
    premium_rate_cent_per_mwh: IntArray
    plants: tuple[PlantResult, ...]
    injected_wh: int
    withdrawn_wh: int
    shared_total_wh: int
    incentive_exact_eur: Fraction
    valorisation_exact_eur: Fraction
    excess_exact_eur: Fraction
    warnings: tuple[str, ...]

    @property
    def incentive_eur(self) -> Decimal:
        """The total tariff amount [EUR], rounded half up once."""
        return round_eur(self.incentive_exact_eur)

    @property
    def valorisation_eur(self) -> Decimal:
        """The valorisation contribution [EUR], rounded half up once."""
        return round_eur(self.valorisation_exact_eur)

    @property
    def excess_eur(self) -> Decimal:
        """The tariff amount above the 55 %/45 % thresholds [EUR], rounded half up once."""
        return round_eur(self.excess_exact_eur)


def settle(
    *,
    configuration: Configuration,
    plants: Sequence[Plant],
    consumers: Sequence[Consumer],
    hour_start_utc_s: IntArray,
    injected_wh: IntArray,
    withdrawn_wh: IntArray,
    zonal_price_units: IntArray,
    price_known: BoolArray | None = None,
    parameters: Parameters | None = None,
) -> SettlementResult:
    """Settle a configuration over the given hours (see the module docstring for the arrays).

    Sources: REGULATION.md §3-8 as cited in each step's module.
    Raises InvalidInput for inconsistent inputs, MissingZonalPrice for an hour with shared
    energy and no zonal price.
    """
    params = parameters or default_parameters()
    warnings: list[str] = []
    _check_inputs(
        configuration, plants, consumers, hour_start_utc_s, injected_wh, withdrawn_wh, params
    )
    hours = hour_start_utc_s
    start_day = buckets.local_date_of(int(hours[0]))
    checks.check_declarations(
        configuration_type=configuration.type,
        plants=plants,
        parameters=params,
        start_day=start_day,
        warnings=warnings,
    )
    terms = tariff.terms_of_plants(
        plants, parameters=params, start_day=start_day, warnings=warnings
    )
    injected_wh = checks.injection_before_service(
        plants=plants, hour_start_utc_s=hours, injected_wh=injected_wh, warnings=warnings
    )

    injected_by_hour = injected_wh.sum(axis=0)
    withdrawn_by_hour = withdrawn_wh.sum(axis=0)
    shared = sharing.shared_energy_by_hour(
        injected_by_hour_wh=injected_by_hour, withdrawn_by_hour_wh=withdrawn_by_hour
    )
    prices = _checked_prices(shared, hours, zonal_price_units, price_known, warnings)
    _warn_on_quarter_hour_prices(shared, hours, params, start_day, warnings)

    entry_dates = [plant.entry_into_service_date for plant in plants]
    plant_ids = [plant.plant_id for plant in plants]
    order = sharing.chronological_order(entry_dates, plant_ids)
    _warn_on_ties(plants, order, warnings)
    allocation = sharing.attribute_chronologically(
        energy_by_hour_wh=shared, capacity_wh=injected_wh, order=order
    )

    rates, in_tariff = tariff.tariff_rate_units(
        terms=terms,
        plants=plants,
        configuration_type=configuration.type,
        hour_start_utc_s=hours,
        zonal_price_units=prices,
        allocation_wh=allocation,
        parameters=params,
        warnings=warnings,
    )
    amounts = tariff.incentive_amounts(
        terms=terms,
        plants=plants,
        consumer_categories=[consumer.category for consumer in consumers],
        allocation_wh=allocation,
        rate_units_by_hour=rates,
        in_tariff=in_tariff,
        withdrawn_wh=withdrawn_wh,
        withdrawn_by_hour_wh=withdrawn_by_hour,
        hour_start_utc_s=hours,
        parameters=params,
        warnings=warnings,
    )
    incentive = amounts.incentive_eur
    injected_per_plant = exact_row_sums(injected_wh)
    incentivised_per_plant = amounts.incentivised_exact_wh
    excess_eur = excess.excess_of_plants_eur(
        under_rule=[term.tariff == tariff.DM414 for term in terms],
        with_grant=[term.grant_share > 0 for term in terms],
        injected_wh=injected_per_plant,
        incentivised_wh=incentivised_per_plant,
        incentive_eur=incentive,
        first_hour_utc_s=int(hours[0]),
        last_hour_utc_s=int(hours[-1]),
        parameters=params,
        start_day=start_day,
        warnings=warnings,
    )
    valorisation_eur = valorisation.valorisation_eur(
        configuration_type=configuration.type,
        shared_wh=shared,
        withdrawn_wh=withdrawn_wh,
        withdrawn_by_hour_wh=withdrawn_by_hour,
        voltage_levels=[consumer.voltage_level for consumer in consumers],
        hour_start_utc_s=hours,
        zonal_price_units=prices,
        parameters=params,
        warnings=warnings,
    )
    plant_results = tuple(
        PlantResult(
            plant_id=plant.plant_id,
            injected_wh=injected_per_plant[i],
            shared_wh=shared_total,
            incentivised_wh=int(round_half_up(incentivised_per_plant[i], 0)),
            incentivised_exact_wh=incentivised_per_plant[i],
            incentive_exact_eur=incentive[i],
            incentive_eur=round_eur(incentive[i]),
            gse_fee_eur_per_year=terms[i].gse_fee_eur_per_year,
            grant_reduction_f=terms[i].reduction_f if terms[i].reduction_f > 0 else None,
            capital_grant=terms[i].grant,
            pnrr_fee_eur=terms[i].pnrr_fee_eur,
        )
        for i, (plant, shared_total) in enumerate(
            zip(plants, exact_row_sums(allocation), strict=True)
        )
    )
    return SettlementResult(
        hour_start_utc_s=hours,
        shared_wh=shared,
        allocation_wh=allocation,
        incentivised_wh=amounts.incentivised_wh,
        premium_rate_cent_per_mwh=amounts.shown_rate_cent_per_mwh,
        plants=plant_results,
        injected_wh=exact_sum(injected_by_hour),
        withdrawn_wh=exact_sum(withdrawn_by_hour),
        shared_total_wh=exact_sum(shared),
        incentive_exact_eur=sum(incentive, Fraction(0)),
        valorisation_exact_eur=valorisation_eur,
        excess_exact_eur=excess_eur,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _check_inputs(
    configuration: Configuration,
    plants: Sequence[Plant],
    consumers: Sequence[Consumer],
    hours: IntArray,
    injected_wh: IntArray,
    withdrawn_wh: IntArray,
    params: Parameters,
) -> None:
    n_hours = hours.shape[0] if hours.ndim == 1 else -1
    if n_hours < 1:
        raise InvalidInput("hour_start_utc_s must be a non-empty one-dimensional array")
    for name, array, rows in (
        ("injected_wh", injected_wh, len(plants)),
        ("withdrawn_wh", withdrawn_wh, len(consumers)),
    ):
        if array.dtype != np.int64 or array.shape != (rows, n_hours):
            raise InvalidInput(f"{name} must be int64 of shape ({rows}, {n_hours})")
    step_s = 60 * int(params.value_on("interval_minutes", buckets.local_date_of(int(hours[0])), []))
    if np.any(np.diff(hours) <= 0) or np.any(hours % step_s):
        raise InvalidInput(f"hour starts must increase and be multiples of {step_s} s")
    if configuration.type not in CONFIGURATION_TYPES:
        raise InvalidInput(f"unknown configuration type {configuration.type!r}")
    for kind, ids in (
        ("plant", [p.plant_id for p in plants]),
        ("consumer", [c.consumer_id for c in consumers]),
    ):
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"{kind} ids must be unique")
    for plant in plants:
        if plant.source not in SOURCES or plant.regime not in REGIMES or plant.power_kw <= 0:
            raise InvalidInput(f"plant {plant.plant_id}: unknown source or regime, or no power")
        if plant.region not in REGIONS:
            raise InvalidInput(f"plant {plant.plant_id}: unknown region {plant.region!r}")
        if plant.storage_power_kw < 0 or plant.storage_capacity_kwh < 0:
            raise InvalidInput(f"plant {plant.plant_id}: negative storage power or capacity")
    for consumer in consumers:
        if consumer.category not in CONSUMER_CATEGORIES:
            raise InvalidInput(f"consumer {consumer.consumer_id}: unknown category")
        if consumer.voltage_level not in VOLTAGE_LEVELS:
            raise InvalidInput(f"consumer {consumer.consumer_id}: unknown voltage level")
    # The consumer array is not checked: a second full pass over it would double the cost
    # of a settlement (the case reader and the metering import refuse negative readings).
    if injected_wh.size and injected_wh.min() < 0:
        raise InvalidInput("injected energies must not be negative")


def _checked_prices(
    shared: IntArray,
    hours: IntArray,
    zonal_price_units: IntArray,
    price_known: BoolArray | None,
    warnings: list[str],
) -> IntArray:
    """Refuse an hour with shared energy and no price; give unpriced hours a price of 0."""
    if zonal_price_units.shape != hours.shape or zonal_price_units.dtype != np.int64:
        raise InvalidInput("zonal_price_units must be int64 with one value per hour")
    if price_known is None or price_known.all():
        return zonal_price_units
    unpriced_shared = np.flatnonzero(~price_known & (shared > 0))
    if unpriced_shared.size:
        first = int(unpriced_shared[0])
        raise MissingZonalPrice(first, int(hours[first]))
    count = int((~price_known).sum())
    warnings.append(
        f"{count} hour{'s' if count > 1 else ''} without a zonal price had no shared energy, "
        "so no figure depends on the price there."
    )
    return np.where(price_known, zonal_price_units, 0)


def _warn_on_quarter_hour_prices(
    shared: IntArray, hours: IntArray, params: Parameters, start_day: date, warnings: list[str]
) -> None:
    since = params.value_on("quarter_hour_prices_from", start_day, warnings)
    assert isinstance(since, date)
    if np.any((hours >= buckets.local_midnight_utc_s(since)) & (shared > 0)):
        warnings.append(
            f"From {since.isoformat()} the market prices quarter-hours: the hourly zonal price "
            "given for those hours is taken as the mean of the four quarter-hour prices "
            "(REGULATION.md §3.5 [U])."
        )


def _warn_on_ties(
    plants: Sequence[Plant], order: npt.NDArray[np.intp], warnings: list[str]
) -> None:
    by_date: dict[date, list[str]] = {}
    for index in order:
        plant = plants[int(index)]
        by_date.setdefault(plant.entry_into_service_date, []).append(plant.plant_id)
    for day, ids in by_date.items():
        if len(ids) > 1:
            warnings.append(
                f"Plants {', '.join(ids)} entered service on the same day ({day.isoformat()}): "
                "shared energy goes to them in that order (by id), a project reading "
                "(REGULATION.md §3.2 [U])."
            )


__all__ = [
    "CONFIGURATION_TYPES",
    "Configuration",
    "Consumer",
    "InvalidInput",
    "MissingZonalPrice",
    "Plant",
    "PlantResult",
    "SettlementResult",
    "settle",
]
