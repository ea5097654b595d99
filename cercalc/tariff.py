"""The tariff applied to a configuration's plants: who gets which tariff, its rate, its amount.

In words: each plant gets the DM 414/2023 tariff (TIP), the flat DM 2020 tariff or none, fixed for
the whole period from its facts on the first day (REGULATION.md §3.6, §4.3): existing plants, plants
above 1 MW and plants with a grant above 40 % get none; a DM 2020 plant keeps its flat tariff
whatever its entry into service (§1), and no DM 414 tariff is paid before 24 Jan 2024. Each hour the
TIP of a plant is the rate of its power band with the regional correction for photovoltaic plants
(incentives.py, §4.1, §4.2), for 20 years from entry into service (§4.4); it applies to the plant's
incentivised energy (attributed energy less the Superbonus and obligation share, §3.3). A plant's
amount is (sum of E x rate - exempt part) x (1 - F) + exempt part, where the exempt part is the
energy that serves consumers exempt from the grant factor F, given first to the plants with a grant
(§4.3). The formula atoms live in incentives.py, pnrr.py and fees.py; this module applies them to
the plants and hours of one settlement. Nothing here rounds money: amounts are exact fractions.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cercalc import buckets, exempt, fees, incentives, pnrr, sharing
from cercalc.money import (
    W_PER_KW,
    checked_product,
    divide_round_half_up,
    exact_row_sums,
    money_units_to_eur,
    rate_units,
    round_half_up,
)
from cercalc.params import Parameters

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_TARIFF, DM414, DM2020 = "", "DM414", "DM2020"


class PlantFacts(Protocol):
    """What the tariff reads of a plant (settle.Plant holds exactly these facts)."""

    @property
    def plant_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def power_kw(self) -> Decimal: ...
    @property
    def entry_into_service_date(self) -> date: ...
    @property
    def region(self) -> str: ...
    @property
    def existing(self) -> bool: ...
    @property
    def capital_grant_pct(self) -> Decimal: ...
    @property
    def pnrr_investment_eur(self) -> Decimal | None: ...
    @property
    def superbonus_kw(self) -> Decimal: ...
    @property
    def obligation_kw(self) -> Decimal: ...
    @property
    def regime(self) -> str: ...


@dataclass(frozen=True)
class PlantTerms:
    """What one plant's tariff depends on, fixed for the whole period.

    `tariff` is NO_TARIFF, DM414 or DM2020; `band` the TIP power band (1, 2 or 3, as in the
    parameters tip_base_band1...3); instants are UTC seconds, powers [W], fees [EUR].
    """

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


@dataclass(frozen=True, eq=False)
class IncentiveAmounts:
    """The tariff's outcome per plant: energy [Wh], exact amounts [EUR], shown rates.

    `incentivised_wh` and `shown_rate_cent_per_mwh` are plants x hours, each hour rounded for
    display only; `incentivised_exact_wh` and `incentive_eur` have one exact figure per plant
    (energy [Wh], amount [EUR] after F), from sums taken before any rounding.
    """

    incentivised_wh: IntArray
    incentivised_exact_wh: list[Fraction]
    incentive_eur: list[Fraction]
    shown_rate_cent_per_mwh: IntArray


def terms_of_plants(
    plants: Sequence[PlantFacts],
    *,
    parameters: Parameters,
    start_day: date,
    warnings: list[str],
) -> list[PlantTerms]:
    """Fix the tariff terms of every plant of a settlement.

    Parameters
    ----------
    plants : sequence of PlantFacts
        The configuration's plants.
    parameters : Parameters
        The dated parameter tables.
    start_day : date
        The settlement's first local (Europe/Rome) date: the terms hold for the whole period.
    warnings : list of str
        Sentences about readings and gaps are appended, in plant id order so that the output
        does not depend on the order of `plants`.

    Returns
    -------
    list of PlantTerms
        One per plant, in the order of `plants`.

    Notes
    -----
    Applies plant_terms to each plant; plants without a tariff pay no GSE fee (DM 106/2024,
    REGULATION.md §7 [U]).
    """
    by_id = sorted(range(len(plants)), key=lambda i: plants[i].plant_id)
    terms = {
        i: plant_terms(plants[i], parameters=parameters, start_day=start_day, warnings=warnings)
        for i in by_id
    }
    unpaid = [plants[i].plant_id for i in by_id if terms[i].tariff == NO_TARIFF]
    if unpaid:
        warnings.append(
            f"Plants without a tariff ({', '.join(unpaid)}) show a GSE fee of 0.00: "
            "DM 106/2024 sets fees for tariff beneficiaries only (REGULATION.md §7 [U])."
        )
    return [terms[i] for i in range(len(plants))]


def plant_terms(
    plant: PlantFacts, *, parameters: Parameters, start_day: date, warnings: list[str]
) -> PlantTerms:
    """Return which tariff a plant gets, its band, grant factor F, tariff years and fees.

    Parameters
    ----------
    plant : PlantFacts
        The plant's power [kW], dates, regime, grant and Superbonus/obligation power [kW].
    parameters : Parameters
        The dated parameter tables, read on `start_day`.
    start_day : date
        The settlement's first local (Europe/Rome) date.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    PlantTerms
        Tariff (NO_TARIFF, DM414 or DM2020), band (1, 2, 3), grant share and F [1, exact],
        tariff years [s, UTC, end exclusive], power and incentivised power [W], grant and
        fees [EUR].

    Notes
    -----
    No tariff for an existing plant or a DM 414 plant in service before existing_plant_cutoff_date,
    or a plant above tip_max_power_kw (REGULATION.md §3.6 [S]); a DM 2020 plant keeps its flat
    tariff whatever its entry into service (§1 [V]), with a warning above dm2020_max_power_kw or
    before dm2020_plants_from_date; none either for a DM 414 plant whose grant share is above
    grant_share_for_f_max (§4.3 [S]), otherwise F grows with the grant (pnrr.grant_reduction_factor,
    §4.3 [V]). The band follows the plant's own power (incentives.power_band, §4.1 [V]). The
    incentivised power leaves out the Superbonus and obligation power (§3.3 [U]). The tariff runs
    tip_duration_years from the local midnight of entry into service (§4.4 [V] duration, [U] start);
    a DM 414 tariff starts no earlier than tip_new_plant_from_date, the decree's entry into force
    (§1 [S]). Fees: fees.py (§7).
    """

    def value(name: str) -> object:
        return parameters.value_on(name, start_day, warnings)

    name = plant.plant_id
    tariff = DM2020 if plant.regime == DM2020 else DM414
    cutoff = value("existing_plant_cutoff_date")
    assert isinstance(cutoff, date)
    if plant.existing:
        tariff = NO_TARIFF
    elif tariff == DM2020:
        # A plant admitted under DM 16/9/2020 keeps that regime's flat tariff whatever its
        # entry into service: the 16 Dec 2021 cut-off belongs to the new regime only (§1 [V]).
        _warn_on_dm2020_plant(plant, value, warnings)
    elif plant.entry_into_service_date < cutoff:
        tariff = NO_TARIFF
        warnings.append(
            f"Plant {name} entered service on {plant.entry_into_service_date.isoformat()}, "
            f"before {cutoff.isoformat()}: it is treated as an existing plant, with the "
            "valorisation and no tariff (REGULATION.md §3.6 [S])."
        )
    max_kw = Decimal(str(value("tip_max_power_kw")))
    if tariff and plant.power_kw > max_kw:
        tariff = NO_TARIFF
        warnings.append(
            f"Plant {name} has {_kw(plant.power_kw)} kW, above {_kw(max_kw)} kW: it gets the "
            "valorisation but no tariff (REGULATION.md §3.6 [S])."
        )

    grant, grant_share = pnrr.plant_grant(
        plant_id=name,
        power_kw=plant.power_kw,
        investment_eur=plant.pnrr_investment_eur,
        capital_grant_pct=plant.capital_grant_pct,
        parameters=parameters,
        start_day=start_day,
        warnings=warnings,
    )
    reduction_f = Fraction(0)
    share_at_f_max = Decimal(str(value("grant_share_for_f_max")))
    if tariff == DM414 and grant_share > share_at_f_max:
        tariff = NO_TARIFF
        warnings.append(
            f"Plant {name} has a capital grant of {_percent(grant_share)} % of its investment, "
            f"above {_percent(share_at_f_max)} %: no tariff is due (REGULATION.md §4.3 [S])."
        )
    elif tariff == DM414 and grant_share > 0:
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
            "is removed from the tariff in proportion to power, a working reading "
            "(REGULATION.md §3.3 [U])."
        )
    years = value("tip_duration_years")
    assert isinstance(years, int)
    tariff_to = buckets.add_years(plant.entry_into_service_date, years)
    tariff_from = plant.entry_into_service_date
    if tariff == DM414:
        # No DM 414/2023 tariff before the decree entered into force (24 Jan 2024, §1 [S]),
        # even for a plant in service since the 16 Dec 2021 cut-off (§9 [S]).
        decree_from = value("tip_new_plant_from_date")
        assert isinstance(decree_from, date)
        tariff_from = max(tariff_from, decree_from)
    return PlantTerms(
        tariff=tariff,
        band=incentives.power_band(
            plant.power_kw,
            band1_max_kw=Decimal(str(value("tip_band1_max_kw"))),
            band2_max_kw=Decimal(str(value("tip_band2_max_kw"))),
        ),
        grant_share=grant_share,
        reduction_f=reduction_f,
        tariff_from_s=buckets.local_midnight_utc_s(tariff_from),
        tariff_to_s=buckets.local_midnight_utc_s(tariff_to),
        power_w=power_w,
        incentivised_power_w=max(power_w - excluded_w, 0),
        grant=grant,
        gse_fee_eur_per_year=fees.plant_gse_fee_eur_per_year(
            plant_id=name,
            power_kw=plant.power_kw,
            with_tariff=tariff == DM414,
            parameters=parameters,
            start_day=start_day,
            warnings=warnings,
        ),
        pnrr_fee_eur=fees.plant_pnrr_fee_eur(
            power_kw=plant.power_kw,
            grant_share=grant_share,
            parameters=parameters,
            start_day=start_day,
            warnings=warnings,
        ),
    )


def tariff_rate_units(
    *,
    terms: Sequence[PlantTerms],
    plants: Sequence[PlantFacts],
    configuration_type: str,
    hour_start_utc_s: IntArray,
    zonal_price_units: IntArray,
    allocation_wh: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> tuple[IntArray, BoolArray]:
    """Return each plant's tariff before F for every hour, and where it applies.

    Parameters
    ----------
    terms : sequence of PlantTerms
        From terms_of_plants, one per plant.
    plants : sequence of PlantFacts
        The plants, same order (their source, region and id are read).
    configuration_type : str
        "CER", "CEC", "AUC" or "AID": chooses the DM 2020 flat rate.
    hour_start_utc_s : int64 array [hours]
        Bucket starts [s since epoch, UTC].
    zonal_price_units : int64 array [hours]
        Zonal price Pz [1e-4 EUR/MWh].
    allocation_wh : int64 array [plants, hours]
        Shared energy attributed to each plant [Wh]: a missing parameter value is reported
        only for hours where some plant is paid with it.
    parameters : Parameters
        The dated parameter tables, by hour.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    rates : int64 array [plants, hours]
        The tariff before F [1e-4 EUR/MWh], 0 where it does not apply.
    in_tariff : bool array [plants, hours]
        Whether the hour is inside the plant's tariff years and the plant has a tariff.

    Notes
    -----
    DM 414 plants: min(CAP; base + max(0; reference - Pz)) of the plant's band plus, for
    photovoltaic plants, the regional correction (REGULATION.md §4.1, §4.2 [V]). DM 2020
    plants: the flat rate of a CER/CEC or of an AUC/AID (§1 [V]). Zero outside the tariff
    years (§4.4) and for plants without a tariff.
    """
    hours = hour_start_utc_s
    # Rows are built once per band, per DM 2020 rate and per region (a handful), then
    # gathered to plants x hours: far cheaper than one row per plant.
    tariff_from = np.array([t.tariff_from_s for t in terms], dtype=np.int64)[:, np.newaxis]
    tariff_to = np.array([t.tariff_to_s for t in terms], dtype=np.int64)[:, np.newaxis]
    has_tariff = np.array([t.tariff != NO_TARIFF for t in terms], dtype=bool)[:, np.newaxis]
    in_tariff = has_tariff & (hours >= tariff_from) & (hours < tariff_to)
    paid = in_tariff & (allocation_wh > 0)
    _warn_on_tariff_start(plants, terms, hours, allocation_wh, warnings)
    _warn_on_tariff_end(plants, terms, hours, warnings)

    n_hours = hours.shape[0]
    # Row 0 is the zero rate; rows 1, 2, 3 are the TIP bands, so a band is its own row.
    rows = [np.zeros(n_hours, dtype=np.int64)]
    row_of_plant = [0] * len(terms)
    correction_rows = [np.zeros(n_hours, dtype=np.int64)]
    correction_of_plant = [0] * len(terms)
    dm414 = [i for i, term in enumerate(terms) if term.tariff == DM414]
    if dm414:
        used = _by_hour(paid[dm414])

        def hourly(name: str) -> IntArray:
            return parameters.hourly_rate_units(name, hours, warnings, used)

        reference = hourly("tip_reference_price_eur_per_mwh")
        for band in incentives.BANDS:
            rows.append(
                incentives.band_rate_units(
                    zonal_price_units=zonal_price_units,
                    base_units=hourly(f"tip_base_band{band}_eur_per_mwh"),
                    cap_units=hourly(f"tip_cap_band{band}_eur_per_mwh"),
                    reference_price_units=reference,
                )
            )
        pv_regions = sorted({plants[i].region for i in dm414 if plants[i].source == "PV"})
        segments = parameters.hourly_segments(
            "pv_regional_correction_eur_per_mwh", hours, warnings, used
        )
        for region in pv_regions:
            correction = np.zeros(n_hours, dtype=np.int64)
            for mask, by_region in segments:
                correction[mask] = rate_units(by_region[region])
            correction_rows.append(correction)
        for i in dm414:
            row_of_plant[i] = terms[i].band
            if plants[i].source == "PV":
                correction_of_plant[i] = 1 + pv_regions.index(plants[i].region)
    dm2020 = [i for i, term in enumerate(terms) if term.tariff == DM2020]
    if dm2020:
        kind = "cer" if configuration_type in ("CER", "CEC") else "auc"
        used = _by_hour(paid[dm2020])
        rows.append(
            parameters.hourly_rate_units(f"dm2020_rate_{kind}_eur_per_mwh", hours, warnings, used)
        )
        for i in dm2020:
            row_of_plant[i] = len(rows) - 1

    rates = np.stack(rows)[row_of_plant]
    if len(correction_rows) > 1:
        rates += np.stack(correction_rows)[correction_of_plant]
    rates *= in_tariff
    return rates, in_tariff


def incentive_amounts(
    *,
    terms: Sequence[PlantTerms],
    plants: Sequence[PlantFacts],
    consumer_categories: Sequence[str],
    allocation_wh: IntArray,
    rate_units_by_hour: IntArray,
    in_tariff: BoolArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour_wh: IntArray,
    hour_start_utc_s: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> IncentiveAmounts:
    """Return the incentivised energy, each plant's exact incentive and the rates shown.

    Parameters
    ----------
    terms : sequence of PlantTerms
        From terms_of_plants, one per plant.
    plants : sequence of PlantFacts
        The plants, same order (entry date and id order the exempt energy).
    consumer_categories : sequence of str
        Each consumer's category, in the order of the rows of `withdrawn_wh`.
    allocation_wh : int64 array [plants, hours]
        Shared energy attributed to each plant [Wh].
    rate_units_by_hour : int64 array [plants, hours]
        The tariff before F [1e-4 EUR/MWh], from tariff_rate_units.
    in_tariff : bool array [plants, hours]
        Where the tariff applies, from tariff_rate_units.
    withdrawn_wh : int64 array [consumers, hours]
        Energy withdrawn by each consumer [Wh].
    withdrawn_by_hour_wh : int64 array [hours]
        Its sum over consumers [Wh].
    hour_start_utc_s : int64 array [hours]
        Bucket starts [s since epoch, UTC].
    parameters : Parameters
        The dated parameter tables.
    warnings : list of str
        Sentences about the readings applied are appended.

    Returns
    -------
    IncentiveAmounts
        Incentivised energy [Wh] and shown rates [cent/MWh] per plant and hour, and each
        plant's exact incentive after F [EUR].

    Notes
    -----
    The incentivised energy is the attributed energy inside the tariff years, times
    incentivised power / power (REGULATION.md §3.3 [U]). That share is constant per plant, so
    it multiplies the plant's exact sums: nothing is rounded per hour (ENGINE_IO.md, sums
    before rounding). A plant's amount is (sum of E x rate - exempt part) x (1 - F) + exempt
    part (§4.3 [V]); the exempt part is exact too (exempt.py), the exempt energy going first
    to the plants with a grant, oldest first (§4.3 [C]). The hourly incentivised energy in the
    result is rounded half up to the Wh for display only. The shown rate is rate x (1 - F),
    rounded half up to the cent.
    """
    rates = rate_units_by_hour
    attributed = np.where(in_tariff, allocation_wh, 0)
    kept = [
        Fraction(t.incentivised_power_w, t.power_w) if t.incentivised_power_w < t.power_w else 1
        for t in terms
    ]
    kept_share = [Fraction(share) for share in kept]
    incentivised_exact = [
        share * total for share, total in zip(kept_share, exact_row_sums(attributed), strict=True)
    ]
    tariff_money = [
        share * total
        for share, total in zip(
            kept_share, exact_row_sums(checked_product(attributed, rates)), strict=True
        )
    ]
    shown_energy = attributed.copy()
    scaled = [i for i, t in enumerate(terms) if t.incentivised_power_w < t.power_w]
    if scaled:
        shown_energy[scaled] = incentives.incentivised_energy_wh(
            attributed[scaled],
            incentivised_power_w=np.array([terms[i].incentivised_power_w for i in scaled]),
            power_w=np.array([terms[i].power_w for i in scaled]),
        )

    exempt_money = [Fraction(0)] * len(plants)
    with_reduction = [i for i, t in enumerate(terms) if t.reduction_f > 0]
    if with_reduction:
        exempt_withdrawn, rule = _exempt_withdrawals(
            terms=terms,
            consumer_categories=consumer_categories,
            attributed_wh=attributed,
            withdrawn_wh=withdrawn_wh,
            withdrawn_by_hour_wh=withdrawn_by_hour_wh,
            hour_start_utc_s=hour_start_utc_s,
            parameters=parameters,
            warnings=warnings,
        )
        sums = exempt.exempt_money_units(
            attributed_wh=attributed,
            kept_share=kept_share,
            under_tariff=[t.tariff == DM414 for t in terms],
            with_grant=with_reduction,
            grant_order=sharing.chronological_order(
                [plants[i].entry_into_service_date for i in with_reduction],
                [plants[i].plant_id for i in with_reduction],
            ),
            rate_units=rates,
            exempt_withdrawn_wh=exempt_withdrawn,
            withdrawn_by_hour_wh=withdrawn_by_hour_wh,
            rule=rule,
        )
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
    return IncentiveAmounts(
        incentivised_wh=shown_energy,
        incentivised_exact_wh=incentivised_exact,
        incentive_eur=incentive,
        shown_rate_cent_per_mwh=shown_rates,
    )


def _exempt_withdrawals(
    *,
    terms: Sequence[PlantTerms],
    consumer_categories: Sequence[str],
    attributed_wh: IntArray,
    withdrawn_wh: IntArray,
    withdrawn_by_hour_wh: IntArray,
    hour_start_utc_s: IntArray,
    parameters: Parameters,
    warnings: list[str],
) -> tuple[IntArray, str]:
    """Return the hourly withdrawal of consumers exempt from F [Wh] and the split rule.

    The exempt categories are read by hour (f_exempt_categories: natural persons from DM
    127/2025), the rule on the first day (f_exempt_split); REGULATION.md §4.3 [C] rule, [U]
    split. A warning states the reading when some exempt consumer withdrew.
    """
    hours = hour_start_utc_s
    categories = np.array(consumer_categories)
    exempt_withdrawn = np.zeros(hours.shape[0], dtype=np.int64)
    used = _by_hour(attributed_wh[[t.reduction_f > 0 for t in terms]] > 0)
    segments = parameters.hourly_segments("f_exempt_categories", hours, warnings, used)
    for mask, exempt_categories in segments:
        if not (mask & used).any():
            continue
        in_group = np.isin(categories, exempt_categories)
        exempt_withdrawn[mask] = sharing.withdrawn_by_group(
            withdrawn_wh=withdrawn_wh, in_group=in_group, withdrawn_by_hour_wh=withdrawn_by_hour_wh
        )[mask]
    start_day = buckets.local_date_of(int(hours[0]))
    rule = str(parameters.value_on("f_exempt_split", start_day, warnings))
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
    return exempt_withdrawn, rule


def _by_hour(flags: BoolArray) -> BoolArray:
    """Tell, for each hour, whether any row is flagged."""
    return np.asarray(flags.any(axis=0), dtype=bool)


def _kw(power_kw: Decimal) -> str:
    return format(power_kw.normalize(), "f")


def _percent(share: Fraction | Decimal) -> str:
    return format(round_half_up(Fraction(share) * 100, 2).normalize(), "f")


def _warn_on_dm2020_plant(
    plant: PlantFacts, value: Callable[[str], object], warnings: list[str]
) -> None:
    """Flag a DM 2020 plant outside that regime's limits; its declared tariff still applies."""
    max_kw = value("dm2020_max_power_kw")
    plants_from = value("dm2020_plants_from_date")
    assert isinstance(max_kw, Decimal) and isinstance(plants_from, date)
    if plant.power_kw > max_kw:
        warnings.append(
            f"Plant {plant.plant_id} is declared under DM 16/9/2020 with {_kw(plant.power_kw)} "
            f"kW, but that regime admits plants up to {_kw(max_kw)} kW: its flat tariff is "
            "applied as declared; check the regime (REGULATION.md §1 [V])."
        )
    if plant.entry_into_service_date < plants_from:
        warnings.append(
            f"Plant {plant.plant_id} is declared under DM 16/9/2020 but entered service on "
            f"{plant.entry_into_service_date.isoformat()}, before {plants_from.isoformat()}, "
            "when that regime starts: its flat tariff is applied as declared; check the "
            "regime (REGULATION.md §1 [V], start date [U])."
        )


def _warn_on_tariff_start(
    plants: Sequence[PlantFacts],
    terms: Sequence[PlantTerms],
    hours: IntArray,
    allocation_wh: IntArray,
    warnings: list[str],
) -> None:
    """Name the DM 414 plants that had shared energy before their tariff could start."""
    for i in sorted(range(len(plants)), key=lambda k: plants[k].plant_id):
        term, plant = terms[i], plants[i]
        if term.tariff != DM414:
            continue
        early = (hours < term.tariff_from_s) & (allocation_wh[i] > 0)
        if not early.any() or buckets.local_date_of(term.tariff_from_s) <= (
            plant.entry_into_service_date
        ):
            continue
        warnings.append(
            f"Plant {plant.plant_id}: {int(early.sum())} hour(s) with shared energy before "
            f"{buckets.local_date_of(term.tariff_from_s).isoformat()}, when DM 414/2023 "
            "entered into force, get no DM 414 tariff (their shared energy still gets the "
            "valorisation) (REGULATION.md §1 [S])."
        )


def _warn_on_tariff_end(
    plants: Sequence[PlantFacts], terms: Sequence[PlantTerms], hours: IntArray, warnings: list[str]
) -> None:
    for plant, term in sorted(zip(plants, terms, strict=True), key=lambda pt: pt[0].plant_id):
        if term.tariff and hours[0] < term.tariff_to_s <= hours[-1]:
            warnings.append(
                f"Plant {plant.plant_id}'s tariff ends on "
                f"{buckets.format_utc(term.tariff_to_s)}, 20 years after its entry into "
                "service, taken as the start of the tariff (REGULATION.md §4.4 [U])."
            )
