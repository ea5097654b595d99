"""What communications keep about a person: in the GDPR export, files deleted after retention."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cer.communications import privacy, services
from cer.communications.models import CommunicationRecipient, ReplyKind
from cer.privacy.contributions import export_sections, retention_rules
from tests.communications.conftest import NOW

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def _answered_with_a_file(world):
    draft = services.Draft(
        subject_it="Bolletta di {nome}",
        body_it="Carichi la bolletta.",
        recipient_filter="HAND_PICKED",
        member_ids=(world.anna.pk,),
        reply_kind=ReplyKind.FILE,
    )
    communication, _sent = services.send(
        community=world.community, draft=draft, author=world.referente, idempotency_key="p", now=NOW
    )
    copy = communication.recipients.get()
    return services.reply(
        copy=copy, actor=world.anna.user, now=NOW, upload=SimpleUploadedFile("b.pdf", PDF)
    )


def test_the_export_holds_the_members_messages_and_answers(world):
    _answered_with_a_file(world)

    rows = export_sections()["communications"](world.anna)

    assert [(r["subject"], r["reply_file"]) for r in rows] == [("Bolletta di Anna Test", "b.pdf")]


def test_reply_files_are_deleted_after_the_retention_period_and_the_answer_stays(world):
    copy = _answered_with_a_file(world)
    stored = copy.reply_file.path
    rule = next(r for r in retention_rules() if r.code == "communication_reply_files")

    early = rule.apply(NOW + dt.timedelta(days=privacy.retention_days() - 1))
    late = rule.apply(NOW + dt.timedelta(days=privacy.retention_days() + 1))

    copy = CommunicationRecipient.objects.get(pk=copy.pk)
    assert (early, late) == (0, 1)
    assert not copy.reply_file
    assert copy.replied_at == NOW and copy.reply_file_name == "b.pdf"
    assert not os.path.exists(stored)


def test_erasing_a_member_blanks_their_copies_and_deletes_their_files(world):
    from cer.members.models import Membership
    from cer.privacy import gdpr

    copy = _answered_with_a_file(world)
    stored = copy.reply_file.path
    Membership.objects.filter(member=world.anna).update(valid_to=dt.date(2026, 1, 31))

    erasure = gdpr.erase_member(member=world.anna, actor=None, reason="asked", now=NOW)

    copy = CommunicationRecipient.objects.get(pk=copy.pk)
    assert (copy.subject, copy.body, copy.reply_text, copy.reply_file_name) == ("", "", "", "")
    assert not copy.reply_file and not os.path.exists(stored)
    assert copy.replied_at == NOW  # that an answer came stays, with its date
    assert "copies of communications and their answers" in erasure.erased
