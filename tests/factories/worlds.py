"""A community with one of everything (a point, a plant, a device, a reading, a token, a
document, a run and its statement, an invoice, an audit entry), for the API and backup tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cer.accounts.models import PersonalAccessToken
from cer.accounts.tokens import hash_secret
from cer.audit.services import record
from cer.communities.models import Community
from cer.members.models import Membership
from cer.metering.models import Device, HourlyReading
from cer.settlement.models import SettlementJob
from tests import factories
from tests.factories.billing import make_statement
from tests.factories.invoices import bare_draft
from tests.factories.settlement import make_settlement_run


@dataclass
class World:
    """What one community holds: its managers' and members' objects, by kind."""

    community: Community
    objects: dict[str, Any]


def build_world(community: Community, tag: str) -> World:
    """Give `community` a referente's plant, a member's point, readings, a device, an entry."""
    holder = factories.make_user_with_role(community, role="MEMBER", username=f"holder-{tag}")
    point = factories.make_connection_point(community, holder.member, has_injection=True)
    plant = factories.make_plant(point)
    device = Device.objects.create(
        connection_point=point,
        name="contatore",
        kind="OWN_JSON",
        mqtt_username=f"{point.pod.lower()}-contatore-{tag}",
        secret_hash="!",
        created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    HourlyReading.objects.create(
        connection_point=point,
        hour_start=dt.datetime(2025, 3, 30, 0, tzinfo=dt.UTC),
        injected_wh=1234,
        withdrawn_wh=500,
        source="MAN",
    )
    personal_token = PersonalAccessToken.objects.create(
        owner=holder,
        name="foglio di calcolo",
        scopes=["read"],
        prefix=f"cer_pat_world{tag}"[:16],
        secret_hash=hash_secret(f"cer_pat_world-{tag}"),
        created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        expires_at=dt.datetime(2025, 5, 30, tzinfo=dt.UTC),
    )
    document = factories.make_document(community, kind="STATUTE")
    settlement_run = make_settlement_run(community.configurations.first())
    statement = make_statement(settlement_run, holder.member)
    settlement_job = SettlementJob.objects.create(
        configuration=settlement_run.configuration,
        month=settlement_run.month,
        requested_at=settlement_run.created_at,
        status="DONE",
        run=settlement_run,
    )
    entry = record(
        actor=None,
        code="plants.plant.created",
        now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        target=plant,
        community=community,
    )
    return World(
        community=community,
        objects={
            "community": community,
            "configuration": community.configurations.first(),
            "member": holder.member,
            "membership": Membership.objects.get(member=holder.member),
            "connection_point": point,
            "plant": plant,
            "device": device,
            "audit_entry": entry,
            "document": document,
            "personal_token": personal_token,
            "holder_user": holder,
            "invoice": bare_draft(community),
            "settlement_run": settlement_run,
            "statement": statement,
            "settlement_job": settlement_job,
        },
    )
