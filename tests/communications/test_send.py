"""Preview, confirm and send: recipients, notifications, e-mail on a real SMTP server, once."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry
from cer.communications import services
from cer.communications.models import Communication, CommunicationRecipient, RecipientFilter
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Delivery, Notification
from tests.communications.conftest import NOW

pytestmark = pytest.mark.django_db

MESSAGE = {
    "subject_it": "Avviso per {nome}",
    "body_it": "Gentile {nome}, la sua configurazione è {configurazione}.",
    "subject_en": "Notice for {name}",
    "body_en": "Dear {name}, your configuration is {configuration}.",
    "recipient_filter": RecipientFilter.CONFIGURATION,
    "reply_kind": "NONE",
    "urgent": "on",
}


def _post(client, world, **extra):
    data = {**MESSAGE, "configuration": world.first.pk, "idempotency_key": "form-1", **extra}
    return client.post(reverse("communications:compose", args=[world.community.pk]), data)


def test_the_preview_shows_the_count_the_list_and_the_text_in_the_recipients_language(
    client, world
):
    client.force_login(world.referente)
    bruno = world.membership(world.bruno)

    response = _post(client, world, action="preview", preview_as=bruno.pk)

    page = response.content.decode()
    assert response.status_code == 200
    assert "2 members will receive it" in page
    assert "Anna Test" in page and "Carla Test" not in page.split('id="recipients"')[1]
    assert "Dear Bruno Test, your configuration is Cabina Spinea." in page
    assert Communication.objects.count() == 0


def test_the_preview_is_italian_for_a_member_who_chose_no_language(world):
    draft = services.Draft(
        subject_it=MESSAGE["subject_it"],
        body_it=MESSAGE["body_it"],
        subject_en=MESSAGE["subject_en"],
        body_en=MESSAGE["body_en"],
        recipient_filter=RecipientFilter.ALL,
    )

    language, subject, body = services.preview(
        community=world.community, draft=draft, membership=world.membership(world.anna)
    )

    assert (language, subject) == ("it", "Avviso per Anna Test")
    assert body == "Gentile Anna Test, la sua configurazione è Cabina Spinea."


def test_sending_asks_to_confirm_naming_how_many_members_and_which_channels(client, world):
    client.force_login(world.referente)

    response = _post(client, world, action="send")

    page = response.content.decode()
    assert "will be sent to 2 members, in their inbox on the site and by e-mail at once" in page
    assert Communication.objects.count() == 0


def test_sending_stores_the_copies_notifies_and_emails_each_member_once(client, world, smtp_server):
    client.force_login(world.referente)

    response = _post(client, world, action="send", confirmed="yes")
    again = _post(client, world, action="send", confirmed="yes")
    report = deliver_due(timezone.now())

    communication = Communication.objects.get()
    assert response.status_code == again.status_code == 302
    assert response["Location"] == reverse("communications:detail", args=[communication.pk])
    copies = {c.member.first_name: c for c in CommunicationRecipient.objects.all()}
    assert sorted(copies) == ["Anna", "Bruno"]
    assert copies["Bruno"].language == "en"
    assert copies["Bruno"].subject == "Notice for Bruno Test"
    assert copies["Anna"].body == "Gentile Anna Test, la sua configurazione è Cabina Spinea."
    assert Notification.objects.filter(topic="communications.message").count() == 2
    assert Delivery.objects.count() == 2
    assert report.sent == 2
    subjects = sorted(message["Subject"] for message in smtp_server.messages)
    assert subjects == ["Avviso per Anna Test", "Notice for Bruno Test"]
    (to_anna,) = [m for m in smtp_server.messages if m["To"] == "anna@example.org"]
    assert to_anna["From"] == "CER Sole di Spinea <noreply@localhost>"
    entry = AuditEntry.objects.get(code="communications.communication.sent")
    assert entry.changes["recipients"] == 2


def test_a_second_send_of_the_same_form_key_through_the_service_sends_nothing(world):
    draft = services.Draft(subject_it="Ciao {nome}", body_it="Testo", recipient_filter="ALL")

    first, sent = services.send(
        community=world.community, draft=draft, author=world.referente, idempotency_key="k", now=NOW
    )
    second, sent_again = services.send(
        community=world.community, draft=draft, author=world.referente, idempotency_key="k", now=NOW
    )

    assert (sent, sent_again) == (True, False)
    assert first.pk == second.pk
    # Anna, Bruno, Carla and the referente have accounts; Dario is kept on record only.
    assert first.recipients.count() == 5
    assert first.recipients.filter(notified=True).count() == 4
    assert Notification.objects.count() == 4


def test_an_ordinary_message_waits_for_the_digest(world):
    draft = services.Draft(subject_it="Ciao", body_it="Testo", recipient_filter="PRODUCERS")

    services.send(
        community=world.community, draft=draft, author=world.referente, idempotency_key="d", now=NOW
    )

    (delivery,) = Delivery.objects.all()
    assert delivery.digest is True
    assert delivery.next_attempt_at > NOW


@pytest.mark.parametrize("name", ["compose", "list"])
def test_a_member_who_is_not_a_manager_gets_403_on_the_managers_pages(client, world, name):
    client.force_login(world.anna.user)

    response = client.get(reverse(f"communications:{name}", args=[world.community.pk]))

    assert response.status_code == 403


def test_a_member_cannot_send_through_the_form(client, world):
    client.force_login(world.anna.user)

    response = _post(client, world, action="send", confirmed="yes")

    assert response.status_code == 403
    assert Communication.objects.count() == 0


def test_a_ready_made_message_fills_the_form_with_its_texts_and_filter(client, world):
    client.force_login(world.referente)

    response = client.get(
        reverse("communications:compose", args=[world.community.pk]), {"template": "missing_iban"}
    )

    form = response.context["form"]
    assert form.initial["recipient_filter"] == RecipientFilter.NO_IBAN
    assert form.initial["reply_kind"] == "IBAN"
    assert "{scadenza}" in form.initial["body_it"]
    assert len(form.initial["idempotency_key"]) == 32
