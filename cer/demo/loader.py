"""Store the demo community in the database, once.

The generator in this package is pure; this module is the one that talks to
Django. Loading is idempotent: the community's tax code identifies it, and a
second call finds it and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction

from cer.communities.models import (
    Community,
    Configuration,
    ConfigurationStatus,
    LegalForm,
    PrimarySubstation,
)
from cer.core.models import Municipality
from cer.demo.collections import load_collections
from cer.demo.community import DemoCommunity, build_demo
from cer.demo.roster import Address, MemberSpec
from cer.demo.second_factor import give_demo_authenticators
from cer.demo.treasury import store_accounts
from cer.incentives.models import PriceSource, ZonalPrice
from cer.members.models import Member, Membership, PersonKind
from cer.metering import recording
from cer.metering.models import ReadingSource
from cer.plants.models import ConnectionPoint, Plant
from cer.plants.services import check_community_plants

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "cercollettiva"  # noqa: S105 (demo accounts, documented in the README)
# Demo logins: who logs in as whom (member keys of the roster).
DEMO_USERS = {
    "referente": "household-01",
    "amministratore": "household-02",
    "socio": "household-03",
}
# The demo logins with a managing role: they log in with a second factor.
DEMO_MANAGERS = ["referente", "amministratore"]


@dataclass(frozen=True)
class LoadResult:
    community: Community
    created: bool
    readings: int = 0


def load_demo(*, seed: int = 2025, now: dt.datetime | None = None) -> LoadResult:
    """Create the demo community with its year of readings, unless it exists already.

    `now` (aware) stamps the eligibility checks run on the demo plants.
    """
    demo = build_demo(seed)
    existing = Community.objects.filter(fiscal_code=demo.roster.community.fiscal_code).first()
    if existing is not None:
        return LoadResult(community=existing, created=False)
    now = now or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        community, points = _store_roster(demo)
        _store_substation_list(demo, community, now=now)
        readings = _store_readings(demo, points, now=now)
        _store_prices(demo)
        _store_users(demo, community)
        check_community_plants(community=community, actor=None, now=now)
        load_collections(community)
        store_accounts(community=community, now=now)
    logger.debug("demo community %s loaded: %d hourly readings", community.name, readings)
    return LoadResult(community=community, created=True, readings=readings)


def _store_roster(demo: DemoCommunity) -> tuple[Community, dict[str, ConnectionPoint]]:
    roster = demo.roster
    spec = roster.community
    community = Community.objects.create(
        name=spec.name,
        kind=spec.kind,
        legal_form=LegalForm.THIRD_SECTOR if spec.third_sector_entity else spec.legal_form,
        fiscal_code=spec.fiscal_code,
        seat_address=spec.seat.street,
        seat_municipality_id=spec.seat.istat_code,
        founding_date=spec.founded_date,
        pec=spec.pec,
    )
    configuration = Configuration.objects.create(
        community=community,
        name=roster.configuration.name,
        primary_substation=roster.configuration.primary_substation_code,
        market_zone=roster.configuration.market_zone,
        region=roster.configuration.region,
        status=ConfigurationStatus.ACTIVE,
        gse_request_date=dt.date(2024, 10, 1),
        gse_contract_start_date=dt.date(2024, 11, 1),
    )
    members = {m.key: _member(m) for m in roster.members}
    Membership.objects.bulk_create(
        Membership(
            member=members[m.key],
            community=community,
            role=m.role,
            kind=m.membership_kind,
            valid_from=m.joined_date,
            # The account the demo community pays each member to.
            iban=m.iban,
        )
        for m in roster.members
    )
    injecting_pods = {plant.pod for plant in roster.plants}
    place_of = {
        m.connection_point.pod: m.connection_point.address.istat_code for m in roster.members
    }
    points = {
        m.connection_point.pod: ConnectionPoint.objects.create(
            pod=m.connection_point.pod,
            configuration=configuration,
            holder=members[m.key],
            voltage_level=m.connection_point.voltage,
            contracted_power_kw=m.connection_point.contracted_power_kw,
            has_injection=m.connection_point.pod in injecting_pods,
            address=_one_line(m.connection_point.address),
        )
        for m in roster.members
    }
    for plant in roster.plants:
        Plant.objects.create(
            connection_point=points[plant.pod],
            owner=members[plant.owner_key],
            name=plant.name,
            source=plant.source,
            power_kw=plant.power_kw,
            entry_into_service_date=plant.entry_into_service_date,
            storage_power_kw=plant.storage_power_kw,
            storage_capacity_kwh=plant.storage_capacity_kwh,
            cadastral_sheet=plant.cadastral_sheet,
            cadastral_parcel=plant.cadastral_parcel,
            cadastral_subunit=plant.cadastral_subordinate,
            censimp_code=plant.censimp_code,
            superbonus_kw=plant.superbonus_kw,
            obligation_kw=plant.obligation_kw,
            capital_grant_pct=plant.capital_grant_pct,
            # Where the plant stands: its point's municipality, hence its region.
            municipality_id=place_of[plant.pod],
            region=roster.configuration.region,
        )
    return community, points


def _store_substation_list(demo: DemoCommunity, community: Community, *, now: dt.datetime) -> None:
    """Record the distributor's list: the demo's one substation and the area it serves."""
    spec = demo.roster.configuration
    substation = PrimarySubstation.objects.create(
        community=community, code=spec.primary_substation_code, name=spec.name, imported_at=now
    )
    substation.municipalities.set(Municipality.objects.filter(pk__in=spec.istat_codes))


def _one_line(address: Address) -> str:
    return f"{address.street}, {address.postal_code} {address.municipality}"


def _member(spec: MemberSpec) -> Member:
    legal = spec.is_legal_person
    return Member.objects.create(
        kind=PersonKind.LEGAL if legal else PersonKind.NATURAL,
        category=spec.category,
        first_name="" if legal else (spec.first_name or ""),
        last_name="" if legal else (spec.last_name or ""),
        company_name=(spec.legal_name or spec.display_name) if legal else "",
        fiscal_code=spec.fiscal_code,
        vat_number=spec.vat_number or "",
        email=spec.email,
        pec=spec.pec or "",
        phone=spec.phone,
        address=spec.address.street,
        municipality=Municipality.objects.get(pk=spec.address.istat_code),
    )


def _store_readings(
    demo: DemoCommunity, points: dict[str, ConnectionPoint], *, now: dt.datetime
) -> int:
    """Write one grid-operator reading per point and hour, in bulk."""
    starts = demo.hour_starts_utc.astype("datetime64[s]").astype(np.int64)
    rows = recording.HourlyRows(
        point_id=np.repeat(
            np.array([points[pod].pk for pod in points], dtype=np.int64), starts.size
        ),
        hour_start_s=np.tile(starts, len(points)),
        injected_wh=np.concatenate(
            [np.asarray(demo.injected_wh[pod], dtype=np.int64) for pod in points]
        ),
        withdrawn_wh=np.concatenate(
            [np.asarray(demo.withdrawn_wh[pod], dtype=np.int64) for pod in points]
        ),
    )
    counts = recording.write_hourly(
        rows=rows, source=ReadingSource.GRID_OPERATOR, mode=recording.WriteMode.KEEP, now=now
    )
    return counts.inserted


def _store_prices(demo: DemoCommunity) -> None:
    """Store the synthetic zonal prices, unless real prices exist for those hours."""
    starts = demo.hour_starts_utc.astype("datetime64[s]").astype(np.int64).tolist()
    cents = demo.price_cent_per_mwh.tolist()
    ZonalPrice.objects.bulk_create(
        (
            ZonalPrice(
                market_zone=demo.market_zone,
                interval_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
                interval_minutes=demo.step_seconds // 60,
                price_eur_per_mwh=Decimal(cent) / 100,
                source=PriceSource.SYNTHETIC,
            )
            for start, cent in zip(starts, cents, strict=True)
        ),
        batch_size=5000,
        ignore_conflicts=True,
    )


def _store_users(demo: DemoCommunity, community: Community) -> None:
    """Create the demo logins: a superuser and three members with different roles."""
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)
    for username, member_key in DEMO_USERS.items():
        spec = demo.roster.member(member_key)
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "email": spec.email,
                "first_name": spec.first_name or "",
                "last_name": spec.last_name or "",
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        Member.objects.with_fiscal_code(spec.fiscal_code).update(user=user)
    # The managers (and the administrator) must use a second factor, as everywhere.
    give_demo_authenticators(["admin", *DEMO_MANAGERS])
