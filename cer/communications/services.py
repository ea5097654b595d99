"""Writing, sending and answering communications: the one place the pages and the API call.

- `check_draft` refuses a text with an unknown field, naming it;
- `preview` renders a draft for one member, in that member's language;
- `send` stores the communication, one frozen copy per member, tells each member through
  the notification centre and audits it; the form's key makes a second submit a no-op;
- `reply` keeps a member's answer (text, a checked file, or their IBAN confirmed or
  changed through the members app);
- `remind` tells those who have not answered, at most once a day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communications import fields, recipients
from cer.communications import topics as communication_topics
from cer.communications.models import (
    Communication,
    CommunicationRecipient,
    RecipientFilter,
    ReplyKind,
)
from cer.communities.models import Community, Configuration
from cer.members import changes
from cer.members.models import Membership
from cer.notifications import links
from cer.notifications.services import notify, settings_of

ROME = zoneinfo.ZoneInfo("Europe/Rome")
# Replies a member uploads: at most this size, and one of these kinds, told by content.
MAX_REPLY_FILE_BYTES = 5 * 1024 * 1024
FILE_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {
    "application/pdf": {"pdf"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/png": {"png"},
}


class AlreadyReplied(Exception):
    """Raised when a member answers a message they already answered."""


class ReminderTooSoon(Exception):
    """Raised when a reminder for the communication already went out today."""


@dataclass(frozen=True)
class Draft:
    """What a referente wrote and chose, before it is sent."""

    subject_it: str
    body_it: str
    recipient_filter: str
    subject_en: str = ""
    body_en: str = ""
    configuration: Configuration | None = None
    member_ids: tuple[int, ...] = ()
    urgent: bool = False
    reply_kind: str = ReplyKind.NONE
    reply_due_date: dt.date | None = None

    def texts(self) -> dict[str, str]:
        return {
            "subject_it": self.subject_it,
            "body_it": self.body_it,
            "subject_en": self.subject_en,
            "body_en": self.body_en,
        }


def check_draft(draft: Draft) -> None:
    """Refuse a draft with an unknown field or an English text half written.

    Raises ValidationError keyed by the draft's field names.
    """
    fields.check_fields(draft.texts())
    if bool(draft.subject_en.strip()) != bool(draft.body_en.strip()):
        missing = "body_en" if draft.subject_en.strip() else "subject_en"
        raise ValidationError({missing: _("Write both the English subject and text, or neither.")})
    if draft.reply_due_date and draft.reply_kind == ReplyKind.NONE:
        raise ValidationError({"reply_due_date": _("A due date needs a reply to ask for.")})


def recipients_of(*, community: Community, draft: Draft, day: dt.date) -> list[Membership]:
    """The memberships the draft's filter picks on `day`.

    Raises ValidationError naming the filter's missing choice (configuration, members).
    """
    try:
        return recipients.select(
            community=community,
            recipient_filter=draft.recipient_filter,
            day=day,
            configuration=draft.configuration,
            member_ids=draft.member_ids,
        )
    except recipients.BadFilter as error:
        if str(error) == "configuration":
            raise ValidationError(
                {"configuration": _("Choose a configuration of this community.")}
            ) from error
        raise ValidationError(
            {"members": _("Pick at least one active member of this community.")}
        ) from error


def language_of(member: Any) -> str:
    """The language a member reads messages in: their notification settings, else Italian."""
    if member.user_id is None:
        return settings.LANGUAGE_CODE
    return settings_of(member.user).language


def render_for(draft: Draft, facts: fields.RecipientFacts, language: str) -> tuple[str, str, str]:
    """Return (language, subject, body) of the draft as one member reads it.

    English readers get the English text when there is one, else the Italian.
    """
    english = language == "en" and draft.subject_en.strip()
    used = "en" if english else "it"
    subject = draft.subject_en if english else draft.subject_it
    body = draft.body_en if english else draft.body_it
    with translation.override(used):
        return used, fields.render(subject, facts)[:200], fields.render(body, facts)


def preview(*, community: Community, draft: Draft, membership: Membership) -> tuple[str, str, str]:
    """Render the draft as `membership`'s member will read it: (language, subject, body).

    Raises ValidationError for an unknown field.
    """
    check_draft(draft)
    facts = recipients.facts_of([membership], community=community, due_date=draft.reply_due_date)
    return render_for(draft, facts[membership.member_id], language_of(membership.member))


def channels_label(draft: Draft) -> str:
    """How the message travels, in words, for the confirmation page."""
    if draft.urgent:
        return _("in their inbox on the site and by e-mail at once")
    return _(
        "in their inbox on the site and by e-mail in their daily digest (unless they "
        "chose otherwise)"
    )


def send(
    *,
    community: Community,
    draft: Draft,
    author: Any,
    idempotency_key: str,
    now: dt.datetime,
) -> tuple[Communication, bool]:
    """Send the draft to the members its filter picks; return it and whether it was sent now.

    A communication already stored under `idempotency_key` is returned unsent (False):
    a form submitted twice sends once. Raises ValidationError for an unknown field, an
    incomplete filter or no recipient.
    """
    if not idempotency_key:
        raise ValidationError({"idempotency_key": _("The form has no key: reload the page.")})
    existing = Communication.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    check_draft(draft)
    today = now.astimezone(ROME).date()
    memberships = recipients_of(community=community, draft=draft, day=today)
    if not memberships:
        raise ValidationError({"recipient_filter": _("This filter picks no member today.")})
    facts = recipients.facts_of(memberships, community=community, due_date=draft.reply_due_date)
    try:
        with transaction.atomic():
            communication = Communication.objects.create(
                community=community,
                author=author if getattr(author, "pk", None) else None,
                subject_it=draft.subject_it,
                body_it=draft.body_it,
                subject_en=draft.subject_en,
                body_en=draft.body_en,
                recipient_filter=draft.recipient_filter,
                configuration=(
                    draft.configuration
                    if draft.recipient_filter == RecipientFilter.CONFIGURATION
                    else None
                ),
                urgent=draft.urgent,
                reply_kind=draft.reply_kind,
                reply_due_date=draft.reply_due_date,
                idempotency_key=idempotency_key,
                sent_at=now,
            )
            told = 0
            for membership in memberships:
                member = membership.member
                language, subject, body = render_for(draft, facts[member.pk], language_of(member))
                copy = CommunicationRecipient.objects.create(
                    communication=communication,
                    member=member,
                    membership=membership,
                    language=language,
                    subject=subject,
                    body=body,
                )
                if _tell(copy, communication_topics.MESSAGE.code, now=now, urgent=draft.urgent):
                    copy.notified = True
                    copy.save(update_fields=["notified"])
                    told += 1
            record(
                actor=author,
                code="communications.communication.sent",
                now=now,
                target=communication,
                community=community,
                changes={
                    "subject": draft.subject_it,
                    "filter": draft.recipient_filter,
                    "recipients": len(memberships),
                    "notified": told,
                    "reply": draft.reply_kind,
                    "urgent": draft.urgent,
                },
            )
    except IntegrityError:
        # The same form won the race in another request: that one sent it.
        return Communication.objects.get(idempotency_key=idempotency_key), False
    return communication, True


def _tell(copy: CommunicationRecipient, topic: str, *, now: dt.datetime, urgent: bool) -> bool:
    """Notify the member of `copy` (in-app inbox and their channels); False without account."""
    user = copy.member.user
    if user is None or not user.is_active:
        return False
    communication = copy.communication
    made = notify(
        [user],
        topic,
        {"subject": copy.subject, "body": copy.body},
        link=links.site_path("communications:message", copy.pk),
        urgent=urgent,
        now=now,
        community=communication.community,
        dedupe_key=f"{topic}:{copy.pk}:{now.astimezone(ROME).date().isoformat()}",
    )
    return bool(made)


def mark_read(*, copy: CommunicationRecipient, now: dt.datetime) -> None:
    """Note the first time the member opened their copy."""
    if copy.read_at is None:
        copy.read_at = now
        copy.save(update_fields=["read_at"])


def check_reply_file(upload: UploadedFile) -> str:
    """Return the content type of an uploaded reply, told by its first bytes.

    Raises ValidationError on `file` for a file too large, of another kind, or whose name
    says another kind than its content.
    """
    if upload.size is None or upload.size > MAX_REPLY_FILE_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB.") % {"mb": MAX_REPLY_FILE_BYTES >> 20}}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = next((kind for kind, marks in FILE_SIGNATURES.items() if head.startswith(marks)), None)
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind is None or extension not in EXTENSIONS[kind]:
        raise ValidationError({"file": _("Send a PDF, JPEG or PNG file.")})
    return kind


def reply(
    *,
    copy: CommunicationRecipient,
    actor: Any,
    now: dt.datetime,
    text: str = "",
    upload: UploadedFile | None = None,
    iban: str | None = None,
) -> CommunicationRecipient:
    """Keep the member's answer to their copy of a communication.

    TEXT needs `text`; FILE an `upload` (PDF, JPEG or PNG up to 5 MB, told by content);
    IBAN takes `iban`: the same one confirms it, another changes it through the members
    app (members.changes.set_iban, which audits and tells the person).
    Raises AlreadyReplied, and ValidationError naming the field.
    """
    communication = copy.communication
    kind = communication.reply_kind
    if kind == ReplyKind.NONE:
        raise ValidationError({"text": _("This message asks for no reply.")})
    if copy.replied_at is not None:
        raise AlreadyReplied(copy.pk)
    content_type = ""
    if kind == ReplyKind.TEXT and not text.strip():
        raise ValidationError({"text": _("Write your answer.")})
    if kind == ReplyKind.FILE:
        if upload is None:
            raise ValidationError({"file": _("Choose a file to send.")})
        content_type = check_reply_file(upload)
    with transaction.atomic():
        locked = CommunicationRecipient.objects.select_for_update().get(pk=copy.pk)
        if locked.replied_at is not None:
            raise AlreadyReplied(copy.pk)
        summary = text.strip()
        if kind == ReplyKind.IBAN:
            given = (iban or "").strip()
            if not given:
                # An empty answer would remove the account the community pays to.
                raise ValidationError({"iban": _("Confirm your IBAN or write the new one.")})
            changed = changes.set_iban(membership=copy.membership, iban=given, actor=actor, now=now)
            summary = (
                _("IBAN changed to %(iban)s") if changed else _("IBAN confirmed: %(iban)s")
            ) % {"iban": changes.mask_iban(given)}
        locked.replied_at = now
        locked.reply_text = summary
        update = ["replied_at", "reply_text"]
        if upload is not None and kind == ReplyKind.FILE:
            locked.reply_file_name = (upload.name or "")[:200]
            locked.reply_content_type = content_type
            locked.reply_file.save(upload.name or "reply", upload, save=False)
            update += ["reply_file", "reply_file_name", "reply_content_type"]
        locked.save(update_fields=update)
        record(
            actor=actor,
            code="communications.reply.received",
            now=now,
            target=communication,
            community=communication.community,
            changes={"member": copy.member_id, "kind": kind},
        )
    return locked


def answered_counts(communication: Communication) -> dict[str, int]:
    """How many members answered and how many did not."""
    total = communication.recipients.count()
    answered = communication.recipients.filter(replied_at__isnull=False).count()
    return {"total": total, "answered": answered, "waiting": total - answered}


def remind(*, communication: Communication, actor: Any, now: dt.datetime) -> int:
    """Remind the members who have not answered; return how many were told.

    At most once a day (Europe/Rome) per communication. Raises ReminderTooSoon, and
    ValidationError when the communication asks for no reply.
    """
    if not communication.asks_reply:
        raise ValidationError(_("This communication asks for no reply."))
    today = now.astimezone(ROME).date()
    with transaction.atomic():
        locked = Communication.objects.select_for_update().get(pk=communication.pk)
        last = locked.last_reminder_at
        if last is not None and last.astimezone(ROME).date() == today:
            raise ReminderTooSoon(communication.pk)
        waiting = locked.recipients.filter(replied_at__isnull=True).select_related(
            "member__user", "communication__community"
        )
        told = 0
        for copy in waiting:
            if _tell(copy, communication_topics.REMINDER.code, now=now, urgent=locked.urgent):
                copy.reminded_at = now
                copy.save(update_fields=["reminded_at"])
                told += 1
        locked.last_reminder_at = now
        locked.save(update_fields=["last_reminder_at"])
        communication.last_reminder_at = now
        record(
            actor=actor,
            code="communications.communication.reminded",
            now=now,
            target=locked,
            community=locked.community,
            changes={"reminded": told},
        )
    return told
