"""Plant workflows: registration, changes, the eligibility checks stored on each plant,
verification. The web pages and the API both call these.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction

from cer.audit.services import record
from cer.communities.models import Community, Configuration, PrimarySubstation
from cer.incentives.parameters import parameters_with_overrides
from cer.plants import eligibility
from cer.plants.models import EligibilityStatus, Plant
from cercalc.eligibility import eligibility_limits, is_existing_plant
from cercalc.params import Parameters

logger = logging.getLogger(__name__)


class PlantNotInCommunity(Exception):
    """The plant's connection point belongs to another community."""


def plant_facts(plant: Plant) -> eligibility.PlantFacts:
    """Return what the eligibility rules need to know about a plant."""
    return eligibility.PlantFacts(
        power_kw=plant.power_kw,
        entry_into_service_date=plant.entry_into_service_date,
        regime=plant.regime,
        source=plant.source,
        region=plant.region,
        municipality_code=plant.municipality_id or "",
        municipality_name=str(plant.municipality) if plant.municipality_id else "",
        primary_substation=plant.primary_substation,
        superbonus_kw=plant.superbonus_kw,
        obligation_kw=plant.obligation_kw,
    )


def community_facts(
    plant: Plant, *, existing_power_kw: Decimal, total_power_kw: Decimal
) -> eligibility.CommunityFacts:
    """Return what the rules need to know about the plant's configuration and community."""
    configuration = plant.connection_point.configuration
    return eligibility.CommunityFacts(
        community_kind=configuration.community.kind,
        primary_substation=configuration.primary_substation,
        region=configuration.region,
        existing_power_kw=existing_power_kw,
        total_power_kw=total_power_kw,
        gse_request_date=configuration.gse_request_date,
        area_municipality_codes=area_of(configuration),
    )


def area_of(configuration: Configuration) -> frozenset[str] | None:
    """Return the ISTAT codes the configuration's substation serves, None when not known.

    Known only from the distributor's list the community imported, and only when that list
    named the municipalities of this substation.
    """
    substation = (
        PrimarySubstation.objects.filter(
            community_id=configuration.community_id, code=configuration.primary_substation
        )
        .prefetch_related("municipalities")
        .first()
    )
    if substation is None:
        return None
    codes = frozenset(municipality.pk for municipality in substation.municipalities.all())
    return codes or None


def _parameters() -> Parameters:
    """Return the engine's parameters with every administrator override, whatever its dates.

    Each limit is then read on the date it applies to (a plant's entry into service).
    """
    parameters, _versions = parameters_with_overrides(dt.date.min, dt.date.max)
    return parameters


def _community_power_kw(community: Community, parameters: Parameters) -> tuple[Decimal, Decimal]:
    """Return (existing, total) plant power of the community [kW]."""
    plants = Plant.objects.filter(connection_point__configuration__community=community)
    existing = total = Decimal(0)
    rows = plants.values_list("power_kw", "entry_into_service_date", "regime")
    for power_kw, entry_date, regime in rows:
        total += power_kw
        if is_existing_plant(entry_date, parameters=parameters, regime=regime):
            existing += power_kw
    return existing, total


def _store_results(
    plant: Plant,
    *,
    existing: Decimal,
    total: Decimal,
    parameters: Parameters,
    now: dt.datetime,
) -> bool:
    """Run the rules on one plant and save them; return True when the outcome changed."""
    results = eligibility.check_plant(
        plant_facts(plant),
        community_facts(plant, existing_power_kw=existing, total_power_kw=total),
        limits=eligibility_limits(parameters, day=plant.entry_into_service_date),
    )
    stored = [result.as_json() for result in results]
    status = EligibilityStatus(eligibility.overall_status(results).value)
    changed = stored != plant.eligibility_results or status != plant.eligibility_status
    plant.eligibility_results = stored
    plant.eligibility_status = status
    plant.eligibility_checked_at = now
    fields = ["eligibility_results", "eligibility_status", "eligibility_checked_at"]
    if changed and plant.verified_at is not None:
        # A verification confirms one set of results: new results need a new look.
        plant.verified_at = None
        plant.verified_by = None
        fields += ["verified_at", "verified_by"]
    plant.save(update_fields=fields)
    return changed


def check_community_plants(*, community: Community, actor: Any, now: dt.datetime) -> list[Plant]:
    """Run the eligibility checks on every plant of a community and store the results.

    The 30 % rule depends on all the community's plants, so one change re-checks them all.
    """
    with transaction.atomic():
        parameters = _parameters()
        existing, total = _community_power_kw(community, parameters)
        plants = list(
            Plant.objects.select_for_update(of=("self",))  # municipality: an outer join
            .filter(connection_point__configuration__community=community)
            .select_related("connection_point__configuration__community", "municipality")
        )
        for plant in plants:
            before = plant.eligibility_status
            if _store_results(
                plant, existing=existing, total=total, parameters=parameters, now=now
            ):
                record(
                    actor=actor,
                    code="plants.plant.checked",
                    now=now,
                    target=plant,
                    community=community,
                    changes={"eligibility_status": [before, plant.eligibility_status]},
                )
    return plants


def register_plant(*, plant: Plant, actor: Any, now: dt.datetime) -> Plant:
    """Save a new, validated plant and run the eligibility checks on it and its community.

    A plant that fails a rule is kept and flagged NOT_ELIGIBLE, never refused silently.
    Raises PlantNotInCommunity when the owner and the point belong to different communities.
    """
    community = plant.connection_point.configuration.community
    if not plant.owner.memberships.filter(community=community).exists():
        raise PlantNotInCommunity
    plant.take_region_from_municipality()
    with transaction.atomic():
        plant.eligibility_status = EligibilityStatus.UNCHECKED
        plant.save()
        record(
            actor=actor,
            code="plants.plant.registered",
            now=now,
            target=plant,
            community=community,
            changes={
                "power_kw": str(plant.power_kw),
                "entry_into_service_date": plant.entry_into_service_date.isoformat(),
                "regime": plant.regime,
            },
        )
        check_community_plants(community=community, actor=actor, now=now)
    plant.refresh_from_db()
    logger.info("plant %s registered: %s", plant.pk, plant.eligibility_status)
    return plant


def change_plant(*, plant: Plant, values: dict[str, Any], actor: Any, now: dt.datetime) -> Plant:
    """Save validated new values of a plant and rerun the checks of its community.

    `values` maps field names to new values; only those that differ are saved and logged
    (old and new, as text). A plant moved to another community re-checks both. Raises
    PlantNotInCommunity when the owner is not a member of the plant's community.
    """
    changed = [name for name, value in values.items() if getattr(plant, name) != value]
    before = {name: getattr(plant, name) for name in changed}
    community_before = plant.connection_point.configuration.community
    for name in changed:
        setattr(plant, name, values[name])
    if "municipality" in changed:
        region_before = plant.region
        plant.take_region_from_municipality()
        if plant.region != region_before and "region" not in changed:
            before["region"] = region_before
            changed.append("region")
    community = plant.connection_point.configuration.community
    if not plant.owner.memberships.filter(community=community).exists():
        raise PlantNotInCommunity
    if not changed:
        return plant
    with transaction.atomic():
        plant.save(update_fields=changed)
        record(
            actor=actor,
            code="plants.plant.changed",
            now=now,
            target=plant,
            community=community,
            changes={name: [str(before[name]), str(getattr(plant, name))] for name in changed},
        )
        for concerned in {community_before.pk: community_before, community.pk: community}.values():
            check_community_plants(community=concerned, actor=actor, now=now)
    plant.refresh_from_db()
    return plant


def verify_plant(*, plant: Plant, actor: Any, now: dt.datetime) -> Plant:
    """Record that the back office has checked the plant's results and documents."""
    with transaction.atomic():
        plant.verified_at = now
        plant.verified_by = actor
        plant.save(update_fields=["verified_at", "verified_by"])
        record(
            actor=actor,
            code="plants.plant.verified",
            now=now,
            target=plant,
            community=plant.connection_point.configuration.community,
            changes={"eligibility_status": plant.eligibility_status},
        )
    return plant


def stored_results(plant: Plant) -> list[eligibility.CheckResult]:
    """Return the plant's stored check results as objects."""
    return [eligibility.CheckResult.from_json(item) for item in plant.eligibility_results]
