"""Fields in braces: a message with an unknown one is refused at save, naming it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cer.communications import fields, services
from cer.communications.models import Communication, RecipientFilter
from tests.communications.conftest import NOW

pytestmark = pytest.mark.django_db


def _draft(**overrides):
    values = {
        "subject_it": "Avviso per {nome}",
        "body_it": "Gentile {nome}, {comunita} la saluta.",
        "recipient_filter": RecipientFilter.ALL,
    }
    values.update(overrides)
    return services.Draft(**values)


def test_the_service_refuses_an_unknown_field_and_names_it(world):
    draft = _draft(body_it="Le spettano {importo} per {mese}.")

    with pytest.raises(ValidationError) as raised:
        services.send(
            community=world.community,
            draft=draft,
            author=world.referente,
            idempotency_key="k1",
            now=NOW,
        )

    (message,) = raised.value.message_dict["body_it"][:1]
    assert message.startswith("Unknown field {importo}: the fields you can use are {nome}/{name}")
    assert "{mese}" in raised.value.message_dict["body_it"][1]
    assert Communication.objects.count() == 0


def test_an_unknown_field_in_the_english_subject_is_refused_too():
    with pytest.raises(ValidationError) as raised:
        services.check_draft(_draft(subject_en="Hello {firstname}", body_en="Hi {name}"))

    assert list(raised.value.message_dict) == ["subject_en"]
    assert "{firstname}" in raised.value.message_dict["subject_en"][0]


def test_the_form_refuses_an_unknown_field_and_stores_nothing(client, world):
    client.force_login(world.referente)

    response = client.post(
        reverse("communications:compose", args=[world.community.pk]),
        {
            "subject_it": "Avviso",
            "body_it": "Gentile {nome}, le spettano {importo}.",
            "recipient_filter": RecipientFilter.ALL,
            "reply_kind": "NONE",
            "idempotency_key": "k2",
            "action": "send",
        },
    )

    assert response.status_code == 400
    assert "Unknown field {importo}" in response.content.decode()
    assert Communication.objects.count() == 0


def test_render_fills_every_field_and_leaves_other_braces():
    facts = fields.RecipientFacts(
        name="Anna Test",
        community="CER Sole",
        configurations=["Cabina Spinea"],
        iban="IT60X0542811101000000123456",
        missing=[],
    )

    text = fields.render("{nome} {name} {comunita} {configurazione} {iban} {x-y}", facts)

    assert text == "Anna Test Anna Test CER Sole Cabina Spinea IT60 **** **** 3456 {x-y}".replace(
        "IT60 **** **** 3456", fields.mask_iban("IT60X0542811101000000123456")
    )
