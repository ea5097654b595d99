"""A small community: a consumer, a neighbour and a producer, and helpers that add readings."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.members.models import Membership
from cer.metering.models import HourlyReading
from tests import factories

MARCH_FIRST_HOUR = dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)  # 1 March 00:00 in Rome


def add_reading(point, hour_start, *, injected_wh=0, withdrawn_wh=0, source="DSO"):
    return HourlyReading.objects.create(
        connection_point=point,
        hour_start=hour_start,
        injected_wh=injected_wh,
        withdrawn_wh=withdrawn_wh,
        source=source,
    )


def join(community, member, *, kind="CONSUMER"):
    Membership.objects.create(
        member=member, community=community, kind=kind, valid_from=dt.date(2024, 9, 12)
    )


@pytest.fixture
def own_point(community, member_user):
    return factories.make_connection_point(community, member_user.member, pod="IT001E70000001")


@pytest.fixture
def neighbour_point(community):
    neighbour = factories.make_member(first_name="Paolo", last_name="Vicino")
    join(community, neighbour)
    return factories.make_connection_point(community, neighbour, pod="IT001E70000002")


@pytest.fixture
def producer_point(community):
    producer = factories.make_member(first_name="Anna", last_name="Sole")
    join(community, producer, kind="PRODUCER")
    point = factories.make_connection_point(
        community, producer, pod="IT001E70000003", has_injection=True, has_withdrawal=False
    )
    factories.make_plant(point, name="FV capannone", entry_into_service_date=dt.date(2024, 6, 1))
    return point
