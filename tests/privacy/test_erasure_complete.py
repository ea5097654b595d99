"""Erasure leaves no copy of the person's name, e-mail or addresses that a manager can read.

The person joins through the real flow (invitation, registration, profile, declared
points, approval), a manager changes their address through the API (the audit log
records old and new values), the membership ends, and the person asks for erasure.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry, AuditEntryIsAppendOnly
from cer.audit.services import record
from cer.members.models import Invitation, Member, Membership, MembershipApplication
from cer.plants.models import ConnectionPoint
from cer.privacy import gdpr
from cer.privacy.redaction import REDACTED
from tests.api.conftest import client_for
from tests.members.test_onboarding import (
    LINK,
    invite,
    points_data,
    profile_data,
    register,
)

pytestmark = pytest.mark.django_db

PASSWORD = "Girasole-sul-tetto-42"  # register()'s password
OLD_PHONE = "041 5550199"
NEW_ADDRESS = "Via Mestrina 40"
NEW_PHONE = "+39 041 5550123"
# What must be gone: e-mail, names, username, every address and phone the person had.
PERSONAL = [
    "nuova@example.org",
    "Lucia Neri",
    "Neri",
    "lucia",
    "Via Venezia 5",
    NEW_ADDRESS,
    OLD_PHONE,
    NEW_PHONE,
    # The same numbers as the member record stores them (E.164).
    "+390415550199",
    "+390415550123",
]


def fiscal_code() -> str:
    from stdnum.it import codicefiscale

    return "NRELCU90A41L736" + codicefiscale.calc_check_digit("NRELCU90A41L736")


def found_in(text: str) -> list[str]:
    return [
        value
        for value in [*PERSONAL, fiscal_code()]
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, flags=re.IGNORECASE)
    ]


def text_columns(model: type[models.Model]) -> str:
    """Every character, JSON and e-mail column of every row of `model`, as one text."""
    names = [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField, models.JSONField))
    ]
    rows = model._default_manager.values_list(*names)
    return json.dumps([list(row) for row in rows], ensure_ascii=False, default=str)


@pytest.fixture
def joined(client, community, referente, django_capture_on_commit_callbacks):
    """Lucia, invited, registered, approved, her address changed by the referente; left."""
    client.force_login(referente)
    invite(client, community, django_capture_on_commit_callbacks)
    token = LINK.search(mail.outbox[-1].body).group(1)
    client.logout()
    register(client, token)
    client.post(
        reverse("members:onboarding"), profile_data(fiscal_code=fiscal_code(), phone=OLD_PHONE)
    )
    client.post(reverse("members:onboarding"), {"c-membership": "on", "c-gse_reporting": "on"})
    client.post(reverse("members:onboarding"), points_data(community))
    lucia = User.objects.get(username="lucia")
    application = MembershipApplication.objects.get(user=lucia)
    client.force_login(referente)
    approved = client.post(
        reverse("members:application", args=[application.pk]),
        {"action": "approve", "valid_from": "2025-04-01"},
    )
    assert approved.status_code == 302
    member = Member.objects.get(user=lucia)
    changed = client_for(referente).patch(
        f"/api/v1/members/{member.pk}",
        {"address": NEW_ADDRESS, "phone": NEW_PHONE},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    # Entries written before the API masked contact data hold them in clear.
    record(
        actor=referente,
        code="members.member.changed",
        now=timezone.now(),
        target=member,
        community=community,
        changes={"address": ["Via Venezia 5", NEW_ADDRESS], "phone": [OLD_PHONE, NEW_PHONE]},
    )
    membership = Membership.objects.get(member=member)
    ended = client.post(
        reverse("members:end_membership", args=[membership.pk]), {"valid_to": "2025-06-30"}
    )
    assert ended.status_code == 302
    return lucia


def manager_pages(community, referente) -> str:
    # A fresh browser: the fixture's one still holds its flash messages.
    client = Client()
    client.force_login(referente)
    application = MembershipApplication.objects.get()
    pages = [
        client.get(reverse("members:invite", args=[community.pk])),
        client.get(reverse("members:application", args=[application.pk])),
        client.get(reverse("members:history", args=[community.pk])),
        client_for(referente).get(
            "/api/v1/audit-entries", {"community": community.pk, "limit": 1000}
        ),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    return "\n".join(page.content.decode() for page in pages)


def test_before_erasure_the_manager_sees_the_person_everywhere(joined, community, referente):
    seen = manager_pages(community, referente)

    assert set(found_in(seen)) >= {"nuova@example.org", "Lucia Neri", NEW_ADDRESS, OLD_PHONE}
    assert set(found_in(text_columns(AuditEntry))) >= {"nuova@example.org", "lucia", "Neri"}
    assert "Via Venezia 5" in found_in(text_columns(MembershipApplication))
    assert "nuova@example.org" in found_in(text_columns(Invitation))


def test_after_erasure_no_page_or_table_shows_the_person(joined, community, referente):
    erased = client_for(joined).post(
        "/api/v1/me/erasure", {"password": PASSWORD, "reason": "trasloco"}, format="json"
    )

    assert erased.status_code == 200, erased.content
    assert found_in(manager_pages(community, referente)) == []
    for model in (Invitation, MembershipApplication, AuditEntry, Member, User):
        assert found_in(text_columns(model)) == [], model.__name__


def test_erasure_keeps_the_history_and_says_how_many_entries_it_redacted(joined):
    member = Member.objects.get(user=joined)
    entries = AuditEntry.objects.count()

    gdpr.erase_member(member=member, actor=None, reason="", now=timezone.now())

    note = AuditEntry.objects.get(code="privacy.erasure.redacted_audit")
    assert note.changes["entries"] >= 5
    assert set(note.changes) == {"entries"}
    # The redacted entries stay, with their action and object: only values changed.
    assert AuditEntry.objects.count() == entries + 2
    change = AuditEntry.objects.filter(code="members.member.changed").last()
    assert change.changes == {
        "address": [REDACTED, REDACTED],
        "phone": [REDACTED, REDACTED],
    }
    assert change.target_repr == REDACTED
    assert change.actor_name == "referente"
    assert change.target_id == str(member.pk)
    membership = Membership.objects.get(member=member)
    assert (str(membership.valid_from), str(membership.valid_to)) == ("2025-04-01", "2025-06-30")
    assert ConnectionPoint.objects.get(holder=member).pod == "IT001E55500001"
    assert Invitation.objects.get().email == f"erased-{Invitation.objects.get().pk}@invalid.invalid"
    with pytest.raises(AuditEntryIsAppendOnly):
        change.save()


def test_an_unused_invitation_to_the_person_stops_working(joined, community):
    from tests import factories

    pending, _token = factories.make_invitation(community, email="NUOVA@example.org")
    member = Member.objects.get(user=joined)

    gdpr.erase_member(member=member, actor=None, reason="", now=timezone.now())

    assert found_in(text_columns(Invitation)) == []
    assert not Invitation.objects.get(pk=pending.pk).is_usable_at(timezone.now())


def test_other_people_in_the_log_are_left_alone(joined, community, referente):
    other = Member.objects.exclude(user=joined).first()
    kept = record(
        actor=referente,
        code="members.member.changed",
        now=timezone.now(),
        target=other,
        community=community,
        changes={"address": ["Via Roma 1", "Via Venezia 50"]},
    )
    member = Member.objects.get(user=joined)

    gdpr.erase_member(member=member, actor=None, reason="", now=timezone.now())

    kept.refresh_from_db()
    assert kept.changes == {"address": ["Via Roma 1", "Via Venezia 50"]}
    assert kept.actor_name == "referente"
