"""Documents of a community: statutes, regulations, signed forms, with versions."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    STATUTE = "STATUTE", _("Statute")
    REGULATION = "REGULATION", _("Internal regulation")
    MINUTES = "MINUTES", _("Minutes of a meeting")
    MEMBERSHIP_FORM = "MEMBERSHIP_FORM", _("Membership form")
    CONTRACT = "CONTRACT", _("Contract or mandate")
    OTHER = "OTHER", _("Other")

    @classmethod
    def open_to_members(cls) -> frozenset[str]:
        """Kinds every member may read; the others may carry other members' personal data."""
        return frozenset({cls.STATUTE, cls.REGULATION, cls.MINUTES})


class Document(models.Model):
    """One document of a community's archive; its content lives in numbered versions."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("type"), max_length=15, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    document_date = models.DateField(_("date of the document"))
    created_at = models.DateTimeField(_("created at"))
    # Optional links, so the archive can be filtered by the member or plant a file concerns.
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member"),
    )
    plant = models.ForeignKey(
        "plants.Plant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plant"),
    )
    # A manager's decision to keep a document past its retention period (cer.documents.retention).
    keep_until = models.DateField(_("keep until"), null=True, blank=True)
    keep_reason = models.CharField(_("reason for keeping"), max_length=200, blank=True)

    class Meta:
        ordering = ["community", "kind", "-document_date", "pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title

    @property
    def latest_version(self) -> DocumentVersion | None:
        return self.versions.order_by("-number").first()

    @property
    def states(self) -> list[str]:
        """What apps above the archive say of the document ("executed"), in words."""
        return [text for state in DOCUMENT_STATES if (text := state(self))]


# Apps above the archive register `state(document) -> str` here (cer.signing: executed).
DOCUMENT_STATES: list[Callable[[Document], str]] = []


def stored_name(instance: Any, filename: str) -> str:
    """Return a random storage name: the user's file name is kept only as data."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"documents/{secrets.token_hex(16)}.{extension}"


class TextStatus(models.TextChoices):
    EXTRACTED = "EXTRACTED", _("text extracted")
    TRUNCATED = "TRUNCATED", _("text extracted, cut at the size limit")
    EMPTY = "EMPTY", _("no text found (a scanned document?)")
    UNSUPPORTED = "UNSUPPORTED", _("no text in this type of file")
    FAILED = "FAILED", _("the text could not be read")


class DocumentVersion(models.Model):
    """A version of a document: the file, stored under MEDIA_ROOT with a random name."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="versions", verbose_name=_("document")
    )
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=stored_name, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.PositiveIntegerField(_("size [bytes]"))
    # A drafted document carries a PDF rendering next to its editable DOCX.
    pdf_file = models.FileField(_("PDF rendering"), upload_to=stored_name, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The text read from the file at upload (cer.documents.extraction), for the search.
    text = models.TextField(_("extracted text"), blank=True)
    text_status = models.CharField(
        _("text extraction"), max_length=11, choices=TextStatus.choices, blank=True
    )
    text_problem = models.CharField(_("text extraction problem"), max_length=200, blank=True)

    class Meta:
        ordering = ["document", "-number"]
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="document_version_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    @property
    def community(self) -> Any:
        """The community the version belongs to (read by the permission rules)."""
        return self.document.community

    @property
    def kind(self) -> str:
        return self.document.kind


class SignatureStatus(models.TextChoices):
    VALID = "VALID", _("valid")
    INVALID = "INVALID", _("not valid")
    INDETERMINATE = "INDETERMINATE", _("cannot tell")


class SignatureCheck(models.Model):
    """The verification of a signed upload, stored with the version it produced.

    `signer_name`, `tax_code`, `signing_time` and `qualified` are the first signer's;
    `signers` holds every signer (cer.documents.signatures.SignerResult.as_json) and
    `reasons` the file-wide reasons, as codes the result text is written from in the
    reader's language. `envelope` keeps a `.p7m` as uploaded; the version holds its content.
    """

    version = models.ForeignKey(
        DocumentVersion,
        on_delete=models.CASCADE,
        related_name="signature_checks",
        verbose_name=_("document version"),
    )
    format = models.CharField(_("format"), max_length=5)
    status = models.CharField(_("status"), max_length=13, choices=SignatureStatus.choices)
    signer_name = models.CharField(_("signer"), max_length=200, blank=True)
    tax_code = models.CharField(_("tax code"), max_length=16, blank=True)
    signing_time = models.DateTimeField(_("signing time"), null=True, blank=True)
    qualified = models.BooleanField(_("qualified certificate"), default=False)
    signers = models.JSONField(_("signers"), default=list)
    reasons = models.JSONField(_("reasons"), default=list)
    content_sha256 = models.CharField(_("SHA-256 of the signed content"), max_length=64)
    envelope = models.FileField(_("signed envelope"), upload_to=stored_name, blank=True)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        ordering = ["version", "-checked_at"]
        verbose_name = _("signature check")
        verbose_name_plural = _("signature checks")

    def __str__(self) -> str:
        return f"{self.version}: {self.status}"

    @property
    def summary(self) -> str:
        """The result in words, in the active language."""
        from cer.documents.signatures import describe

        return describe(self.signers, self.reasons, self.status)


class RetentionPeriod(models.Model):
    """How many years a community keeps documents of one type (cer.documents.retention).

    A type without a row follows the default of cer.documents.retention.DEFAULT_YEARS;
    `years` None means "keep for the community's life".
    """

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("type"), max_length=15, choices=DocumentKind.choices)
    years = models.PositiveSmallIntegerField(_("years"), null=True, blank=True)

    class Meta:
        ordering = ["community", "kind"]
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind"], name="document_retention_kind_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.kind}: {self.years}"
