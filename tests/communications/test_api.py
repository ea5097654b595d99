"""The API: managers list and send through the page's service; a member reads and answers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from cer.communications.models import Communication, CommunicationRecipient
from cer.members.models import Membership
from cer.notifications.models import Notification

pytestmark = pytest.mark.django_db

BODY = {
    "subject_it": "Avviso per {nome}",
    "body_it": "Gentile {nome}.",
    "recipient_filter": "PRODUCERS",
    "idempotency_key": "api-1",
}
NEW_IBAN = "IT40S0542811101000000123456"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(world):
    return f"/api/v1/communities/{world.community.pk}/communications"


def test_a_manager_sends_once_and_lists_what_was_sent(world):
    api = _client(world.referente)

    first = api.post(_url(world), BODY, format="json")
    again = api.post(_url(world), BODY, format="json")
    listing = api.get(_url(world)).json()

    assert (first.status_code, again.status_code) == (201, 200)
    assert (first.json()["sent"], again.json()["sent"]) == (True, False)
    assert Communication.objects.count() == 1
    assert Notification.objects.filter(topic="communications.message").count() == 1
    (row,) = listing["results"]
    assert (row["subject_it"], row["recipients"]) == ("Avviso per {nome}", 1)


def test_an_unknown_field_is_refused_naming_it(world):
    response = _client(world.referente).post(
        _url(world), {**BODY, "body_it": "Le spettano {importo}."}, format="json"
    )

    assert response.status_code == 400
    assert "{importo}" in str(response.json())
    assert Communication.objects.count() == 0


def test_a_plain_member_cannot_list_or_send(world):
    api = _client(world.anna.user)

    assert api.get(_url(world)).status_code == 403
    assert api.post(_url(world), BODY, format="json").status_code == 403
    assert Communication.objects.count() == 0


def test_a_member_lists_own_messages_and_answers_with_a_file_and_an_iban(world):
    referente = _client(world.referente)
    referente.post(_url(world), {**BODY, "reply_kind": "FILE"}, format="json")
    referente.post(
        _url(world),
        {**BODY, "recipient_filter": "NO_IBAN", "reply_kind": "IBAN", "idempotency_key": "k2"},
        format="json",
    )
    bruno, carla = _client(world.bruno.user), _client(world.carla.user)

    (message,) = bruno.get("/api/v1/me/messages").json()["results"]
    answered = bruno.post(
        "/api/v1/me/messages/reply",
        {"id": message["id"], "file": SimpleUploadedFile("bill.png", b"\x89PNG\r\n\x1a\n0000")},
        format="multipart",
    )
    (carla_message,) = carla.get("/api/v1/me/messages").json()["results"]
    stranger = carla.post(
        "/api/v1/me/messages/reply", {"id": message["id"], "text": "x"}, format="json"
    )
    iban = carla.post(
        "/api/v1/me/messages/reply", {"id": carla_message["id"], "iban": NEW_IBAN}, format="json"
    )

    # No English text was written: Bruno, who reads English, gets the Italian one.
    assert (message["subject"], message["language"]) == ("Avviso per Bruno Test", "it")
    assert answered.status_code == 201, answered.json()
    assert answered.json()["reply_file_name"] == "bill.png"
    assert stranger.status_code == 400
    assert iban.status_code == 201
    assert Membership.objects.get(member=world.carla).iban == NEW_IBAN
    assert CommunicationRecipient.objects.filter(replied_at__isnull=False).count() == 2
