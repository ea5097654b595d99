"""Requests for data: answers by text, file or IBAN, who answered, and reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.communications import services
from cer.communications.models import CommunicationRecipient, RecipientFilter, ReplyKind
from cer.members.models import Membership
from cer.notifications.models import Notification
from tests.communications.conftest import NOW

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
NEW_IBAN = "IT40S0542811101000000123456"


def _send(world, kind, recipient_filter=RecipientFilter.ALL, key="ask"):
    draft = services.Draft(
        subject_it="Ci serve un dato, {nome}",
        body_it="Risponda entro {scadenza}.",
        recipient_filter=recipient_filter,
        reply_kind=kind,
        reply_due_date=dt.date(2026, 12, 31),
    )
    communication, _sent = services.send(
        community=world.community, draft=draft, author=world.referente, idempotency_key=key, now=NOW
    )
    return communication


def _copy(communication, member):
    return CommunicationRecipient.objects.get(communication=communication, member=member)


def test_a_file_answer_is_stored_and_the_referente_downloads_it(client, world):
    communication = _send(world, ReplyKind.FILE)
    copy = _copy(communication, world.anna)
    client.force_login(world.anna.user)

    response = client.post(
        reverse("communications:message", args=[copy.pk]),
        {"file": SimpleUploadedFile("bolletta.pdf", PDF, content_type="application/pdf")},
    )
    client.force_login(world.referente)
    detail = client.get(reverse("communications:detail", args=[communication.pk]))
    download = client.get(reverse("communications:reply_file", args=[copy.pk]))

    copy.refresh_from_db()
    assert response.status_code == 302
    assert copy.replied_at is not None
    assert (copy.reply_file_name, copy.reply_content_type) == ("bolletta.pdf", "application/pdf")
    assert "bolletta" not in copy.reply_file.name
    assert "bolletta.pdf" in detail.content.decode()
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"


def test_a_file_answer_of_another_kind_is_refused_and_nothing_is_stored(client, world):
    communication = _send(world, ReplyKind.FILE)
    copy = _copy(communication, world.anna)
    client.force_login(world.anna.user)

    response = client.post(
        reverse("communications:message", args=[copy.pk]),
        # A program named like a PDF: the content decides.
        {"file": SimpleUploadedFile("bolletta.pdf", b"MZ\x90\x00binary", "application/pdf")},
    )

    copy.refresh_from_db()
    assert response.status_code == 400
    assert "Send a PDF, JPEG or PNG file." in response.content.decode()
    assert copy.replied_at is None and not copy.reply_file


def test_a_file_too_large_is_refused(world):
    copy = _copy(_send(world, ReplyKind.FILE), world.anna)
    big = SimpleUploadedFile("b.pdf", PDF + b"0" * services.MAX_REPLY_FILE_BYTES)

    with pytest.raises(services.ValidationError) as raised:
        services.reply(copy=copy, actor=world.anna.user, now=NOW, upload=big)

    assert list(raised.value.message_dict) == ["file"]


def test_another_member_cannot_see_the_answer_file_or_the_message(client, world):
    copy = _copy(_send(world, ReplyKind.FILE), world.anna)
    services.reply(
        copy=copy, actor=world.anna.user, now=NOW, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    client.force_login(world.bruno.user)

    file_response = client.get(reverse("communications:reply_file", args=[copy.pk]))
    page_response = client.get(reverse("communications:message", args=[copy.pk]))

    assert (file_response.status_code, page_response.status_code) == (403, 403)


def test_confirming_the_iban_changes_it_through_the_members_service_and_audits_it(client, world):
    communication = _send(world, ReplyKind.IBAN, RecipientFilter.NO_IBAN)
    copy = _copy(communication, world.carla)
    client.force_login(world.carla.user)

    response = client.post(reverse("communications:message", args=[copy.pk]), {"iban": NEW_IBAN})

    assert response.status_code == 302
    assert Membership.objects.get(member=world.carla).iban == NEW_IBAN
    assert AuditEntry.objects.filter(code="members.membership.iban_changed").count() == 1
    copy.refresh_from_db()
    assert copy.reply_text.startswith("IBAN")


def test_an_invalid_iban_is_refused_naming_the_field(client, world):
    copy = _copy(_send(world, ReplyKind.IBAN, RecipientFilter.NO_IBAN), world.carla)
    client.force_login(world.carla.user)

    response = client.post(
        reverse("communications:message", args=[copy.pk]), {"iban": "IT00NOTANIBAN"}
    )

    assert response.status_code == 400
    assert Membership.objects.get(member=world.carla).iban == ""
    assert CommunicationRecipient.objects.get(pk=copy.pk).replied_at is None


def test_who_answered_counts_and_lists(client, world):
    communication = _send(world, ReplyKind.TEXT)
    services.reply(
        copy=_copy(communication, world.anna), actor=world.anna.user, now=NOW, text="Fatto"
    )
    client.force_login(world.referente)

    response = client.get(reverse("communications:detail", args=[communication.pk]))

    assert services.answered_counts(communication) == {"total": 5, "answered": 1, "waiting": 4}
    page = response.content.decode()
    assert "1 answered, 4 did not answer yet." in page
    assert "Fatto" in page


def test_answering_twice_is_refused(world):
    copy = _copy(_send(world, ReplyKind.TEXT), world.anna)
    services.reply(copy=copy, actor=world.anna.user, now=NOW, text="Sì")

    with pytest.raises(services.AlreadyReplied):
        services.reply(copy=copy, actor=world.anna.user, now=NOW, text="No")


def test_a_reminder_goes_only_to_those_who_did_not_answer_and_once_a_day(client, world):
    communication = _send(world, ReplyKind.TEXT)
    services.reply(
        copy=_copy(communication, world.anna), actor=world.anna.user, now=NOW, text="Fatto"
    )
    client.force_login(world.referente)
    url = reverse("communications:remind", args=[communication.pk])

    first = client.post(url)
    second = client.post(url, follow=True)

    reminded = Notification.objects.filter(topic="communications.reminder")
    assert first.status_code == 302
    assert sorted(n.user.username for n in reminded) == ["bruno", "carla", "referente"]
    assert "A reminder already went out today" in second.content.decode()
    assert reminded.count() == 3


def test_the_reminder_service_refuses_a_second_one_the_same_day(world):
    communication = _send(world, ReplyKind.TEXT)
    services.remind(communication=communication, actor=world.referente, now=NOW)

    with pytest.raises(services.ReminderTooSoon):
        services.remind(
            communication=communication, actor=world.referente, now=NOW + dt.timedelta(hours=5)
        )
    told = services.remind(
        communication=communication, actor=world.referente, now=NOW + dt.timedelta(days=1)
    )
    assert told == 4


def test_the_answers_download_as_csv(client, world):
    communication = _send(world, ReplyKind.TEXT)
    services.reply(
        copy=_copy(communication, world.anna), actor=world.anna.user, now=NOW, text="Fatto"
    )
    client.force_login(world.referente)

    with translation.override("it"):  # the Italian page's CSV: dates in Italian words
        url = reverse("communications:detail", args=[communication.pk])
    response = client.get(url, {"format": "csv"})

    text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert f"Anna Test;{world.anna.email};;7 dicembre 2026" in text
    assert "Fatto" in text


def test_an_empty_iban_answer_is_refused_and_the_iban_stays(world):
    copy = _copy(_send(world, ReplyKind.IBAN), world.anna)

    with pytest.raises(services.ValidationError) as raised:
        services.reply(copy=copy, actor=world.anna.user, now=NOW, iban="  ")

    assert list(raised.value.message_dict) == ["iban"]
    assert Membership.objects.get(member=world.anna).iban != ""
