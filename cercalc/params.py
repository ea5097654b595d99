"""Dated parameter tables: every regulatory number, with its validity periods and its source.

A parameter is a sequence of periods [valid_from, valid_to) of Europe/Rome calendar dates (end
exclusive, None for an open end), each with one value. An hourly quantity takes the value whose
period holds the hour's local date; a yearly or one-off quantity takes the value on the first day
of the settled period. A date no period covers takes the nearest earlier value (else the nearest
later one) and adds a warning. A caller may override any parameter with one value for the whole
call (a case's `parameters` object); the override replaces the table, and a region map or a
configuration-type map is merged.
"""

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from cercalc import buckets
from cercalc.money import rate_units

DM414_IN_FORCE = date(2024, 1, 24)
DM127_IN_FORCE = date(2025, 6, 26)

REGIONS = (
    "Abruzzo",
    "Basilicata",
    "Calabria",
    "Campania",
    "Emilia-Romagna",
    "Friuli-Venezia Giulia",
    "Lazio",
    "Liguria",
    "Lombardia",
    "Marche",
    "Molise",
    "Piemonte",
    "Puglia",
    "Sardegna",
    "Sicilia",
    "Toscana",
    "Trentino-Alto Adige",
    "Umbria",
    "Valle d'Aosta",
    "Veneto",
)
CONFIGURATION_TYPES = ("CER", "CEC", "AUC", "AID")
VOLTAGE_LEVELS = ("LV", "MV", "HV")
VALORISATION_FORMULAS = (
    "transmission",  # TRAS_E x E
    "transmission_distribution",  # (TRAS_E + BTAU) x E
    "transmission_distribution_losses",  # (TRAS_E + BTAU) x E + c_PR x Pz x E
)
CONSUMER_CATEGORIES = (
    "household",
    "enterprise",
    "public_body",
    "religious_body",
    "third_sector",
    "research_body",
)

_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


class Kind(Enum):
    """How a parameter's value is written in an override."""

    DECIMAL = "a decimal string"
    INTEGER = "an integer string"
    DATE = "a date string YYYY-MM-DD"
    CHOICE = "one of the listed strings"
    CATEGORIES = "a list of consumer categories"
    CHOICE_LIST = "a list drawn from the listed strings"
    REGION_MAP = "an object mapping region names to decimal strings"
    TYPE_MAP = "an object mapping configuration types to one of the listed strings"
    STEPS = 'a list of ["max_kw", "value"] pairs with increasing max_kw'


class ParameterError(ValueError):
    """An unknown parameter name or an override value of the wrong form."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class Validity:
    """One value of a parameter, valid on the local dates [valid_from, valid_to)."""

    valid_from: date | None
    valid_to: date | None
    value: Any

    def holds(self, day: date) -> bool:
        """Tell whether the local date `day` lies in this period."""
        after_start = self.valid_from is None or day >= self.valid_from
        before_end = self.valid_to is None or day < self.valid_to
        return after_start and before_end


@dataclass(frozen=True)
class ParameterTable:
    """A named, dated regulatory number with its unit and source."""

    name: str
    kind: Kind
    unit: str
    source: str
    periods: tuple[Validity, ...]
    choices: tuple[str, ...] = ()


def _one(value: Any, start: date | None = None) -> tuple[Validity, ...]:
    return (Validity(start, None, value),)


def _steps(*pairs: tuple[str, str]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(limit), Decimal(value)) for limit, value in pairs)


_FC_CENTRE = ("Lazio", "Marche", "Toscana", "Umbria", "Abruzzo")
_FC_NORTH = (
    "Emilia-Romagna",
    "Friuli-Venezia Giulia",
    "Liguria",
    "Lombardia",
    "Piemonte",
    "Trentino-Alto Adige",
    "Valle d'Aosta",
    "Veneto",
)
_REGIONAL_CORRECTION = {
    **{region: Decimal("0") for region in REGIONS},
    **{region: Decimal("4") for region in _FC_CENTRE},
    **{region: Decimal("10") for region in _FC_NORTH},
}
_EXEMPT_BEFORE_DM127 = ("public_body", "religious_body", "third_sector")

_TABLES: tuple[ParameterTable, ...] = (
    ParameterTable(
        "tip_base_band1_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("80"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_base_band2_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("70"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_base_band3_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("60"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_cap_band1_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("120"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_cap_band2_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("110"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_cap_band3_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("100"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_reference_price_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM 414/2023 All. 1, the 180 in max(0; 180 - Pz); REGULATION.md §4.1 [V]",
        _one(Decimal("180"), DM414_IN_FORCE),
    ),
    ParameterTable(
        "tip_band1_max_kw",
        Kind.DECIMAL,
        "kW",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("200")),
    ),
    ParameterTable(
        "tip_band2_max_kw",
        Kind.DECIMAL,
        "kW",
        "DM 414/2023 All. 1; REGULATION.md §4.1 [V]",
        _one(Decimal("600")),
    ),
    ParameterTable(
        "tip_max_power_kw",
        Kind.DECIMAL,
        "kW",
        "plants above 1 MW get no tariff; REGULATION.md §3.6 [S]",
        _one(Decimal("1000")),
    ),
    ParameterTable(
        "tip_duration_years",
        Kind.INTEGER,
        "years",
        "GSE page; REGULATION.md §4.4 [V] (start at entry into service [U])",
        _one(20),
    ),
    ParameterTable(
        "pv_regional_correction_eur_per_mwh",
        Kind.REGION_MAP,
        "EUR/MWh",
        "GSE FAQ, photovoltaic only, by administrative region; REGULATION.md §4.2 [V]",
        _one(_REGIONAL_CORRECTION, DM414_IN_FORCE),
    ),
    ParameterTable(
        "existing_plant_cutoff_date",
        Kind.DATE,
        "date",
        "D.Lgs. 199/2021 in force 15 Dec 2021; REGULATION.md §3.6 [S]",
        _one(date(2021, 12, 16)),
    ),
    ParameterTable(
        "existing_share_max",
        Kind.DECIMAL,
        "1",
        "existing plants at most 30 % of a CER's power, D.Lgs. 199/2021 art. 31 c. 2; "
        "REGULATION.md §3.6 [S], §9 [S]",
        _one(Decimal("0.30")),
    ),
    ParameterTable(
        "tip_new_plant_from_date",
        Kind.DATE,
        "date",
        "DM 414/2023 in force 24 Jan 2024: TIP plants enter service from then on; earlier ones "
        "since the cutoff need documents; REGULATION.md §9 [S]",
        _one(DM414_IN_FORCE),
    ),
    ParameterTable(
        "superbonus_max_kw",
        Kind.DECIMAL,
        "kW",
        "the Superbonus covers at most 20 kW of a plant, GSE FAQ; REGULATION.md §3.3 [V]",
        _one(Decimal("20")),
    ),
    ParameterTable(
        "grant_reduction_f_max",
        Kind.DECIMAL,
        "1",
        "DM 414/2023 All. 1 §3 (E-R portal); REGULATION.md §4.3 [V]",
        _one(Decimal("0.50")),
    ),
    ParameterTable(
        "grant_share_for_f_max",
        Kind.DECIMAL,
        "1",
        "grant share giving F max, and the largest share cumulable with the tariff; "
        "REGULATION.md §4.3 [V]/[S]",
        _one(Decimal("0.40")),
    ),
    ParameterTable(
        "f_exempt_categories",
        Kind.CATEGORIES,
        "categories",
        "RO §2.2.2.1.2 [C]; natural persons from DM 127/2025 [S]; REGULATION.md §4.3",
        (
            Validity(DM414_IN_FORCE, DM127_IN_FORCE, _EXEMPT_BEFORE_DM127),
            Validity(DM127_IN_FORCE, None, (*_EXEMPT_BEFORE_DM127, "household")),
        ),
    ),
    ParameterTable(
        "f_exempt_split",
        Kind.CHOICE,
        "rule",
        "split of shared energy between exempt and other withdrawals; REGULATION.md §4.3 "
        "[U], working reading 'proportional'",
        _one("proportional"),
        ("proportional", "exempt_first"),
    ),
    ParameterTable(
        "f_grant_share_base",
        Kind.CHOICE,
        "rule",
        "base of the grant share in F; REGULATION.md §4.3 [U], working reading 'investment'",
        _one("investment"),
        ("investment", "eligible_cost"),
    ),
    ParameterTable(
        "excess_threshold_share",
        Kind.DECIMAL,
        "1",
        "DM 414/2023 All. 1 §4, plants with tariff only; REGULATION.md §5 [V]",
        _one(Decimal("0.55")),
    ),
    ParameterTable(
        "excess_threshold_share_with_grant",
        Kind.DECIMAL,
        "1",
        "DM 414/2023 All. 1 §4, plants with tariff and capital grant; REGULATION.md §5 [V]",
        _one(Decimal("0.45")),
    ),
    ParameterTable(
        "valorisation_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "TRAS_E, ARERA TIT tables; REGULATION.md §6.2 (2021-22 [U], 2023-24 [S])",
        (
            Validity(date(2021, 1, 1), date(2023, 1, 1), Decimal("7.61")),
            Validity(date(2023, 1, 1), date(2024, 1, 1), Decimal("8.48")),
            Validity(date(2024, 1, 1), date(2025, 1, 1), Decimal("10.57")),
        ),
    ),
    ParameterTable(
        "btau_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "max BTAU, ARERA TIT tables; REGULATION.md §6.2 (2021-22 [U], 2023-24 [S])",
        (
            Validity(date(2021, 1, 1), date(2023, 1, 1), Decimal("0.61")),
            Validity(date(2023, 1, 1), date(2024, 1, 1), Decimal("0.60")),
            Validity(date(2024, 1, 1), date(2025, 1, 1), Decimal("0.65")),
        ),
    ),
    ParameterTable(
        "valorisation_formula",
        Kind.TYPE_MAP,
        "formula",
        "CU_Af per configuration type: TRAS_E only for CER, CEC and remote self-consumers, "
        "TRAS_E + BTAU and avoided losses for a group in one building; REGULATION.md §6.1 [C] "
        "(the E-R portal reads TRAS_E + BTAU for all: open point §13.1)",
        _one(
            {
                "CER": "transmission",
                "CEC": "transmission",
                "AID": "transmission",
                "AUC": "transmission_distribution_losses",
            }
        ),
        VALORISATION_FORMULAS,
    ),
    ParameterTable(
        "loss_factor",
        Kind.DECIMAL,
        "1",
        "c_PR avoided losses for a low-voltage (LV) point, value of ARERA 318/2020; "
        "REGULATION.md §6.1 [U]",
        _one(Decimal("0.026")),
    ),
    ParameterTable(
        "loss_factor_mv",
        Kind.DECIMAL,
        "1",
        "c_PR avoided losses for a medium-voltage (MV) point, value of ARERA 318/2020; "
        "REGULATION.md §6.1 [U] (high-voltage points take it too, with a warning)",
        _one(Decimal("0.012")),
    ),
    ParameterTable(
        "dm2020_rate_cer_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM MiSE 16 Sep 2020 flat tariff, CER; REGULATION.md §1 [V]",
        _one(Decimal("110")),
    ),
    ParameterTable(
        "dm2020_rate_auc_eur_per_mwh",
        Kind.DECIMAL,
        "EUR/MWh",
        "DM MiSE 16 Sep 2020 flat tariff, self-consumers; REGULATION.md §1 [V]",
        _one(Decimal("100")),
    ),
    ParameterTable(
        "dm2020_max_power_kw",
        Kind.DECIMAL,
        "kW",
        "DM MiSE 16 Sep 2020, plants up to 200 kW; REGULATION.md §1 [V]",
        _one(Decimal("200")),
    ),
    ParameterTable(
        "dm2020_plants_from_date",
        Kind.DATE,
        "date",
        "DM MiSE 16 Sep 2020 covers plants in service from 1 Mar 2020 (DL 162/2019 art. "
        "42-bis, converted by L. 8/2020); REGULATION.md §1 [V] regime, start date [U]",
        _one(date(2020, 3, 1)),
    ),
    ParameterTable(
        "dm2020_requests_until_date",
        Kind.DATE,
        "date",
        "DM MiSE 16 Sep 2020 accepted requests until 24 Apr 2024 (that day included), GSE "
        "'Disciplina transitoria'; REGULATION.md §1 [V]",
        _one(date(2024, 4, 24)),
    ),
    ParameterTable(
        "gse_fee_free_max_kw",
        Kind.DECIMAL,
        "kW",
        "DM MASE 106/2024; REGULATION.md §7 [S]",
        _one(Decimal("3")),
    ),
    ParameterTable(
        "gse_fee_fixed_max_kw",
        Kind.DECIMAL,
        "kW",
        "DM MASE 106/2024; REGULATION.md §7 [S]",
        _one(Decimal("20")),
    ),
    ParameterTable(
        "gse_fee_fixed_eur_per_year",
        Kind.DECIMAL,
        "EUR/year",
        "DM MASE 106/2024; REGULATION.md §7 [S]",
        _one(Decimal("15")),
    ),
    ParameterTable(
        "gse_fee_eur_per_kw_year",
        Kind.DECIMAL,
        "EUR/kW/year",
        "DM MASE 106/2024, each kW above the fixed band; REGULATION.md §7 [S]",
        _one(Decimal("1")),
    ),
    ParameterTable(
        "pnrr_fee_eur_steps",
        Kind.STEPS,
        "kW -> EUR",
        "DM MASE 106/2024, one-off fee per plant with a PNRR grant; REGULATION.md §7 [S]",
        _one(_steps(("20", "50"), ("200", "450"), ("600", "1300"), ("1000", "2300"))),
    ),
    ParameterTable(
        "pnrr_cost_cap_eur_per_kw_steps",
        Kind.STEPS,
        "kW -> EUR/kW",
        "DM 414/2023 Part III, whole plant by its band; REGULATION.md §8 [S] (non-progressive [U])",
        _one(_steps(("20", "1500"), ("200", "1200"), ("600", "1100"), ("1000", "1050"))),
    ),
    ParameterTable(
        "pnrr_grant_share",
        Kind.DECIMAL,
        "1",
        "DM 414/2023 Part III; REGULATION.md §8 [V]/[S]",
        _one(Decimal("0.40")),
    ),
    ParameterTable(
        "pnrr_entry_into_service_until_date",
        Kind.DATE,
        "date",
        "DM 127/2025: a plant with a PNRR grant enters service by 31 Dec 2027 (that day "
        "included); REGULATION.md §8 [S]",
        _one(date(2027, 12, 31)),
    ),
    ParameterTable(
        "pnrr_configuration_types",
        Kind.CHOICE_LIST,
        "types",
        "the PNRR grant is for plants in a CER or a group of self-consumers, not a remote "
        "self-consumer; REGULATION.md §8 [S] (CEC not stated [U])",
        _one(("CER", "AUC")),
        CONFIGURATION_TYPES,
    ),
    ParameterTable(
        "pnrr_advance_share",
        Kind.DECIMAL,
        "1",
        "DM 414/2023 art. 10, 30 % from DM 127/2025; REGULATION.md §8 [S]",
        (
            Validity(None, DM127_IN_FORCE, Decimal("0.10")),
            Validity(DM127_IN_FORCE, None, Decimal("0.30")),
        ),
    ),
    # The PNRR application file's rules (cer.grants): who, where and by when.
    ParameterTable(
        "pnrr_max_population",
        Kind.INTEGER,
        "inhabitants",
        "municipalities below 5,000 inhabitants, below 50,000 from DM 127/2025 (art. 1 c. 3 "
        "as amended); REGULATION.md §8 [S]",
        (
            Validity(None, DM127_IN_FORCE, 5000),
            Validity(DM127_IN_FORCE, None, 50000),
        ),
    ),
    ParameterTable(
        "pnrr_works_start_from_date",
        Kind.DATE,
        "date",
        "works of a PNRR plant start no earlier than DM 414/2023's entry into force, a working "
        "reading; the original rule also wanted them after the application; REGULATION.md §8 "
        "[S] (this date [U])",
        _one(DM414_IN_FORCE),
    ),
    ParameterTable(
        "pnrr_works_end_until_date",
        Kind.DATE,
        "date",
        "DM 127/2025: works of a PNRR plant completed by 30 Jun 2026 (that day included); "
        "REGULATION.md §8 [S]",
        _one(date(2026, 6, 30)),
    ),
    ParameterTable(
        "pnrr_service_months_after_works",
        Kind.INTEGER,
        "months",
        "DM 127/2025: entry into service within 24 months of the end of works; "
        "REGULATION.md §8 [S]",
        _one(24, DM127_IN_FORCE),
    ),
    ParameterTable(
        "pnrr_applications_until_date",
        Kind.DATE,
        "date",
        "DM 59/2025 and DD MASE 229/2025: applications until 30 Nov 2025 at 18:00; "
        "REGULATION.md §8 [S]",
        _one(date(2025, 11, 30)),
    ),
    ParameterTable(
        "quarter_hour_prices_from",
        Kind.DATE,
        "date",
        "MGP clears in 15-minute units from 1 Oct 2025; REGULATION.md §3.5 [V]",
        _one(date(2025, 10, 1)),
    ),
    ParameterTable(
        "interval_minutes",
        Kind.INTEGER,
        "min",
        "TIAD, RO and GSE FAQ say hourly; REGULATION.md §3.5 [V] (quarter-hours [U])",
        _one(60),
    ),
)


@dataclass(frozen=True)
class Parameters:
    """The parameter tables used by one settlement, by name."""

    tables: Mapping[str, ParameterTable] = field(
        default_factory=lambda: {table.name: table for table in _TABLES}
    )

    def table(self, name: str) -> ParameterTable:
        """Return the table of a parameter.

        Raises ParameterError for an unknown name.
        """
        try:
            return self.tables[name]
        except KeyError:
            raise ParameterError(name, "unknown parameter") from None

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Parameters":
        """Return a copy where each named parameter takes the given value on every date.

        Values are written as in a case file (decimal strings, lists, objects).
        Raises ParameterError for an unknown name or a value of the wrong form.
        """
        tables = dict(self.tables)
        for name in sorted(overrides):
            table = self.table(name)
            value = _parse_override(table, overrides[name])
            if table.kind in (Kind.REGION_MAP, Kind.TYPE_MAP):
                periods = tuple(
                    replace(period, value={**period.value, **value}) for period in table.periods
                )
            else:
                periods = _one(value)
            tables[name] = replace(table, periods=periods)
        return Parameters(tables)

    def value_on(self, name: str, day: date, warnings: list[str]) -> Any:
        """Return the value of a parameter valid on the local date `day`.

        A date outside every period takes the nearest value and adds a warning.
        """
        table = self.table(name)
        for period in table.periods:
            if period.holds(day):
                return period.value
        for gap_from, gap_to, nearest in _gaps(table.periods):
            if Validity(gap_from, gap_to, None).holds(day):
                warnings.append(_gap_warning(table, nearest, day))
                return nearest.value
        raise ParameterError(name, "the periods overlap or leave no value")

    def hourly_segments(
        self,
        name: str,
        hour_start_utc_s: npt.NDArray[np.int64],
        warnings: list[str],
        relevant: npt.NDArray[np.bool_] | None = None,
    ) -> list[tuple[npt.NDArray[np.bool_], Any]]:
        """Split the hours by the parameter's periods: (mask over hours, value) pairs.

        Hours whose local date no period covers get the nearest value; a warning is added
        when some of them are `relevant` (all hours when it is None), i.e. the value is used.
        """
        table = self.table(name)
        segments: list[tuple[npt.NDArray[np.bool_], Any]] = []
        for period in table.periods:
            mask = _period_mask(period.valid_from, period.valid_to, hour_start_utc_s)
            if mask.any():
                segments.append((mask, period.value))
        for gap_from, gap_to, nearest in _gaps(table.periods):
            mask = _period_mask(gap_from, gap_to, hour_start_utc_s)
            used = mask if relevant is None else mask & relevant
            if mask.any():
                segments.append((mask, nearest.value))
            if used.any():
                first_day = buckets.local_date_of(int(hour_start_utc_s[np.argmax(used)]))
                warnings.append(_gap_warning(table, nearest, first_day))
        return segments

    def hourly_rate_units(
        self,
        name: str,
        hour_start_utc_s: npt.NDArray[np.int64],
        warnings: list[str],
        relevant: npt.NDArray[np.bool_] | None = None,
    ) -> npt.NDArray[np.int64]:
        """Return a rate parameter for every hour in rate units [1e-4 EUR/MWh]."""
        rates = np.zeros(hour_start_utc_s.shape, dtype=np.int64)
        for mask, value in self.hourly_segments(name, hour_start_utc_s, warnings, relevant):
            rates[mask] = rate_units(value)
        return rates


def default_parameters() -> Parameters:
    """Return the built-in dated parameter tables."""
    return Parameters()


def _period_mask(
    valid_from: date | None, valid_to: date | None, hour_start_utc_s: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    mask = np.ones(hour_start_utc_s.shape, dtype=bool)
    if valid_from is not None:
        mask &= hour_start_utc_s >= buckets.local_midnight_utc_s(valid_from)
    if valid_to is not None:
        mask &= hour_start_utc_s < buckets.local_midnight_utc_s(valid_to)
    return mask


def _gaps(periods: Sequence[Validity]) -> list[tuple[date | None, date | None, Validity]]:
    """List the date ranges no period covers, each with the period whose value it borrows."""
    ordered = sorted(periods, key=lambda p: p.valid_from or date.min)
    gaps: list[tuple[date | None, date | None, Validity]] = []
    if ordered[0].valid_from is not None:
        gaps.append((None, ordered[0].valid_from, ordered[0]))
    for previous, following in itertools.pairwise(ordered):
        if previous.valid_to is not None and previous.valid_to < (following.valid_from or date.min):
            gaps.append((previous.valid_to, following.valid_from, previous))
    if ordered[-1].valid_to is not None:
        gaps.append((ordered[-1].valid_to, None, ordered[-1]))
    return gaps


def _gap_warning(table: ParameterTable, period: Validity, day: date) -> str:
    shown = _describe(period.value)
    if period.valid_to is not None and period.valid_to <= day:
        where = f"valid until {period.valid_to.isoformat()} (end exclusive)"
    else:
        where = f"valid from {period.valid_from.isoformat() if period.valid_from else 'always'}"
    return (
        f"No value of {table.name} is known for {day.isoformat()}: "
        f"the engine used {shown} {table.unit}, {where}."
    )


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "the table"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _parse_override(table: ParameterTable, raw: Any) -> Any:
    if table.kind is Kind.DECIMAL:
        return _parse_decimal(table.name, raw)
    if table.kind is Kind.INTEGER:
        if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
            raise ParameterError(table.name, f"expected {table.kind.value}, got {raw!r}")
        return int(raw)
    if table.kind is Kind.DATE:
        try:
            return date.fromisoformat(raw) if isinstance(raw, str) else _bad(table, raw)
        except ValueError:
            return _bad(table, raw)
    if table.kind is Kind.CHOICE:
        if raw not in table.choices:
            raise ParameterError(table.name, f"expected one of {', '.join(table.choices)}")
        return raw
    if table.kind is Kind.CATEGORIES:
        if not isinstance(raw, list) or any(item not in CONSUMER_CATEGORIES for item in raw):
            raise ParameterError(
                table.name, f"expected a list drawn from {', '.join(CONSUMER_CATEGORIES)}"
            )
        return tuple(raw)
    if table.kind is Kind.CHOICE_LIST:
        if not isinstance(raw, list) or any(item not in table.choices for item in raw):
            raise ParameterError(
                table.name, f"expected a list drawn from {', '.join(table.choices)}"
            )
        return tuple(raw)
    if table.kind is Kind.TYPE_MAP:
        if not isinstance(raw, dict):
            return _bad(table, raw)
        for key in sorted(raw):
            if key not in CONFIGURATION_TYPES:
                raise ParameterError(f"{table.name}.{key}", "not a configuration type")
            if raw[key] not in table.choices:
                raise ParameterError(
                    f"{table.name}.{key}", f"expected one of {', '.join(table.choices)}"
                )
        return dict(raw)
    if table.kind is Kind.REGION_MAP:
        if not isinstance(raw, dict):
            return _bad(table, raw)
        unknown = sorted(set(raw) - set(REGIONS))
        if unknown:
            raise ParameterError(f"{table.name}.{unknown[0]}", "not an Italian region name")
        return {region: _parse_decimal(f"{table.name}.{region}", raw[region]) for region in raw}
    return _parse_steps(table, raw)


def _parse_steps(table: ParameterTable, raw: Any) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list) or not raw:
        return _bad(table, raw)
    steps = []
    for index, pair in enumerate(raw):
        if not isinstance(pair, list) or len(pair) != 2:
            return _bad(table, raw)
        where = f"{table.name}[{index}]"
        steps.append((_parse_decimal(where, pair[0]), _parse_decimal(where, pair[1])))
    limits = [limit for limit, _ in steps]
    if limits != sorted(set(limits)):
        raise ParameterError(table.name, "max_kw must increase strictly")
    return tuple(steps)


def _parse_decimal(name: str, raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        return raw
    if not isinstance(raw, str) or not _DECIMAL_TEXT.fullmatch(raw):
        raise ParameterError(name, f'expected a decimal string such as "10.57", got {raw!r}')
    return Decimal(raw)


def _bad(table: ParameterTable, raw: Any) -> Any:
    raise ParameterError(table.name, f"expected {table.kind.value}, got {raw!r}")
