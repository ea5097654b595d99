"""Settle one configuration over a run of hours: shared energy, tariff, valorisation, excess, fees.

In words: each hour, shared energy = min(sum injected, sum withdrawn) (sharing.py); it is
attributed to plants by entry into service (sharing.py); each plant's tariff applies to its
incentivised energy (incentives.py); the valorisation applies to all shared energy
(valorisation.py); the tariff above 55 %/45 % of injected energy is the excess, over the whole
period taken as the settlement year (excess.py); GSE fees and PNRR grants are per plant (fees.py,
pnrr.py). Money is exact until each shown figure is rounded half up to the cent (money.py).

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

from cercalc import buckets, excess, fees, incentives, pnrr, sharing, valorisation
from cercalc.money import (
    W_PER_KW,
    checked_product,
    divide_round_half_up,
    exact_row_sums,
    exact_sum,
    money_units_to_eur,
    rate_units,
    round_eur,
    round_half_up,
)
from cercalc.params import CONSUMER_CATEGORIES, REGIONS, Parameters, default_parameters

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CONFIGURATION_TYPES = ("CER", "CEC", "AUC", "AID")
SOURCES = ("PV", "WIND", "HYDRO", "BIOGAS", "BIOMASS", "OTHER")
REGIMES = ("DM414", "DM2020")

_NO_TARIFF, _DM414, _DM2020 = "", "DM414", "DM2020"


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
    regime: str = _DM414


@dataclass(frozen=True)
class Consumer:
    """A withdrawal point and the category of its holder."""

    consumer_id: str
    category: str


@dataclass(frozen=True)
class PlantResult:
    """The settled figures of one plant (energies [Wh], money [EUR])."""

    plant_id: str
    injected_wh: int
    shared_wh: int
    incentivised_wh: int
    incentive_exact_eur: Fraction
    incentive_eur: Decimal
    gse_fee_eur_per_year: Decimal
    grant_reduction_f: Fraction | None
    capital_grant: pnrr.CapitalGrant | None
    pnrr_fee_eur: Decimal | None


@dataclass(frozen=True, eq=False)
class SettlementResult:
    """Hourly series (plants x hours where two-dimensional), plant figures and totals."""

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


@dataclass(frozen=True)
class _Terms:
    """What one plant's tariff depends on, fixed for the whole period."""

    tariff: str
    band: int
    grant_share: Fraction
    reduction_f: Fraction
    tariff_from_s: int
    tariff_to_s: int
    power_w: int
    incentivised_power_w: int
    grant: pnrr.CapitalGrant | None
    gse_fee_eur_per_year: Decimal
    pnrr_fee_eur: Decimal | None


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
    terms = _all_terms(plants, configuration, params, start_day, warnings)

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

    rates, in_tariff = _tariff_rate_units(
        terms, plants, configuration, hours, prices, allocation, params, warnings
    )
    incentivised, incentive, shown_rates = _incentives(
        terms,
        plants,
        consumers,
        allocation,
        rates,
        in_tariff,
        withdrawn_wh,
        withdrawn_by_hour,
        hours,
        params,
        warnings,
    )
    injected_per_plant = exact_row_sums(injected_wh)
    incentivised_per_plant = exact_row_sums(incentivised)
    excess_eur = _excess(
        terms,
        injected_per_plant,
        incentivised_per_plant,
        incentive,
        hours,
        params,
        start_day,
        warnings,
    )
    valorisation_eur = valorisation.valorisation_eur(
        configuration_type=configuration.type,
        shared_wh=shared,
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
            incentivised_wh=incentivised_per_plant[i],
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
        incentivised_wh=incentivised,
        premium_rate_cent_per_mwh=shown_rates,
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
    for consumer in consumers:
        if consumer.category not in CONSUMER_CATEGORIES:
            raise InvalidInput(f"consumer {consumer.consumer_id}: unknown category")
    # The consumer array is not checked: a second full pass over it would double the cost
    # of a settlement (the case reader and the metering import refuse negative readings).
    if injected_wh.size and injected_wh.min() < 0:
        raise InvalidInput("injected energies must not be negative")


def _all_terms(
    plants: Sequence[Plant],
    configuration: Configuration,
    params: Parameters,
    start_day: date,
    warnings: list[str],
) -> list[_Terms]:
    """Fix each plant's terms, warning in plant id order so the output is order-free."""
    by_id = sorted(range(len(plants)), key=lambda i: plants[i].plant_id)
    terms: dict[int, _Terms] = {
        i: _plant_terms(plants[i], params, start_day, warnings) for i in by_id
    }
    unpaid = [plants[i].plant_id for i in by_id if terms[i].tariff == _NO_TARIFF]
    if unpaid:
        warnings.append(
            f"Plants without a tariff ({', '.join(unpaid)}) show a GSE fee of 0.00: "
            "DM 106/2024 sets fees for tariff beneficiaries only (REGULATION.md §7 [U])."
        )
    return [terms[i] for i in range(len(plants))]


def _plant_terms(plant: Plant, params: Parameters, start_day: date, warnings: list[str]) -> _Terms:
    def value(name: str) -> object:
        return params.value_on(name, start_day, warnings)

    name = plant.plant_id
    tariff = _DM2020 if plant.regime == _DM2020 else _DM414
    cutoff = value("existing_plant_cutoff_date")
    assert isinstance(cutoff, date)
    if plant.existing:
        tariff = _NO_TARIFF
    elif plant.entry_into_service_date < cutoff:
        tariff = _NO_TARIFF
        warnings.append(
            f"Plant {name} entered service on {plant.entry_into_service_date.isoformat()}, "
            f"before {cutoff.isoformat()}: it is treated as an existing plant, with the "
            "valorisation and no tariff (REGULATION.md §3.6 [S])."
        )
    max_kw = Decimal(str(value("tip_max_power_kw")))
    if tariff and plant.power_kw > max_kw:
        tariff = _NO_TARIFF
        warnings.append(
            f"Plant {name} has {_kw(plant.power_kw)} kW, above {_kw(max_kw)} kW: it gets the "
            "valorisation but no tariff (REGULATION.md §3.6 [S])."
        )

    grant, grant_share = _grant(plant, params, start_day, warnings)
    reduction_f = Fraction(0)
    share_at_f_max = Decimal(str(value("grant_share_for_f_max")))
    if tariff == _DM414 and grant_share > share_at_f_max:
        tariff = _NO_TARIFF
        warnings.append(
            f"Plant {name} has a capital grant of {_percent(grant_share)} % of its investment, "
            f"above {_percent(share_at_f_max)} %: no tariff is due (REGULATION.md §4.3 [S])."
        )
    elif tariff == _DM414 and grant_share > 0:
        reduction_f = pnrr.grant_reduction_factor(
            grant_share,
            f_max=Decimal(str(value("grant_reduction_f_max"))),
            share_at_f_max=share_at_f_max,
        )

    power_w = int(plant.power_kw * W_PER_KW)
    excluded_w = int((plant.superbonus_kw + plant.obligation_kw) * W_PER_KW)
    if tariff and excluded_w:
        warnings.append(
            f"Plant {name}: the Superbonus and obligation power "
            f"({_kw(plant.superbonus_kw + plant.obligation_kw)} kW) "
            "is removed from the tariff in proportion to power, each hour rounded to the Wh "
            "(REGULATION.md §3.3 [U])."
        )
    years = value("tip_duration_years")
    assert isinstance(years, int)
    tariff_to = buckets.add_years(plant.entry_into_service_date, years)
    return _Terms(
        tariff=tariff,
        band=incentives.power_band(
            plant.power_kw,
            band1_max_kw=Decimal(str(value("tip_band1_max_kw"))),
            band2_max_kw=Decimal(str(value("tip_band2_max_kw"))),
        ),
        grant_share=grant_share,
        reduction_f=reduction_f,
        tariff_from_s=buckets.local_midnight_utc_s(plant.entry_into_service_date),
        tariff_to_s=buckets.local_midnight_utc_s(tariff_to),
        power_w=power_w,
        incentivised_power_w=max(power_w - excluded_w, 0),
        grant=grant,
        gse_fee_eur_per_year=_gse_fee(plant, tariff, params, start_day, warnings),
        pnrr_fee_eur=_pnrr_fee(plant, grant_share, params, start_day, warnings),
    )


def _grant(
    plant: Plant, params: Parameters, start_day: date, warnings: list[str]
) -> tuple[pnrr.CapitalGrant | None, Fraction]:
    """Return the plant's PNRR grant (when its investment is given) and its grant share."""
    if plant.pnrr_investment_eur is None:
        return None, Fraction(plant.capital_grant_pct) / 100
    try:
        grant = pnrr.capital_grant(
            power_kw=plant.power_kw,
            investment_eur=plant.pnrr_investment_eur,
            cost_caps_eur_per_kw=params.value_on(
                "pnrr_cost_cap_eur_per_kw_steps", start_day, warnings
            ),
            grant_share=params.value_on("pnrr_grant_share", start_day, warnings),
            advance_share=params.value_on("pnrr_advance_share", start_day, warnings),
        )
    except ValueError:
        warnings.append(
            f"Plant {plant.plant_id} is above the largest PNRR power step: no grant is computed."
        )
        return None, Fraction(0)
    if grant.investment_eur == 0:
        return grant, Fraction(0)
    base = params.value_on("f_grant_share_base", start_day, warnings)
    if base == "eligible_cost":
        return grant, Fraction(grant.grant_eur) / Fraction(grant.eligible_cost_eur)
    if grant.investment_eur > grant.eligible_cost_eur:
        warnings.append(
            f"Plant {plant.plant_id}: the factor F measures the grant on the whole investment "
            f"({grant.investment_eur} EUR), not on the eligible cost "
            f"({grant.eligible_cost_eur} EUR), a working reading (REGULATION.md §4.3 [U], "
            "parameter f_grant_share_base)."
        )
    return grant, Fraction(grant.grant_eur) / Fraction(grant.investment_eur)


def _gse_fee(
    plant: Plant, tariff: str, params: Parameters, start_day: date, warnings: list[str]
) -> Decimal:
    if tariff != _DM414:
        return Decimal(0)

    def value(name: str) -> Decimal:
        return Decimal(str(params.value_on(name, start_day, warnings)))

    fixed_max_kw = value("gse_fee_fixed_max_kw")
    if plant.power_kw > fixed_max_kw and plant.power_kw != plant.power_kw.to_integral_value():
        warnings.append(
            f"Plant {plant.plant_id}: the GSE fee charges the fraction of a kW above "
            f"{_kw(fixed_max_kw)} kW pro rata, a working reading (REGULATION.md §7 [U])."
        )
    return fees.gse_fee_eur_per_year(
        plant.power_kw,
        free_max_kw=value("gse_fee_free_max_kw"),
        fixed_max_kw=fixed_max_kw,
        fixed_eur_per_year=value("gse_fee_fixed_eur_per_year"),
        eur_per_kw_year=value("gse_fee_eur_per_kw_year"),
    )


def _pnrr_fee(
    plant: Plant, grant_share: Fraction, params: Parameters, start_day: date, warnings: list[str]
) -> Decimal | None:
    if grant_share <= 0:
        return None
    steps = params.value_on("pnrr_fee_eur_steps", start_day, warnings)
    return fees.step_value(plant.power_kw, steps)


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


def _tariff_rate_units(
    terms: Sequence[_Terms],
    plants: Sequence[Plant],
    configuration: Configuration,
    hours: IntArray,
    prices: IntArray,
    allocation: IntArray,
    params: Parameters,
    warnings: list[str],
) -> tuple[IntArray, BoolArray]:
    """Return each plant's tariff before F per hour [1e-4 EUR/MWh] and where it applies.

    Rows are built once per band, per DM 2020 rate and per region (a handful), then gathered
    to plants x hours; the tariff is zero outside a plant's 20 years and for plants without one.
    A missing parameter value is reported only for hours where some plant is paid with it.
    """
    tariff_from = np.array([t.tariff_from_s for t in terms], dtype=np.int64)[:, np.newaxis]
    tariff_to = np.array([t.tariff_to_s for t in terms], dtype=np.int64)[:, np.newaxis]
    has_tariff = np.array([t.tariff != _NO_TARIFF for t in terms], dtype=bool)[:, np.newaxis]
    in_tariff = has_tariff & (hours >= tariff_from) & (hours < tariff_to)
    paid = in_tariff & (allocation > 0)
    _warn_on_tariff_end(plants, terms, hours, warnings)

    n_hours = hours.shape[0]
    rows = [np.zeros(n_hours, dtype=np.int64)]
    row_of_plant = [0] * len(terms)
    correction_rows = [np.zeros(n_hours, dtype=np.int64)]
    correction_of_plant = [0] * len(terms)
    dm414 = [i for i, term in enumerate(terms) if term.tariff == _DM414]
    if dm414:
        used = _by_hour(paid[dm414])

        def hourly(name: str) -> IntArray:
            return params.hourly_rate_units(name, hours, warnings, used)

        reference = hourly("tip_reference_price_eur_per_mwh")
        for band in (1, 2, 3):
            rows.append(
                incentives.band_rate_units(
                    zonal_price_units=prices,
                    base_units=hourly(f"tip_base_band{band}_eur_per_mwh"),
                    cap_units=hourly(f"tip_cap_band{band}_eur_per_mwh"),
                    reference_price_units=reference,
                )
            )
        pv_regions = sorted({plants[i].region for i in dm414 if plants[i].source == "PV"})
        segments = params.hourly_segments(
            "pv_regional_correction_eur_per_mwh", hours, warnings, used
        )
        for region in pv_regions:
            correction = np.zeros(n_hours, dtype=np.int64)
            for mask, by_region in segments:
                correction[mask] = rate_units(by_region[region])
            correction_rows.append(correction)
        for i in dm414:
            row_of_plant[i] = 1 + terms[i].band
            if plants[i].source == "PV":
                correction_of_plant[i] = 1 + pv_regions.index(plants[i].region)
    dm2020 = [i for i, term in enumerate(terms) if term.tariff == _DM2020]
    if dm2020:
        kind = "cer" if configuration.type in ("CER", "CEC") else "auc"
        used = _by_hour(paid[dm2020])
        rows.append(
            params.hourly_rate_units(f"dm2020_rate_{kind}_eur_per_mwh", hours, warnings, used)
        )
        for i in dm2020:
            row_of_plant[i] = len(rows) - 1

    rates = np.stack(rows)[row_of_plant]
    if len(correction_rows) > 1:
        rates += np.stack(correction_rows)[correction_of_plant]
    rates *= in_tariff
    return rates, in_tariff


def _by_hour(flags: BoolArray) -> BoolArray:
    """Tell, for each hour, whether any row is flagged."""
    return np.asarray(flags.any(axis=0), dtype=bool)


def _kw(power_kw: Decimal) -> str:
    return format(power_kw.normalize(), "f")


def _percent(share: Fraction | Decimal) -> str:
    return format(round_half_up(Fraction(share) * 100, 2).normalize(), "f")


def _warn_on_tariff_end(
    plants: Sequence[Plant], terms: Sequence[_Terms], hours: IntArray, warnings: list[str]
) -> None:
    for plant, term in sorted(zip(plants, terms, strict=True), key=lambda pt: pt[0].plant_id):
        if term.tariff and hours[0] < term.tariff_to_s <= hours[-1]:
            warnings.append(
                f"Plant {plant.plant_id}'s tariff ends on "
                f"{buckets.format_utc(term.tariff_to_s)}, 20 years after its entry into "
                "service, taken as the start of the tariff (REGULATION.md §4.4 [U])."
            )


def _incentives(
    terms: Sequence[_Terms],
    plants: Sequence[Plant],
    consumers: Sequence[Consumer],
    allocation: IntArray,
    rates: IntArray,
    in_tariff: BoolArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour: IntArray,
    hours: IntArray,
    params: Parameters,
    warnings: list[str],
) -> tuple[IntArray, list[Fraction], IntArray]:
    """Return the incentivised energy [Wh], each plant's exact incentive [EUR] and shown rates.

    Each plant's amount is (sum of E x rate - exempt part) x (1 - F) + exempt part, from two
    exact integer sums per plant (incentives.py).
    """
    incentivised = np.where(in_tariff, allocation, 0)
    scaled = [i for i, t in enumerate(terms) if t.incentivised_power_w < t.power_w]
    if scaled:
        incentivised[scaled] = incentives.incentivised_energy_wh(
            incentivised[scaled],
            incentivised_power_w=np.array([terms[i].incentivised_power_w for i in scaled]),
            power_w=np.array([terms[i].power_w for i in scaled]),
        )
    tariff_money = exact_row_sums(checked_product(incentivised, rates))

    exempt_money = [0] * len(plants)
    with_reduction = [i for i, t in enumerate(terms) if t.reduction_f > 0]
    if with_reduction:
        exempt_energy = _exempt_energy(
            terms, consumers, incentivised, withdrawn_wh, withdrawn_by_hour, hours, params, warnings
        )
        # The exempt energy goes first to the plants with a grant, oldest first (§4.3 [C]).
        exempt_allocation = sharing.attribute_chronologically(
            energy_by_hour_wh=exempt_energy,
            capacity_wh=incentivised[with_reduction],
            order=sharing.chronological_order(
                [plants[i].entry_into_service_date for i in with_reduction],
                [plants[i].plant_id for i in with_reduction],
            ),
        )
        sums = exact_row_sums(checked_product(exempt_allocation, rates[with_reduction]))
        for row, total in zip(with_reduction, sums, strict=True):
            exempt_money[row] = total

    incentive = [
        money_units_to_eur(
            incentives.incentive_money_units(
                tariff_money_units=tariff_money[i],
                exempt_money_units=exempt_money[i],
                reduction_f=term.reduction_f,
            )
        )
        for i, term in enumerate(terms)
    ]
    shown_rates = divide_round_half_up(rates, 100).astype(np.int64)
    for row in with_reduction:
        shown_rates[row] = incentives.rate_after_reduction_cent_per_mwh(
            rates[row], terms[row].reduction_f
        )
    return incentivised, incentive, shown_rates


def _exempt_energy(
    terms: Sequence[_Terms],
    consumers: Sequence[Consumer],
    incentivised: IntArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour: IntArray,
    hours: IntArray,
    params: Parameters,
    warnings: list[str],
) -> IntArray:
    """Return the hourly incentivised energy [Wh] that serves consumers exempt from F."""
    categories = np.array([consumer.category for consumer in consumers])
    exempt_withdrawn = np.zeros(hours.shape[0], dtype=np.int64)
    used = _by_hour(incentivised[[t.reduction_f > 0 for t in terms]] > 0)
    segments = params.hourly_segments("f_exempt_categories", hours, warnings, used)
    for mask, exempt_categories in segments:
        if not (mask & used).any():
            continue
        in_group = np.isin(categories, exempt_categories)
        exempt_withdrawn[mask] = sharing.withdrawn_by_group(
            withdrawn_wh=withdrawn_wh, in_group=in_group, withdrawn_by_hour_wh=withdrawn_by_hour
        )[mask]
    start_day = buckets.local_date_of(int(hours[0]))
    rule = params.value_on("f_exempt_split", start_day, warnings)
    if exempt_withdrawn.any():
        reading = (
            "in proportion to their share of the hour's withdrawals"
            if rule == "proportional"
            else "up to their own withdrawals"
        )
        warnings.append(
            "Shared energy is attributed to consumers exempt from the factor F "
            f"{reading}, and given first to the plants with a grant, a working reading "
            "(REGULATION.md §4.3 [U], parameter f_exempt_split)."
        )
    dm414 = np.array([t.tariff == _DM414 for t in terms], dtype=bool)
    return incentives.exempt_energy_by_hour(
        incentivised_by_hour_wh=incentivised[dm414].sum(axis=0),
        exempt_withdrawn_wh=exempt_withdrawn,
        withdrawn_wh=withdrawn_by_hour,
        rule=str(rule),
    )


def _excess(
    terms: Sequence[_Terms],
    injected_per_plant: Sequence[int],
    incentivised_per_plant: Sequence[int],
    incentive: Sequence[Fraction],
    hours: IntArray,
    params: Parameters,
    start_day: date,
    warnings: list[str],
) -> Fraction:
    """Return the tariff above the thresholds [EUR, exact], the period taken as one year."""
    total = Fraction(0)
    for with_grant, threshold_name in (
        (False, "excess_threshold_share"),
        (True, "excess_threshold_share_with_grant"),
    ):
        members = [
            i
            for i, t in enumerate(terms)
            if t.tariff == _DM414 and (t.grant_share > 0) == with_grant
        ]
        if not members:
            continue
        total += excess.excess_eur(
            incentivised_wh=sum(incentivised_per_plant[i] for i in members),
            injected_wh=sum(injected_per_plant[i] for i in members),
            threshold=Decimal(str(params.value_on(threshold_name, start_day, warnings))),
            incentive_eur=sum((incentive[i] for i in members), Fraction(0)),
        )
    years = buckets.local_years_spanned(int(hours[0]), int(hours[-1]))
    if len(years) > 1 and total:
        warnings.append(
            f"The case spans the years {years[0]}-{years[-1]}: the 55 %/45 % rule was applied "
            "to the whole period as one settlement year."
        )
    return total


__all__ = [
    "Configuration",
    "Consumer",
    "InvalidInput",
    "MissingZonalPrice",
    "Plant",
    "PlantResult",
    "SettlementResult",
    "settle",
]
