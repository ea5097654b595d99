"""A community with a creditor identifier, three members, two of them with a mandate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cer.collections.mandates import create_mandate, save_settings
from cer.collections.models import Mandate
from cer.collections.sepa import creditor_check_digits
from cer.communities.models import Community
from cer.members.models import Member
from tests.factories.communities import make_community
from tests.factories.members import make_membership, make_user_with_role

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
# Fourteen days of pre-notification after 3 March 2025: Monday 17 March.
COLLECTION_DAY = dt.date(2025, 3, 17)
CREDITOR_IBAN = "IT60X0542811101000000123456"
DEBTOR_IBAN = "IT67P0306909606000000012345"


def creditor_id_for(fiscal_code: str) -> str:
    return f"IT{creditor_check_digits('IT', fiscal_code)}ZZZ{fiscal_code}"


@dataclass
class Place:
    community: Community
    manager: User
    members: list[Member]
    mandates: list[Mandate]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def place(db) -> Place:
    community = make_community()
    manager = make_user_with_role(community, role="REFERENTE", username="tesoriera")
    members = []
    for _n in range(3):
        user = User.objects.create_user(f"socio{len(members)}", password="x")
        membership = make_membership(community)
        membership.member.user = user
        membership.member.save(update_fields=["user"])
        members.append(membership.member)
    save_settings(
        community=community,
        creditor_id=creditor_id_for(community.fiscal_code),
        creditor_name="CER Prova",
        creditor_iban=CREDITOR_IBAN,
        creditor_bic="BPMOIT22",
        prenotification_days=14,
        actor=None,
        now=NOW,
    )
    mandates = [
        create_mandate(
            community=community,
            member=member,
            signed_date=dt.date(2025, 1, 10),
            debtor_name=member.display_name,
            iban=DEBTOR_IBAN,
            actor=None,
            now=NOW,
        )
        for member in members[:2]
    ]
    return Place(community, manager, members, mandates)


@pytest.fixture
def manager_client(client, place):
    client.force_login(place.manager)
    return client
