"""Signature requests: a document version, the people who must sign it, what each did.

A request fixes the bytes sent (their SHA-256) and the kind of signature asked: qualified
(CAdES or PAdES, uploaded and verified) or simple (a one-time code, "firma elettronica
semplice"). Each signer's uploads are kept with their verification, refused ones too; a
simple signature leaves an evidence record. Nothing here is ever overwritten: a request
is cancelled or executed, never edited.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignatureKind(models.TextChoices):
    QUALIFIED = "QUALIFIED", _("qualified electronic signature (CAdES/PAdES)")
    SIMPLE = "SIMPLE", _("firma elettronica semplice (one-time code)")


class RequestStatus(models.TextChoices):
    OPEN = "OPEN", _("waiting for signatures")
    EXECUTED = "EXECUTED", _("executed: everyone signed")
    CANCELLED = "CANCELLED", _("cancelled")


class SignerStatus(models.TextChoices):
    PENDING = "PENDING", _("to sign")
    SIGNED = "SIGNED", _("signed")


def signing_name(instance: Any, filename: str) -> str:
    """A random storage name; the uploader's file name is kept only as data."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"signing/{secrets.token_hex(16)}.{extension}"


class SignatureRequest(models.Model):
    """A document version sent to named people for their signature."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="signature_requests",
        verbose_name=_("community"),
    )
    version = models.ForeignKey(
        "documents.DocumentVersion",
        on_delete=models.PROTECT,
        related_name="signature_requests",
        verbose_name=_("document version sent"),
    )
    # The version's PDF rendering is sent when it has one (a drafted DOCX), else its file.
    sends_pdf_rendering = models.BooleanField(_("the PDF rendering is sent"), default=False)
    sent_sha256 = models.CharField(_("SHA-256 of the file sent"), max_length=64)
    kind = models.CharField(_("kind of signature"), max_length=9, choices=SignatureKind.choices)
    message = models.CharField(_("message to the signers"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=9, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    created_at = models.DateTimeField(_("sent at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    closed_at = models.DateTimeField(_("executed or cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    executed_version = models.ForeignKey(
        "documents.DocumentVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed version"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("signature request")
        verbose_name_plural = _("signature requests")

    def __str__(self) -> str:
        return f"{self.version} ({self.get_kind_display()})"

    @property
    def document(self) -> Any:
        return self.version.document

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN


class Signer(models.Model):
    """One person whose signature a request needs, with their linked account."""

    request = models.ForeignKey(
        SignatureRequest,
        on_delete=models.CASCADE,
        related_name="signers",
        verbose_name=_("signature request"),
    )
    position = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=200)
    tax_code = models.CharField(_("tax code"), max_length=16)
    email = models.EmailField(_("email"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signatures_asked",
        verbose_name=_("user account"),
    )
    status = models.CharField(
        _("status"), max_length=7, choices=SignerStatus.choices, default=SignerStatus.PENDING
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_told_at = models.DateTimeField(_("last told at"), null=True, blank=True)

    class Meta:
        ordering = ["request", "position"]
        verbose_name = _("signer")
        verbose_name_plural = _("signers")
        constraints = [
            models.UniqueConstraint(fields=["request", "tax_code"], name="signer_once_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_code})"

    @property
    def community(self) -> Any:
        """The community of the request (read by the permission rules)."""
        return self.request.community

    @property
    def has_signed(self) -> bool:
        return self.status == SignerStatus.SIGNED


class SignedFile(models.Model):
    """A file a signer uploaded as signed, with its verification; refused ones are kept.

    `signers` and `reasons` are the verification as cer.documents.signatures writes them
    (`SignerResult.as_json`, `Reason.as_json`); `refusals` are this workflow's own codes
    (cer.signing.verification.REFUSALS). `accepted` only when there are none.
    """

    signer = models.ForeignKey(
        Signer, on_delete=models.CASCADE, related_name="files", verbose_name=_("signer")
    )
    file = models.FileField(_("file"), upload_to=signing_name, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    format = models.CharField(_("format"), max_length=5, blank=True)
    status = models.CharField(_("verification"), max_length=13, blank=True)
    signers = models.JSONField(_("signatures found"), default=list)
    reasons = models.JSONField(_("reasons"), default=list)
    refusals = models.JSONField(_("why it was refused"), default=list)
    accepted = models.BooleanField(_("accepted"), default=False)
    content_sha256 = models.CharField(_("SHA-256 of the signed content"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["signer", "-uploaded_at", "-pk"]
        verbose_name = _("signed file")
        verbose_name_plural = _("signed files")

    def __str__(self) -> str:
        return f"{self.signer}: {self.original_name}"

    @property
    def community(self) -> Any:
        return self.signer.request.community


class OneTimeCode(models.Model):
    """A code sent for a simple electronic signature: only its keyed hash is kept."""

    signer = models.ForeignKey(
        Signer, on_delete=models.CASCADE, related_name="codes", verbose_name=_("signer")
    )
    code_hash = models.CharField(_("hash of the code"), max_length=64)
    channels = models.CharField(_("sent by"), max_length=20)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # A newer code, or the signature itself, retires the older ones.
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["signer", "-sent_at", "-pk"]
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    def __str__(self) -> str:
        return f"{self.signer} @ {self.sent_at:%Y-%m-%d %H:%M}"


class SimpleSignatureEvidence(models.Model):
    """What proves a simple electronic signature: who, when, from where, over which bytes."""

    signer = models.OneToOneField(
        Signer, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("signer")
    )
    signed_at = models.DateTimeField(_("signed at"))
    name = models.CharField(_("name"), max_length=200)
    tax_code = models.CharField(_("tax code"), max_length=16)
    username = models.CharField(_("account"), max_length=150)
    ip_address = models.CharField(_("IP address"), max_length=45)
    user_agent = models.CharField(_("browser"), max_length=400)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    channels = models.CharField(_("code sent by"), max_length=20)
    code_sent_at = models.DateTimeField(_("code sent at"))
    pdf = models.FileField(_("evidence PDF"), upload_to=signing_name, max_length=200)
    sealed = models.BooleanField(_("sealed by the platform"), default=False)

    class Meta:
        verbose_name = _("evidence of a simple electronic signature")
        verbose_name_plural = _("evidence of simple electronic signatures")

    def __str__(self) -> str:
        return f"{self.name} {self.signed_at:%Y-%m-%d %H:%M}"
