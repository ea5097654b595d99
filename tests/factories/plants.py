"""Connection points (PODs) and the plants behind them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.communities.models import Community
from cer.members.models import Member
from cer.plants.models import ConnectionPoint, Plant
from tests.factories.identifiers import next_seed, valid_pod


def make_connection_point(community: Community, holder: Member, **overrides: object):
    fields = {
        "pod": valid_pod(next_seed()),
        "configuration": community.configurations.first(),
        "holder": holder,
        "contracted_power_kw": Decimal("4.5"),
    }
    fields.update(overrides)
    return ConnectionPoint.objects.create(**fields)


def make_plant(point: ConnectionPoint, **overrides: object) -> Plant:
    fields = {
        "connection_point": point,
        "owner": point.holder,
        "name": "FV tetto",
        "source": "PV",
        "power_kw": Decimal("19.800"),
        "entry_into_service_date": dt.date(2024, 11, 5),
    }
    fields.update(overrides)
    return Plant.objects.create(**fields)
