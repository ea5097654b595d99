"""What communications keep about a person, for the GDPR export and the retention run.

Registered with cer.privacy.contributions by CommunicationsConfig.ready. The messages a
member received and their answers are part of running the membership; the files they
uploaded in answer (a bill, an identity document) are personal data kept only as long as
needed: deleted COMMUNICATION_REPLY_FILE_RETENTION_DAYS after the answer (default 365),
the record that an answer came stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from cer.communications.models import CommunicationRecipient
from cer.privacy.contributions import (
    RetentionRule,
    register_erasure,
    register_export_section,
    register_retention_rule,
)


def member_messages(member: Any) -> list[dict[str, Any]]:
    """The communications the member received, with their answers, one dict each."""
    rows = CommunicationRecipient.objects.filter(member=member).select_related("communication")
    return [
        {
            "sent_at": copy.communication.sent_at,
            "subject": copy.subject,
            "body": copy.body,
            "read_at": copy.read_at,
            "replied_at": copy.replied_at,
            "reply": copy.reply_text,
            "reply_file": copy.reply_file_name,
        }
        for copy in rows.order_by("pk")
    ]


def retention_days() -> int:
    return max(30, int(getattr(settings, "COMMUNICATION_REPLY_FILE_RETENTION_DAYS", 365)))


def delete_expired_reply_files(*, now: dt.datetime) -> int:
    """Delete uploaded answers older than the retention period; return how many."""
    cutoff = now - dt.timedelta(days=retention_days())
    expired = CommunicationRecipient.objects.filter(replied_at__lt=cutoff).exclude(reply_file="")
    count = 0
    for copy in expired:
        copy.reply_file.delete(save=False)
        copy.reply_file = ""
        copy.save(update_fields=["reply_file"])
        count += 1
    return count


def erase_member_messages(member: Any, now: dt.datetime) -> list[str]:
    """Blank the member's copies of messages and their answers, and delete their files.

    The record that a message was sent to them, read and answered stays (dates only).
    """
    copies = CommunicationRecipient.objects.filter(member=member)
    for copy in copies.exclude(reply_file=""):
        copy.reply_file.delete(save=False)
    touched = copies.update(subject="", body="", reply_text="", reply_file="", reply_file_name="")
    return ["copies of communications and their answers"] if touched else []


def register() -> None:
    register_export_section("communications", member_messages)
    register_erasure("communications", erase_member_messages)
    register_retention_rule(
        RetentionRule(
            "communication_reply_files",
            "Files members uploaded in answer to a communication: deleted after "
            "COMMUNICATION_REPLY_FILE_RETENTION_DAYS (default 365, at least 30)",
            lambda now: delete_expired_reply_files(now=now),
        )
    )
