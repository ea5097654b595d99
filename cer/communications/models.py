"""Messages a community's managers send to its members, and what each member received.

A `Communication` is what the referente wrote (Italian and, optionally, English texts with
`{field}` placeholders), to whom (a filter) and when it went. A `CommunicationRecipient`
is one member's copy: the text as rendered for them at send time, frozen, and their reply
when the communication asked for one.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecipientFilter(models.TextChoices):
    ALL = "ALL", _("All active members")
    CONFIGURATION = "CONFIGURATION", _("Members with a connection point in one configuration")
    PRODUCERS = "PRODUCERS", _("Producers (members who own a plant)")
    NO_IBAN = "NO_IBAN", _("Members without an IBAN")
    MISSING_DATA = (
        "MISSING_DATA",
        _(
            "Members with missing data (no e-mail, no phone, no IBAN or no consent to the "
            "membership processing)"
        ),
    )
    HAND_PICKED = "HAND_PICKED", _("Members picked by hand")


class ReplyKind(models.TextChoices):
    NONE = "NONE", _("No reply asked")
    TEXT = "TEXT", _("A written answer")
    FILE = "FILE", _("A file (PDF, JPEG or PNG)")
    IBAN = "IBAN", _("Confirm or change the IBAN")


class Communication(models.Model):
    """One message sent by a community's manager to a set of its members."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="communications",
        verbose_name=_("community"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    subject_it = models.CharField(_("subject (Italian)"), max_length=200)
    body_it = models.TextField(_("text (Italian)"))
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    recipient_filter = models.CharField(
        _("recipients"), max_length=13, choices=RecipientFilter.choices
    )
    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration"),
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    reply_kind = models.CharField(
        _("reply asked"), max_length=4, choices=ReplyKind.choices, default=ReplyKind.NONE
    )
    reply_due_date = models.DateField(_("reply due by"), null=True, blank=True)
    # The form's one-time key: a second submit of the same form finds this row and sends
    # nothing (a double click, a browser resubmitting).
    idempotency_key = models.CharField(_("form key"), max_length=64, unique=True)
    sent_at = models.DateTimeField(_("sent at"))
    last_reminder_at = models.DateTimeField(_("last reminder at"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("communication")
        verbose_name_plural = _("communications")

    def __str__(self) -> str:
        return self.subject_it

    @property
    def asks_reply(self) -> bool:
        return self.reply_kind != ReplyKind.NONE


def reply_file_name(instance: Any, filename: str) -> str:
    """Return a random storage name: the member's own file name is kept only as data."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"communications/replies/{secrets.token_hex(16)}.{extension}"


class CommunicationRecipient(models.Model):
    """One member's copy of a communication, rendered for them when it was sent."""

    communication = models.ForeignKey(
        Communication,
        on_delete=models.CASCADE,
        related_name="recipients",
        verbose_name=_("communication"),
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="communications_received",
        verbose_name=_("member"),
    )
    # The membership the message reached them through: its IBAN is the one to confirm.
    membership = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("membership"),
    )
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    # False when the member has no active user account: kept on record, told nowhere.
    notified = models.BooleanField(_("notified"), default=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)
    reply_file = models.FileField(_("file"), upload_to=reply_file_name, max_length=200, blank=True)
    reply_file_name = models.CharField(_("file name"), max_length=200, blank=True)
    reply_content_type = models.CharField(_("content type"), max_length=100, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["communication", "member"]
        verbose_name = _("communication received")
        verbose_name_plural = _("communications received")
        constraints = [
            models.UniqueConstraint(
                fields=["communication", "member"], name="communication_once_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.subject}"

    @property
    def community(self) -> Any:
        """The community that sent it: the access rules follow it (cer.access.rules)."""
        return self.communication.community

    @property
    def has_replied(self) -> bool:
        return self.replied_at is not None
