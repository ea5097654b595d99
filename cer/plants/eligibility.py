"""Eligibility of a plant in its community: each rule is a pure function of plain values.

A check takes what is known about one plant (`PlantFacts`) and about its configuration and
community (`CommunityFacts`), and returns a `CheckResult`: an outcome, the figures it used
(as strings, so they can be stored as JSON) and the rule it applies. `explain` turns a
result into a sentence in the user's language; `overall_status` folds the results into the
plant's status. Nothing here reads the database or the clock.

The limits (1 MW, dates, 30 %, 20 kW, regional corrections) are the dated parameters of
`cercalc.params`, read by `cercalc.eligibility` on the plant's entry into service; a caller
may pass its own `EligibilityLimits` (the settlement's overridden parameters, or a test's).

Outcomes: PASS (requirement met), LIMITED (admitted with less than the full tariff:
valorisation only, or a reduced incentivised share), TO_CHECK (cannot be decided from the
data: documents or codes are missing), FAIL (requirement not met). Any FAIL makes the plant
NOT_ELIGIBLE, otherwise any TO_CHECK makes it TO_CHECK, otherwise it is ELIGIBLE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cer.communities.area import Placement, place_in_area
from cer.core import formatting
from cer.core.choices import Region
from cercalc.eligibility import (
    EligibilityLimits,
    eligibility_limits,
    existing_share,
    existing_share_within_limit,
)
from cercalc.params import default_parameters


class Outcome(StrEnum):
    PASS = "PASS"  # noqa: S105 (an outcome code, not a password)
    LIMITED = "LIMITED"
    TO_CHECK = "TO_CHECK"
    FAIL = "FAIL"


class Status(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    TO_CHECK = "TO_CHECK"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"


class Rule(StrEnum):
    POWER = "POWER"
    ENTRY_DATE = "ENTRY_DATE"
    REGIME = "REGIME"
    SUBSTATION = "SUBSTATION"
    EXISTING_SHARE = "EXISTING_SHARE"
    INCENTIVISED_SHARE = "INCENTIVISED_SHARE"
    PV_REGION = "PV_REGION"
    AREA = "AREA"


RULE_TITLES: Mapping[Rule, Any] = MappingProxyType(
    {
        Rule.POWER: _("Power of the plant"),
        Rule.ENTRY_DATE: _("Entry into service"),
        Rule.REGIME: _("Incentive regime"),
        Rule.SUBSTATION: _("Primary substation"),
        Rule.EXISTING_SHARE: _("Share of existing plants"),
        Rule.INCENTIVISED_SHARE: _("Superbonus and RES-obligation share"),
        Rule.PV_REGION: _("Region of a photovoltaic plant"),
        Rule.AREA: _("In the area of the primary substation"),
    }
)

CITATIONS: Mapping[Rule, str] = MappingProxyType(
    {
        Rule.POWER: "DM 414/2023; GSE Regole Operative",
        Rule.ENTRY_DATE: "D.Lgs. 199/2021 art. 31; DM 414/2023 art. 3",
        Rule.REGIME: "DM MiSE 16/9/2020; GSE transitional regime",
        Rule.SUBSTATION: "DM 414/2023; TIAD",
        Rule.EXISTING_SHARE: "D.Lgs. 199/2021 art. 31 c. 2",
        Rule.INCENTIVISED_SHARE: "GSE FAQ on Superbonus and RES obligation",
        Rule.PV_REGION: "DM 414/2023 Allegato 1; GSE FAQ",
        Rule.AREA: "D.Lgs. 199/2021 art. 31 c. 2; TIAD art. 1; GSE map of primary substations",
    }
)

PCT_STEP = Decimal("0.1")


@dataclass(frozen=True)
class PlantFacts:
    """What the checks need to know about one plant."""

    power_kw: Decimal
    entry_into_service_date: dt.date
    regime: str  # "DM414" or "DM2020"
    source: str  # EnergySource code, "PV" for photovoltaic
    region: str = ""  # administrative region of the plant; "" when unknown
    municipality_code: str = ""  # ISTAT code of the plant's municipality; "" when unknown
    municipality_name: str = ""  # "Spinea (VE)", for the explanation
    primary_substation: str = ""  # code on the GSE map; "" when unknown
    superbonus_kw: Decimal = Decimal(0)
    obligation_kw: Decimal = Decimal(0)


@dataclass(frozen=True)
class CommunityFacts:
    """What the checks need to know about the plant's configuration and community."""

    community_kind: str  # CommunityKind code: the 30 % limit applies to a CER
    primary_substation: str  # the configuration's primary substation
    region: str  # the configuration's region
    existing_power_kw: Decimal  # all existing plants of the community, this one included
    total_power_kw: Decimal  # all plants of the community, this one included
    gse_request_date: dt.date | None = None  # when the configuration's request was filed
    # ISTAT codes of the municipalities the configuration's substation serves; None when the
    # community has not imported them.
    area_municipality_codes: frozenset[str] | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rule for one plant, with the figures it was decided on."""

    rule: Rule
    outcome: Outcome
    values: Mapping[str, str] = field(default_factory=dict)
    variant: str = ""  # which sentence explains it, when a rule has several

    @property
    def citation(self) -> str:
        return CITATIONS[self.rule]

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": str(self.rule),
            "outcome": str(self.outcome),
            "variant": self.variant,
            "values": dict(self.values),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            rule=Rule(data["rule"]),
            outcome=Outcome(data["outcome"]),
            values=dict(data.get("values", {})),
            variant=data.get("variant", ""),
        )


def limits_for(plant: PlantFacts) -> EligibilityLimits:
    """Return the built-in limits valid on the plant's entry into service."""
    return eligibility_limits(default_parameters(), day=plant.entry_into_service_date)


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    """Return part / whole in percent, exact (the comparison is made before any rounding)."""
    return part * 100 / whole


def _text(value: Decimal) -> str:
    """Write a limit in plain digits: an administrator's override may come as 4E+1."""
    return format(value, "f")


def _show_pct(value: Decimal) -> str:
    return str(value.quantize(PCT_STEP, rounding=ROUND_HALF_UP))


def check_power(plant: PlantFacts, *, limits: EligibilityLimits | None = None) -> CheckResult:
    """Check the plant's power against the 1 MW limit per plant [kW]."""
    limits = limits or limits_for(plant)
    values = {"power_kw": str(plant.power_kw), "max_kw": _text(limits.max_power_kw)}
    outcome = Outcome.PASS if plant.power_kw <= limits.max_power_kw else Outcome.FAIL
    return CheckResult(Rule.POWER, outcome, values)


def check_entry_date(plant: PlantFacts, *, limits: EligibilityLimits | None = None) -> CheckResult:
    """Classify the entry into service: existing, transitional (documents needed) or new."""
    limits = limits or limits_for(plant)
    day = plant.entry_into_service_date
    values = {
        "date": day.isoformat(),
        "existing_before": limits.existing_before_date.isoformat(),
        "dm414_from": limits.new_plant_from_date.isoformat(),
    }
    if plant.regime == "DM2020":
        # The transitional regime has its own timing, checked by the regime rule: the
        # 16 Dec 2021 cut-off belongs to the new regime only (REGULATION.md §1).
        return CheckResult(Rule.ENTRY_DATE, Outcome.PASS, values, variant="dm2020")
    if day < limits.existing_before_date:
        return CheckResult(Rule.ENTRY_DATE, Outcome.LIMITED, values, variant="existing")
    if day < limits.new_plant_from_date:
        return CheckResult(Rule.ENTRY_DATE, Outcome.TO_CHECK, values, variant="between")
    return CheckResult(Rule.ENTRY_DATE, Outcome.PASS, values, variant="new")


def check_regime(
    plant: PlantFacts,
    community: CommunityFacts,
    *,
    limits: EligibilityLimits | None = None,
) -> CheckResult:
    """Check that the incentive regime fits the plant's power and dates."""
    limits = limits or limits_for(plant)
    if plant.regime != "DM2020":
        if plant.entry_into_service_date < limits.existing_before_date:
            # An existing plant is admitted under DM 414/2023 for the valorisation only: the
            # row must not promise the tariff the entry-date row denies (REGULATION.md §3.6).
            return CheckResult(
                Rule.REGIME, Outcome.LIMITED, {"regime": plant.regime}, variant="dm414_existing"
            )
        return CheckResult(Rule.REGIME, Outcome.PASS, {"regime": plant.regime}, variant="dm414")
    until = limits.dm2020_requests_until_date
    values = {
        "regime": plant.regime,
        "power_kw": str(plant.power_kw),
        "max_kw": _text(limits.dm2020_max_power_kw),
        "until": until.isoformat(),
        "date": plant.entry_into_service_date.isoformat(),
        "request_date": community.gse_request_date.isoformat()
        if community.gse_request_date
        else "",
    }
    if plant.power_kw > limits.dm2020_max_power_kw:
        return CheckResult(Rule.REGIME, Outcome.FAIL, values, variant="dm2020_power")
    if plant.entry_into_service_date > until:
        return CheckResult(Rule.REGIME, Outcome.FAIL, values, variant="dm2020_late_plant")
    if community.gse_request_date is None:
        return CheckResult(Rule.REGIME, Outcome.TO_CHECK, values, variant="dm2020_no_request")
    if community.gse_request_date > until:
        return CheckResult(Rule.REGIME, Outcome.FAIL, values, variant="dm2020_late_request")
    return CheckResult(Rule.REGIME, Outcome.PASS, values, variant="dm2020")


def _normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def check_substation(plant: PlantFacts, community: CommunityFacts) -> CheckResult:
    """Check that the plant is under the configuration's primary substation."""
    values = {"plant": plant.primary_substation, "configuration": community.primary_substation}
    if not plant.primary_substation.strip():
        return CheckResult(Rule.SUBSTATION, Outcome.TO_CHECK, values, variant="unknown")
    same = _normalise_code(plant.primary_substation) == _normalise_code(
        community.primary_substation
    )
    return CheckResult(Rule.SUBSTATION, Outcome.PASS if same else Outcome.FAIL, values)


def check_existing_share(
    plant: PlantFacts,
    community: CommunityFacts,
    *,
    limits: EligibilityLimits | None = None,
) -> CheckResult:
    """Check the CER's existing-plant power against 30 % of its total power."""
    if community.community_kind != "CER":
        return CheckResult(
            Rule.EXISTING_SHARE,
            Outcome.PASS,
            {"kind": community.community_kind},
            variant="not_cer",
        )
    limits = limits or limits_for(plant)
    share = existing_share(
        existing_power_kw=community.existing_power_kw, total_power_kw=community.total_power_kw
    )
    values = {
        "existing_kw": str(community.existing_power_kw),
        "total_kw": str(community.total_power_kw),
        "share_pct": _show_pct(Decimal(share.numerator) * 100 / share.denominator),
        "max_pct": _text((limits.existing_share_max * 100).normalize()),
    }
    within = existing_share_within_limit(
        existing_power_kw=community.existing_power_kw,
        total_power_kw=community.total_power_kw,
        share_max=limits.existing_share_max,
    )
    is_existing = (
        plant.regime != "DM2020" and plant.entry_into_service_date < limits.existing_before_date
    )
    if within:
        return CheckResult(Rule.EXISTING_SHARE, Outcome.PASS, values, variant="within")
    if is_existing:
        return CheckResult(Rule.EXISTING_SHARE, Outcome.FAIL, values, variant="over")
    # A new plant lowers the share; the existing plants carry the failure.
    return CheckResult(Rule.EXISTING_SHARE, Outcome.PASS, values, variant="over_not_this")


def check_incentivised_share(
    plant: PlantFacts, *, limits: EligibilityLimits | None = None
) -> CheckResult:
    """Work out the share of power that can earn the TIP after Superbonus and obligation [%]."""
    limits = limits or limits_for(plant)
    reduced_kw = plant.superbonus_kw + plant.obligation_kw
    values = {
        "power_kw": str(plant.power_kw),
        "superbonus_kw": str(plant.superbonus_kw),
        "obligation_kw": str(plant.obligation_kw),
        "superbonus_max_kw": _text(limits.superbonus_max_kw),
    }
    if plant.superbonus_kw > limits.superbonus_max_kw:
        return CheckResult(
            Rule.INCENTIVISED_SHARE, Outcome.TO_CHECK, values, variant="superbonus_over"
        )
    if reduced_kw == 0:
        return CheckResult(Rule.INCENTIVISED_SHARE, Outcome.PASS, values, variant="full")
    incentivised = (
        _pct(plant.power_kw - reduced_kw, plant.power_kw) if plant.power_kw > 0 else Decimal(0)
    )
    values["incentivised_pct"] = _show_pct(max(incentivised, Decimal(0)))
    return CheckResult(Rule.INCENTIVISED_SHARE, Outcome.LIMITED, values, variant="reduced")


def check_pv_region(
    plant: PlantFacts,
    community: CommunityFacts,
    *,
    limits: EligibilityLimits | None = None,
) -> CheckResult:
    """Find the photovoltaic regional correction; flag a missing or inconsistent region."""
    if plant.source != "PV":
        return CheckResult(Rule.PV_REGION, Outcome.PASS, {"source": plant.source}, variant="not_pv")
    limits = limits or limits_for(plant)
    # The correction is the plant's own region's, never the configuration's (REGULATION.md
    # §4.2): a plant in Veneto under a configuration in Puglia would otherwise get Puglia's.
    region = plant.region
    values = {"region": region, "configuration_region": community.region}
    if not region:
        return CheckResult(Rule.PV_REGION, Outcome.TO_CHECK, values, variant="unknown")
    correction = limits.pv_correction_eur_per_mwh.get(region)
    if correction is None:
        return CheckResult(Rule.PV_REGION, Outcome.TO_CHECK, values, variant="unknown")
    values["correction_eur_per_mwh"] = _text(correction)
    return CheckResult(Rule.PV_REGION, Outcome.PASS, values, variant="known")


def check_area(plant: PlantFacts, community: CommunityFacts) -> CheckResult:
    """Check that the plant stands in the area of its configuration's primary substation."""
    verdict = place_in_area(
        municipality_code=plant.municipality_code,
        region=plant.region,
        configuration_region=community.region,
        area_codes=community.area_municipality_codes,
    )
    values = {
        "municipality": plant.municipality_name,
        "region": plant.region,
        "configuration_region": community.region,
        "substation": community.primary_substation,
    }
    outcome = {
        Placement.INSIDE: Outcome.PASS,
        Placement.OUTSIDE: Outcome.FAIL,
        Placement.TO_VERIFY: Outcome.TO_CHECK,
    }[verdict.placement]
    return CheckResult(Rule.AREA, outcome, values, variant=verdict.variant)


def check_plant(
    plant: PlantFacts,
    community: CommunityFacts,
    *,
    limits: EligibilityLimits | None = None,
) -> list[CheckResult]:
    """Run every eligibility rule on one plant, in a fixed order."""
    limits = limits or limits_for(plant)
    return [
        check_power(plant, limits=limits),
        check_entry_date(plant, limits=limits),
        check_regime(plant, community, limits=limits),
        check_substation(plant, community),
        check_existing_share(plant, community, limits=limits),
        check_incentivised_share(plant, limits=limits),
        check_pv_region(plant, community, limits=limits),
        check_area(plant, community),
    ]


def overall_status(results: list[CheckResult]) -> Status:
    """Fold the results: any failure rules the plant out, any open point leaves it to check."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAIL in outcomes:
        return Status.NOT_ELIGIBLE
    if Outcome.TO_CHECK in outcomes:
        return Status.TO_CHECK
    return Status.ELIGIBLE


# --- plain-language explanations ------------------------------------------------------------


def _explain_power(result: CheckResult) -> str:
    if result.outcome == Outcome.PASS:
        return gettext("%(power_kw)s kW is within the limit of %(max_kw)s kW per plant.")
    return gettext(
        "%(power_kw)s kW is above the limit of %(max_kw)s kW per plant: a plant above 1 MW "
        "gets no incentive tariff (at most the valorisation)."
    )


def _explain_entry_date(result: CheckResult) -> str:
    return {
        "existing": gettext(
            "In service on %(date)s, before %(existing_before)s: an existing plant. It may join "
            "but earns the valorisation only, not the incentive tariff, and counts towards the "
            "30 %% limit."
        ),
        "dm2020": gettext(
            "In service on %(date)s under the transitional regime: timing is checked by the "
            "regime rule."
        ),
        "between": gettext(
            "In service on %(date)s, between %(existing_before)s and the entry into force of "
            "DM 414 (%(dm414_from)s): admitted only with documents dated before the entry into "
            "service showing the plant was built for the community. Check the documents."
        ),
        "new": gettext(
            "In service on %(date)s, on or after the entry into force of DM 414 "
            "(%(dm414_from)s): a new plant."
        ),
    }[result.variant]


def _explain_regime(result: CheckResult) -> str:
    return {
        "dm414": gettext("DM 414/2023: incentive tariff by zonal price."),
        "dm414_existing": gettext(
            "DM 414/2023, as an existing plant: valorisation of the shared energy only, no "
            "incentive tariff."
        ),
        "dm2020": gettext(
            "DM 16/9/2020: request filed on %(request_date)s, within the deadline of %(until)s."
        ),
        "dm2020_power": gettext(
            "DM 16/9/2020 admits plants up to %(max_kw)s kW; this one has %(power_kw)s kW."
        ),
        "dm2020_late_plant": gettext(
            "DM 16/9/2020 accepted requests until %(until)s, but the plant entered service on "
            "%(date)s: choose DM 414/2023."
        ),
        "dm2020_late_request": gettext(
            "DM 16/9/2020 accepted requests until %(until)s; the configuration's request is "
            "dated %(request_date)s: choose DM 414/2023."
        ),
        "dm2020_no_request": gettext(
            "DM 16/9/2020 accepted requests until %(until)s: record the configuration's GSE "
            "request date to confirm the regime."
        ),
    }[result.variant]


def _explain_substation(result: CheckResult) -> str:
    if result.variant == "unknown":
        return gettext(
            "The plant's primary substation is not recorded: look it up on the GSE map and "
            "compare it with the configuration's (%(configuration)s)."
        )
    if result.outcome == Outcome.PASS:
        return gettext("Under the configuration's primary substation %(configuration)s.")
    return gettext(
        "The plant is under primary substation %(plant)s, the configuration under "
        "%(configuration)s: shared energy and the incentive need the same primary substation."
    )


def _explain_existing_share(result: CheckResult) -> str:
    return {
        "not_cer": gettext("The 30 %% limit on existing plants applies to a CER only."),
        "within": gettext(
            "Existing plants: %(existing_kw)s kW of %(total_kw)s kW, %(share_pct)s %%, within "
            "the limit of %(max_pct)s %%."
        ),
        "over": gettext(
            "Existing plants: %(existing_kw)s kW of %(total_kw)s kW, %(share_pct)s %%, above "
            "the limit of %(max_pct)s %% for a CER."
        ),
        "over_not_this": gettext(
            "Existing plants are %(share_pct)s %% of the community's power, above %(max_pct)s "
            "%%; this new plant is not one of them."
        ),
    }[result.variant]


def _explain_incentivised_share(result: CheckResult) -> str:
    return {
        "full": gettext("No Superbonus or obligation share: the whole power can be incentivised."),
        "reduced": gettext(
            "Superbonus %(superbonus_kw)s kW and RES obligation %(obligation_kw)s kW of "
            "%(power_kw)s kW: the incentive applies to %(incentivised_pct)s %% of the energy "
            "attributed to the plant; the valorisation to all of it."
        ),
        "superbonus_over": gettext(
            "The Superbonus share (%(superbonus_kw)s kW) is above %(superbonus_max_kw)s kW, the "
            "most the Superbonus covers: check the figure."
        ),
    }[result.variant]


def _explain_pv_region(result: CheckResult) -> str:
    return {
        "not_pv": gettext("Not photovoltaic: no regional correction."),
        "unknown": gettext(
            "The region of this photovoltaic plant is not known: record its municipality. The "
            "regional correction is the plant's own region's, not the configuration's."
        ),
        "differs": gettext(
            "The plant is recorded in %(region)s but the configuration in "
            "%(configuration_region)s: check the region."
        ),
        "known": gettext(
            "Photovoltaic plant in %(region)s: regional correction of %(correction_eur_per_mwh)s "
            "EUR/MWh."
        ),
    }[result.variant]


def _explain_area(result: CheckResult) -> str:
    return {
        "place_unknown": gettext(
            "The plant's municipality is not recorded: record it to check that the plant is "
            "in the area of primary substation %(substation)s."
        ),
        "in_area": gettext(
            "%(municipality)s is among the municipalities served by primary substation "
            "%(substation)s."
        ),
        "outside_area": gettext(
            "%(municipality)s is not among the municipalities served by primary substation "
            "%(substation)s in the distributor's list: the plant cannot share energy in this "
            "configuration."
        ),
        "other_zone": gettext(
            "%(municipality)s is in %(region)s, in another market zone than the configuration "
            "(%(configuration_region)s): no primary substation area crosses a market zone, so "
            "the plant is outside this configuration."
        ),
        "other_region": gettext(
            "To verify: %(municipality)s is in %(region)s, the configuration in "
            "%(configuration_region)s. A substation area may cross a regional border: check "
            "the plant's address on the GSE map."
        ),
        "area_unknown": gettext(
            "To verify: the municipalities served by primary substation %(substation)s are not "
            "known. Import the distributor's list of substations, or check the plant's address "
            "on the GSE map."
        ),
    }[result.variant]


_EXPLAINERS: Mapping[Rule, Callable[[CheckResult], str]] = MappingProxyType(
    {
        Rule.POWER: _explain_power,
        Rule.ENTRY_DATE: _explain_entry_date,
        Rule.REGIME: _explain_regime,
        Rule.SUBSTATION: _explain_substation,
        Rule.EXISTING_SHARE: _explain_existing_share,
        Rule.INCENTIVISED_SHARE: _explain_incentivised_share,
        Rule.PV_REGION: _explain_pv_region,
        Rule.AREA: _explain_area,
    }
)


# The stored figures are plain machine strings ("274.800000000000", "2021-12-16"); a reader
# gets them through the one formatting helper: "274,8", "16 dicembre 2021" in Italian.
_DATE_KEYS = frozenset({"date", "existing_before", "dm414_from", "until", "request_date"})


def _readable(key: str, value: str) -> str:
    """Format one stored figure of a result for a reader, by what its key says it holds."""
    if not value:
        return value
    try:
        if key in _DATE_KEYS:
            return formatting.day(dt.date.fromisoformat(value))
        if key.endswith("_kw") or key == "correction_eur_per_mwh":
            return formatting.number(Decimal(value), 3, trim=True)
        if key.endswith("_pct"):
            return formatting.number(Decimal(value), 2, trim=True)
    except (ValueError, ArithmeticError):
        # A result stored by an older version with a figure we cannot read: show it as is.
        return value
    if key in {"region", "configuration_region"}:
        return str(Region(value).label) if value in Region.values else value
    return value


def explain(result: CheckResult) -> str:
    """Return the result as one plain sentence in the active language, figures formatted."""
    values = {key: _readable(key, str(value)) for key, value in result.values.items()}
    return _EXPLAINERS[result.rule](result) % values
