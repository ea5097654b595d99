"""Each member's communications on the referente's member record and in their own portal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cer.communications import services
from cer.communications.models import CommunicationRecipient, ReplyKind
from tests.communications.conftest import NOW

pytestmark = pytest.mark.django_db


def _send_two(world):
    for key, subject in (("h1", "Assemblea {comunita}"), ("h2", "Dati di {nome}")):
        draft = services.Draft(
            subject_it=subject,
            body_it="Testo per {nome}.",
            recipient_filter="HAND_PICKED",
            member_ids=(world.anna.pk,),
            reply_kind=ReplyKind.TEXT if key == "h2" else ReplyKind.NONE,
        )
        services.send(
            community=world.community,
            draft=draft,
            author=world.referente,
            idempotency_key=key,
            now=NOW,
        )


def test_the_member_record_lists_the_members_communications(client, world):
    _send_two(world)
    client.force_login(world.referente)

    response = client.get(reverse("member_record", args=[world.membership(world.anna).pk]))

    section = response.content.decode().split('id="communications"')[1]
    assert "Assemblea CER Sole di Spinea" in section
    assert "Dati di Anna Test" in section
    assert "waiting for an answer" in section or "in attesa" in section


def test_the_portal_shows_the_members_own_messages_and_opening_one_marks_it_read(client, world):
    _send_two(world)
    copy = CommunicationRecipient.objects.get(member=world.anna, subject="Dati di Anna Test")
    client.force_login(world.anna.user)

    portal = client.get(reverse("dashboards:member_portal"))
    opened = client.get(reverse("communications:message", args=[copy.pk]))
    listing = client.get(reverse("communications:my_messages"))

    section = portal.content.decode().split('id="own-messages"')[1]
    assert "Dati di Anna Test" in section
    assert "Testo per Anna Test." in opened.content.decode()
    assert 'name="text"' in opened.content.decode()
    copy.refresh_from_db()
    assert copy.read_at is not None
    assert "Assemblea CER Sole di Spinea" in listing.content.decode()


def test_a_member_sees_none_of_another_members_messages(client, world):
    _send_two(world)
    client.force_login(world.bruno.user)

    listing = client.get(reverse("communications:my_messages"))
    copy = CommunicationRecipient.objects.filter(member=world.anna).first()
    page = client.get(reverse("communications:message", args=[copy.pk]))

    assert "Anna Test" not in listing.content.decode()
    assert page.status_code == 403
