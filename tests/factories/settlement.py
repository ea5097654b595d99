"""A small configuration with readings and prices, and stored runs, for the settlement tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cer.communities.models import Community, Configuration
from cer.incentives.models import PriceSource, ZonalPrice
from cer.members.models import Member, Membership
from cer.metering.models import HourlyReading
from cer.plants.models import ConnectionPoint, Plant
from cercalc import periods
from tests import factories


@dataclass
class Small:
    community: Community
    configuration: Configuration
    household: Member
    sme: Member
    producer: Member
    points: dict[str, ConnectionPoint]
    plant: Plant


def make_small(*, joined: dict[str, dt.date] | None = None) -> Small:
    """Three members: a household and an SME consuming, a household producing (45 kW PV)."""
    joined = joined or {}
    community = factories.make_community(name="CER Piccola")
    configuration = community.configurations.get()
    household = factories.make_member(first_name="Anna")
    sme = factories.make_member(
        kind="LEGAL",
        category="SME",
        company_name="Forno Srl",
        first_name="",
        last_name="",
        vat_number=factories.valid_vat_number(4_242),
    )
    producer = factories.make_member(first_name="Piero")
    for key, member in (("household", household), ("sme", sme), ("producer", producer)):
        Membership.objects.create(
            member=member,
            community=community,
            kind="PRODUCER" if key == "producer" else "CONSUMER",
            valid_from=joined.get(key, dt.date(2024, 1, 1)),
            iban=factories.IBAN,
        )
    points = {
        "household": factories.make_connection_point(community, household),
        "sme": factories.make_connection_point(community, sme),
        "producer": factories.make_connection_point(community, producer, has_injection=True),
    }
    plant = factories.make_plant(
        points["producer"], power_kw=Decimal("45"), entry_into_service_date=dt.date(2024, 4, 10)
    )
    return Small(community, configuration, household, sme, producer, points, plant)


def add_readings(
    small: Small,
    month: dt.date,
    *,
    source: str = "DSO",
    skip: dict[str, set[int]] | None = None,
    injected_wh: int = 3000,
    withdrawn_wh: dict[str, int] | None = None,
) -> None:
    """One reading per point and hour: the plant injects in daylight hours (07-17 UTC)."""
    skip = skip or {}
    withdrawn_wh = withdrawn_wh or {"household": 700, "sme": 1500, "producer": 100}
    rows = []
    for index, start in enumerate(periods.month_of(month).hour_starts_s().tolist()):
        moment = dt.datetime.fromtimestamp(start, tz=dt.UTC)
        daylight = 7 <= moment.hour < 17
        for key, point in small.points.items():
            if index in skip.get(key, set()):
                continue
            rows.append(
                HourlyReading(
                    connection_point=point,
                    hour_start=moment,
                    injected_wh=injected_wh if key == "producer" and daylight else 0,
                    withdrawn_wh=withdrawn_wh[key],
                    source=source,
                )
            )
    HourlyReading.objects.bulk_create(rows, batch_size=5000)


def add_prices(month: dt.date, *, zone: str = "NORD", price: str = "140.00") -> None:
    ZonalPrice.objects.bulk_create(
        ZonalPrice(
            market_zone=zone,
            interval_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            interval_minutes=60,
            price_eur_per_mwh=Decimal(price),
            source=PriceSource.CSV,
        )
        for start in periods.month_of(month).hour_starts_s().tolist()
    )


def settled_small(month: dt.date = dt.date(2025, 6, 1), **kwargs) -> Small:
    small = make_small(**kwargs)
    add_readings(small, month)
    add_prices(month)
    return small


def make_settlement_run(configuration: Configuration, **overrides):
    """A stored run with no hours, for pages and permissions."""
    from cer.settlement.models import SettlementRun

    fields = {
        "configuration": configuration,
        "month": dt.date(2025, 3, 1),
        "version": 1,
        "inputs_hash": "0" * 64,
        "readings_hash": "0" * 64,
        "hours": 743,
        "injected_wh": 0,
        "withdrawn_wh": 0,
        "shared_wh": 0,
        "incentive_eur": Decimal("0.00"),
        "valorisation_eur": Decimal("0.00"),
        "excess_eur": Decimal("0.00"),
        "gse_fees_eur": Decimal("0.00"),
        "created_at": dt.datetime(2025, 4, 2, tzinfo=dt.UTC),
    }
    fields.update(overrides)
    return SettlementRun.objects.create(**fields)
