"""Builders for the metering tests: a connection point with a plant and its devices."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from cer.metering.models import Device, DeviceKind
from tests import factories

_names = itertools.count(1)


def make_device(point, *, kind: str = DeviceKind.OWN_JSON, **overrides) -> Device:
    """A device row without a broker account, for tests of the recording path."""
    number = next(_names)
    fields = {
        "connection_point": point,
        "name": f"meter-{number}",
        "kind": kind,
        "mqtt_username": f"{point.pod.lower()}-meter-{number}",
        "secret_hash": "!",
        "created_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    }
    fields.update(overrides)
    return Device.objects.create(**fields)


@pytest.fixture
def point(community):
    # A member of the community: the dashboards count a point only while its holder is one.
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(
        community, holder, has_injection=True, contracted_power_kw=Decimal("4.5")
    )
    factories.make_plant(point, power_kw=Decimal("6"))
    return point
