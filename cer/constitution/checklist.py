"""The legal requirements of a community being constituted, each met, not met or to check.

`evaluate` takes plain facts about the future community (its type and legal form, the
founding members, the primary substations, the connection points and the plants) and
returns one `Requirement` per rule that applies to that type, with the rule it comes from
(REGULATION.md §3.6 and §9). Nothing here reads the database or the clock: the wizard
builds the facts from what the user typed. The limits (1 MW, the existing-plant cutoff, the
DM 414/2023 start, 30 %) are the engine's dated parameters (`cercalc.eligibility`), read on the
newest plant's entry into service: the day the declared community reaches its full power.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any

from django.utils.translation import gettext_lazy as _

from cer.communities.area import Placement, place_in_area
from cer.communities.models import MarketZone
from cer.communities.zones import is_split, zone_matches, zones_of
from cer.core import formatting
from cercalc.eligibility import EligibilityLimits, eligibility_limits, existing_share_within_limit
from cercalc.params import Parameters, default_parameters

LARGE_ENTERPRISE = "LARGE_ENTERPRISE"
ENTERPRISES = frozenset({"SME", LARGE_ENTERPRISE})
COMMUNITY_KINDS_WITH_ENTITY = frozenset({"CER", "CEC"})


class Status(StrEnum):
    MET = "MET"
    NOT_MET = "NOT_MET"
    TO_CHECK = "TO_CHECK"


@dataclass(frozen=True)
class MemberFacts:
    name: str
    category: str
    municipality_code: str
    municipality_name: str
    region: str = ""
    fiscal_code: str = ""


@dataclass(frozen=True)
class ConfigurationFacts:
    name: str
    primary_substation: str
    region: str
    market_zone: str


@dataclass(frozen=True)
class PointFacts:
    pod: str
    holder: str
    primary_substation: str
    has_withdrawal: bool
    has_injection: bool
    building: str = ""


@dataclass(frozen=True)
class PlantFacts:
    name: str
    power_kw: Decimal
    entry_into_service_date: dt.date
    municipality_code: str
    municipality_name: str
    region: str = ""
    primary_substation: str = ""


@dataclass(frozen=True)
class ConstitutionFacts:
    kind: str
    legal_form: str
    members: Sequence[MemberFacts] = ()
    primary_substations: Sequence[str] = ()
    points: Sequence[PointFacts] = ()
    plants: Sequence[PlantFacts] = ()
    configurations: Sequence[ConfigurationFacts] = ()


@dataclass(frozen=True)
class Requirement:
    code: str
    title: Any
    status: Status
    explanation: Any
    rule: str

    @property
    def status_label(self) -> Any:
        return STATUS_LABELS[self.status]


STATUS_LABELS = {
    Status.MET: _("met"),
    Status.NOT_MET: _("not met"),
    Status.TO_CHECK: _("to check"),
}


def evaluate(
    facts: ConstitutionFacts, *, parameters: Parameters | None = None
) -> list[Requirement]:
    """Return the requirements that apply to the community's type, each with its status.

    `parameters` defaults to the engine's built-in tables.
    """
    parameters = parameters or default_parameters()
    checks: list[Callable[[ConstitutionFacts], Requirement]] = [
        _primary_substation,
        _market_zone,
        _in_the_area,
        partial(_plant_power, parameters=parameters),
        partial(_plant_dates, parameters=parameters),
    ]
    if facts.kind in COMMUNITY_KINDS_WITH_ENTITY:
        checks = [_legal_entity, _control, *checks]
    if facts.kind == "CER":
        checks += [
            _enterprise_activity,
            _members_where_plants_are,
            partial(_existing_share, parameters=parameters),
        ]
    if facts.kind == "AUC":
        checks.append(_one_building)
    if facts.kind == "AID":
        checks.append(_one_final_customer)
    return [check(facts) for check in checks]


def summary(requirements: Sequence[Requirement]) -> dict[str, int]:
    """Count the requirements by status code."""
    counts = {status.value: 0 for status in Status}
    for requirement in requirements:
        counts[requirement.status.value] += 1
    return counts


def _legal_entity(facts: ConstitutionFacts) -> Requirement:
    met = facts.legal_form not in {"", "NONE", "CONDOMINIUM"}
    return Requirement(
        code="LEGAL_ENTITY",
        title=_("An autonomous legal entity"),
        status=Status.MET if met else Status.NOT_MET,
        explanation=_("The chosen legal form is a separate entity.")
        if met
        else _(
            "A CER or CEC must be an autonomous legal entity: choose an association, "
            "a cooperative, a foundation, a consortium or a third-sector entity."
        ),
        rule="D.Lgs. 199/2021 art. 31 c. 1; D.Lgs. 210/2021 art. 14",
    )


def _control(facts: ConstitutionFacts) -> Requirement:
    rule = "D.Lgs. 199/2021 art. 31 c. 1; L. 60/2025"
    title = _("Control by eligible members")
    if not facts.members:
        return Requirement(
            "CONTROL", title, Status.TO_CHECK, _("No founding member declared yet."), rule
        )
    large = [member for member in facts.members if member.category == LARGE_ENTERPRISE]
    if not large:
        return Requirement(
            "CONTROL",
            title,
            Status.MET,
            _("Every founding member belongs to a category that may control the community."),
            rule,
        )
    if 2 * len(large) >= len(facts.members):
        return Requirement(
            "CONTROL",
            title,
            Status.NOT_MET,
            _(
                "Large enterprises are at least half of the founding members: they may not "
                "control the community."
            ),
            rule,
        )
    return Requirement(
        "CONTROL",
        title,
        Status.TO_CHECK,
        _(
            "Large enterprises are among the founding members: the statute must keep control "
            "away from them, and whether they may be members at all is to be verified."
        ),
        rule,
    )


def _enterprise_activity(facts: ConstitutionFacts) -> Requirement:
    enterprises = [member.name for member in facts.members if member.category in ENTERPRISES]
    return Requirement(
        code="ENTERPRISE_ACTIVITY",
        title=_("Enterprises take part outside their main activity"),
        status=Status.TO_CHECK if enterprises else Status.MET,
        explanation=_(
            "Check that taking part is not the main commercial or industrial "
            "activity of: %(names)s."
        )
        % {"names": ", ".join(enterprises)}
        if enterprises
        else _("No enterprise among the founding members."),
        rule="D.Lgs. 199/2021 art. 31 c. 1",
    )


def _members_where_plants_are(facts: ConstitutionFacts) -> Requirement:
    rule = "D.Lgs. 199/2021 art. 31 c. 1"
    title = _("Members located in the municipalities of the plants")
    if not facts.plants:
        return Requirement(
            "MEMBER_MUNICIPALITIES", title, Status.TO_CHECK, _("No plant declared yet."), rule
        )
    plant_places = {plant.municipality_code for plant in facts.plants}
    outside = [
        member.name for member in facts.members if member.municipality_code not in plant_places
    ]
    if outside:
        places = sorted({plant.municipality_name for plant in facts.plants})
        return Requirement(
            "MEMBER_MUNICIPALITIES",
            title,
            Status.NOT_MET,
            _("These members are not located where the plants are (%(places)s): %(names)s.")
            % {"places": ", ".join(places), "names": ", ".join(outside)},
            rule,
        )
    return Requirement(
        "MEMBER_MUNICIPALITIES",
        title,
        Status.MET,
        _("Every founding member is located in a municipality with a plant."),
        rule,
    )


def _primary_substation(facts: ConstitutionFacts) -> Requirement:
    rule = "DM 414/2023; TIAD: one configuration per primary substation"
    title = _("Same primary substation")
    substations = list(dict.fromkeys(facts.primary_substations))
    if not substations:
        return Requirement(
            "PRIMARY_SUBSTATION",
            title,
            Status.NOT_MET,
            _("Declare at least one primary substation."),
            rule,
        )
    if facts.kind in {"AUC", "AID"} and len(substations) > 1:
        return Requirement(
            "PRIMARY_SUBSTATION",
            title,
            Status.NOT_MET,
            _(
                "A group of self-consumers or a remote self-consumer lies under one primary "
                "substation; %(count)d are declared."
            )
            % {"count": len(substations)},
            rule,
        )
    incomplete = [
        code
        for code in substations
        if not any(p.primary_substation == code and p.has_injection for p in facts.points)
        or not any(p.primary_substation == code and p.has_withdrawal for p in facts.points)
    ]
    if incomplete:
        return Requirement(
            "PRIMARY_SUBSTATION",
            title,
            Status.TO_CHECK,
            _("These primary substations have no injecting or no withdrawing point yet: %(codes)s.")
            % {"codes": ", ".join(incomplete)},
            rule,
        )
    return Requirement(
        "PRIMARY_SUBSTATION",
        title,
        Status.MET,
        _(
            "Each primary substation has its own configuration with injecting and withdrawing "
            "points: one GSE request per substation."
        ),
        rule,
    )


def _market_zone(facts: ConstitutionFacts) -> Requirement:
    rule = "DM 414/2023 (zonal price); Terna market zones from 1 Jan 2021 (ARERA 103/2019)"
    title = _("Market zone of each configuration")
    if not facts.configurations:
        return Requirement(
            "MARKET_ZONE", title, Status.TO_CHECK, _("No configuration declared yet."), rule
        )
    wrong = [c for c in facts.configurations if not zone_matches(c.region, c.market_zone)]
    if wrong:
        return Requirement(
            "MARKET_ZONE",
            title,
            Status.NOT_MET,
            _("The market zone does not match the region: %(names)s.")
            % {
                "names": ", ".join(
                    f"{c.name} ({c.region}: "
                    + ", ".join(str(MarketZone(z).label) for z in sorted(zones_of(c.region)))
                    + ")"
                    for c in wrong
                )
            },
            rule,
        )
    split = [c.name for c in facts.configurations if is_split(c.region)]
    if split:
        return Requirement(
            "MARKET_ZONE",
            title,
            Status.TO_CHECK,
            _(
                "To verify: the region of %(names)s lies in more than one market zone; the GSE "
                "map of primary substations shows which one."
            )
            % {"names": ", ".join(split)},
            rule,
        )
    return Requirement(
        "MARKET_ZONE",
        title,
        Status.MET,
        _("Each configuration's market zone is the zone of its region."),
        rule,
    )


def _in_the_area(facts: ConstitutionFacts) -> Requirement:
    """Plants and members' points in the area of their configuration's substation.

    The wizard has no distributor's list yet, so the area itself is never known here: a
    place in another market zone is certainly outside, anything else is to verify.
    """
    rule = "D.Lgs. 199/2021 art. 31 c. 2; TIAD art. 1"
    title = _("Plants and members in the area of the primary substation")
    regions = {c.primary_substation: c.region for c in facts.configurations}
    if not facts.configurations or not (facts.plants or facts.points):
        return Requirement(
            "AREA", title, Status.TO_CHECK, _("No connection point declared yet."), rule
        )
    outside: list[str] = []
    doubtful: list[str] = []
    for plant in facts.plants:
        verdict = place_in_area(
            municipality_code=plant.municipality_code,
            region=plant.region,
            configuration_region=regions.get(plant.primary_substation, ""),
            area_codes=None,
        )
        label = f"{plant.name} ({plant.municipality_name}, {plant.region})"
        if verdict.placement == Placement.OUTSIDE:
            outside.append(label)
        elif verdict.variant != "area_unknown":
            doubtful.append(label)
    members = {member.fiscal_code: member for member in facts.members if member.fiscal_code}
    holders = {(point.holder, point.primary_substation) for point in facts.points}
    for code, substation in sorted(holders):
        member = members.get(code)
        if member is None:
            continue
        verdict = place_in_area(
            municipality_code=member.municipality_code,
            region=member.region,
            configuration_region=regions.get(substation, ""),
            area_codes=None,
        )
        if verdict.placement != Placement.INSIDE and verdict.variant != "area_unknown":
            # Where a member lives is not where their point is: only a doubt, never a failure.
            doubtful.append(f"{member.name} ({member.municipality_name}, {member.region})")
    if outside:
        return Requirement(
            "AREA",
            title,
            Status.NOT_MET,
            _(
                "These plants are in another market zone than their configuration, so outside "
                "its primary substation's area: %(names)s."
            )
            % {"names": "; ".join(outside)},
            rule,
        )
    if doubtful:
        return Requirement(
            "AREA",
            title,
            Status.TO_CHECK,
            _(
                "To verify on the GSE map: these plants or members are in another region than "
                "their configuration: %(names)s."
            )
            % {"names": "; ".join(doubtful)},
            rule,
        )
    return Requirement(
        "AREA",
        title,
        Status.TO_CHECK,
        _(
            "To verify: the municipalities each primary substation serves are not known yet. "
            "Every plant and member is in the configuration's region; once the community "
            "exists, import the distributor's list of substations, or check each address on "
            "the GSE map."
        ),
        rule,
    )


def _limits(facts: ConstitutionFacts, parameters: Parameters) -> EligibilityLimits:
    """Return the limits on the newest plant's entry into service (there is at least one)."""
    newest = max(plant.entry_into_service_date for plant in facts.plants)
    return eligibility_limits(parameters, day=newest)


def _existing_share(facts: ConstitutionFacts, *, parameters: Parameters) -> Requirement:
    rule = "D.Lgs. 199/2021 art. 31 c. 2"
    title = _("Existing plants at most 30 % of the power")
    total = sum((plant.power_kw for plant in facts.plants), Decimal(0))
    if total <= 0:
        return Requirement(
            "EXISTING_SHARE", title, Status.TO_CHECK, _("No plant declared yet."), rule
        )
    limits = _limits(facts, parameters)
    existing = sum(
        (
            p.power_kw
            for p in facts.plants
            if p.entry_into_service_date < limits.existing_before_date
        ),
        Decimal(0),
    )
    share = existing / total
    values = {
        "existing": formatting.number(existing, 3, trim=True),
        "total": formatting.number(total, 3, trim=True),
        "percent": formatting.number(share * 100, 1),
    }
    within = existing_share_within_limit(
        existing_power_kw=existing, total_power_kw=total, share_max=limits.existing_share_max
    )
    if not within:
        return Requirement(
            "EXISTING_SHARE",
            title,
            Status.NOT_MET,
            _("Existing plants have %(existing)s kW of %(total)s kW (%(percent)s %%).") % values,
            rule,
        )
    return Requirement(
        "EXISTING_SHARE",
        title,
        Status.MET,
        _("Existing plants have %(existing)s kW of %(total)s kW (%(percent)s %%).") % values,
        rule,
    )


def _plant_power(facts: ConstitutionFacts, *, parameters: Parameters) -> Requirement:
    rule = "DM 414/2023; GSE Regole Operative"
    title = _("At most 1 MW per plant")
    if not facts.plants:
        return Requirement("PLANT_POWER", title, Status.TO_CHECK, _("No plant declared yet."), rule)
    max_power_kw = _limits(facts, parameters).max_power_kw
    large = [plant.name for plant in facts.plants if plant.power_kw > max_power_kw]
    if large:
        return Requirement(
            "PLANT_POWER",
            title,
            Status.NOT_MET,
            _("Above 1 MW a plant receives the valorisation only, no incentive: %(names)s.")
            % {"names": ", ".join(large)},
            rule,
        )
    return Requirement("PLANT_POWER", title, Status.MET, _("Every plant is at most 1 MW."), rule)


def _plant_dates(facts: ConstitutionFacts, *, parameters: Parameters) -> Requirement:
    rule = "DM 414/2023 art. 3; D.Lgs. 199/2021 art. 31"
    title = _("Plants in service after the decree")
    if not facts.plants:
        return Requirement("PLANT_DATES", title, Status.TO_CHECK, _("No plant declared yet."), rule)
    limits = _limits(facts, parameters)
    transitional = [
        plant.name
        for plant in facts.plants
        if limits.existing_before_date <= plant.entry_into_service_date < limits.new_plant_from_date
    ]
    if transitional:
        return Requirement(
            "PLANT_DATES",
            title,
            Status.TO_CHECK,
            _(
                "Plants in service between 16 Dec 2021 and 23 Jan 2024 are admitted only with "
                "documents showing they were built for the community: %(names)s."
            )
            % {"names": ", ".join(transitional)},
            rule,
        )
    return Requirement(
        "PLANT_DATES",
        title,
        Status.MET,
        _("No plant falls in the transitional window; existing plants get the valorisation only."),
        rule,
    )


def _one_building(facts: ConstitutionFacts) -> Requirement:
    rule = "D.Lgs. 199/2021 art. 30 c. 2"
    title = _("All points in one building or condominium")
    buildings = {point.building.strip().casefold() for point in facts.points}
    if not facts.points or "" in buildings:
        return Requirement(
            "ONE_BUILDING",
            title,
            Status.TO_CHECK,
            _("Give the building of every connection point."),
            rule,
        )
    if len(buildings) > 1:
        return Requirement(
            "ONE_BUILDING",
            title,
            Status.NOT_MET,
            _("The connection points are in %(count)d different buildings.")
            % {"count": len(buildings)},
            rule,
        )
    return Requirement(
        "ONE_BUILDING",
        title,
        Status.MET,
        _("Every connection point is in the same building."),
        rule,
    )


def _one_final_customer(facts: ConstitutionFacts) -> Requirement:
    rule = "D.Lgs. 199/2021 art. 30"
    title = _("One final customer")
    customers = {point.holder for point in facts.points if point.has_withdrawal}
    if not customers:
        return Requirement(
            "ONE_CUSTOMER", title, Status.TO_CHECK, _("No withdrawing point declared yet."), rule
        )
    if len(customers) > 1:
        return Requirement(
            "ONE_CUSTOMER",
            title,
            Status.NOT_MET,
            _("A remote self-consumer is one final customer; %(count)d hold withdrawing points.")
            % {"count": len(customers)},
            rule,
        )
    return Requirement(
        "ONE_CUSTOMER",
        title,
        Status.MET,
        _("All withdrawing points belong to one final customer; plants may be a third party's."),
        rule,
    )
