"""What a community collects from its members, and how: requests, mandates, batches, reports.

    PaymentRequest  OPEN --in a direct-debit batch--> IN_BATCH --bank report--> PAID
                    IN_BATCH --returned or rejected (reason code)--> RETURNED (collect again)
                    IN_BATCH --batch voided--> OPEN;  OPEN or RETURNED --cancelled--> CANCELLED
    Mandate         a member's SEPA CORE authorisation, FRST on first use then RCUR
    CollectionBatch a pain.008 file of collections: DRAFT → ISSUED (first download) → VOID
    CollectionItem  one debit of a batch: a request, a mandate, an EndToEndId, its outcome

docs/collections.md tells the whole story.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cer.core.crypto import EncryptedTextField


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 12 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


def _token() -> str:
    return secrets.token_urlsafe(12)


def _user(related_name: str = "+", verbose_name: Any = "") -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
    )


class CollectionSettings(models.Model):
    """A community's creditor data for direct debits and its pagoPA set-up."""

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="collection_settings",
        verbose_name=_("community"),
    )
    # SEPA Creditor Identifier: IT, two check digits, three-character business code, then
    # the national identifier (the fiscal code in Italy), checked by cer.collections.sepa.
    creditor_id = models.CharField(_("SEPA creditor identifier"), max_length=35, blank=True)
    creditor_name = models.CharField(_("creditor name"), max_length=70, blank=True)
    creditor_iban = models.CharField(_("account credited (IBAN)"), max_length=34, blank=True)
    creditor_bic = models.CharField(_("BIC"), max_length=11, blank=True)
    prenotification_days = models.PositiveSmallIntegerField(
        _("pre-notification lead time [days]"),
        default=14,
        help_text=_(
            "Days between the pre-notification e-mail and the collection date (the SEPA "
            "rulebook's default is 14 calendar days unless the mandate agrees fewer)."
        ),
    )
    pagopa_enabled = models.BooleanField(
        _("collect through pagoPA"),
        default=False,
        help_text=_("Only for communities run by a public body registered with pagoPA."),
    )
    pagopa_organisation_fiscal_code = models.CharField(
        _("pagoPA organisation fiscal code"), max_length=11, blank=True
    )
    pagopa_iban = models.CharField(_("pagoPA account credited (IBAN)"), max_length=34, blank=True)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("collection settings")
        verbose_name_plural = _("collection settings")

    def __str__(self) -> str:
        return f"{self.community}: {self.creditor_id or '-'}"


class RequestKind(models.TextChoices):
    MEMBERSHIP_FEE = "MEMBERSHIP_FEE", _("Membership fee")
    ENTRY_FEE = "ENTRY_FEE", _("Entry fee")
    BALANCE_OWED = "BALANCE_OWED", _("Balance owed to the community")


class RequestState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    IN_BATCH = "IN_BATCH", _("In a direct-debit batch")
    PAID = "PAID", _("Paid")
    RETURNED = "RETURNED", _("Returned (to collect again)")
    CANCELLED = "CANCELLED", _("Cancelled")


# The states in which a request may be put in a new batch or a pagoPA notice.
COLLECTABLE_STATES = (RequestState.OPEN, RequestState.RETURNED)


class PaymentRequest(models.Model):
    """What a member is asked to pay: kind, amount, due date, and where it stands."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="payment_requests",
        verbose_name=_("community"),
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="payment_requests",
        verbose_name=_("member"),
    )
    kind = models.CharField(_("kind"), max_length=14, choices=RequestKind.choices)
    amount_eur = amount_field(_("amount [EUR]"))
    due_date = models.DateField(_("due date"))
    description = models.CharField(_("description"), max_length=140)
    # A bulk creation's key ("FEE-2025"): a member gets one live request per series.
    series = models.CharField(_("series"), max_length=40, blank=True)
    state = models.CharField(
        _("state"), max_length=9, choices=RequestState.choices, default=RequestState.OPEN
    )
    paid_date = models.DateField(_("paid on"), null=True, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=4, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # For a balance owed: the distribution whose statement gets the repayment line.
    distribution = models.ForeignKey(
        "distribution.Distribution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("distribution"),
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = _user(verbose_name=_("created by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-due_date", "member", "pk"]
        verbose_name = _("payment request")
        verbose_name_plural = _("payment requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_eur__gt=Decimal("0")), name="payment_request_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["community", "member", "series"],
                condition=~Q(series="") & ~Q(state="CANCELLED"),
                name="payment_request_once_per_series",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.member}: {self.amount_eur}"

    @property
    def reference(self) -> str:
        """The reference written on files and notices: stable, never reused."""
        return f"CERR{self.pk}"

    @property
    def collectable(self) -> bool:
        return self.state in COLLECTABLE_STATES


class Sequence(models.TextChoices):
    FIRST = "FRST", _("First collection")
    RECURRENT = "RCUR", _("Recurrent collection")


class Mandate(models.Model):
    """A member's SEPA CORE direct-debit mandate to the community.

    The reference is generated once and never changes (the bank and the debtor quote it).
    `next_sequence` is FRST until a collection under it is issued, then RCUR; an IBAN change
    or a first collection returned sets it back to FRST (docs/collections.md says why).
    """

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="mandates",
        verbose_name=_("community"),
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="mandates",
        verbose_name=_("member"),
    )
    reference = models.CharField(_("mandate reference"), max_length=35, unique=True)
    signed_date = models.DateField(_("signature date"))
    debtor_name = models.CharField(_("account holder"), max_length=70)
    iban = EncryptedTextField(_("IBAN debited"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    next_sequence = models.CharField(
        _("next sequence"), max_length=4, choices=Sequence.choices, default=Sequence.FIRST
    )
    last_collection_date = models.DateField(_("last collection"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = _user(verbose_name=_("created by"))
    iban_changed_at = models.DateTimeField(_("IBAN changed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    class Meta:
        ordering = ["community", "member", "-signed_date", "pk"]
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "member"],
                condition=Q(revoked_at__isnull=True),
                name="mandate_one_live_per_member",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class BatchStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Draft (file not issued yet)")
    ISSUED = "ISSUED", _("File issued")
    COMPLETED = "COMPLETED", _("Every collection paid or returned")
    VOID = "VOID", _("Voided")


class CollectionBatch(models.Model):
    """A pain.008.001.02 file of direct debits and its life at the bank."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="collection_batches",
        verbose_name=_("community"),
    )
    status = models.CharField(
        _("status"), max_length=9, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    creditor_id = models.CharField(_("SEPA creditor identifier"), max_length=35)
    creditor_name = models.CharField(_("creditor name"), max_length=70)
    creditor_iban = models.CharField(_("account credited (IBAN)"), max_length=34)
    creditor_bic = models.CharField(_("BIC"), max_length=11)
    collection_date = models.DateField(_("requested collection date"))
    total_eur = amount_field(_("total [EUR]"))
    count = models.PositiveIntegerField(_("number of collections"))
    # Read back from the file's GrpHdr/MsgId: bank reports quote it (OrgnlMsgId).
    message_id = models.CharField(_("message id"), max_length=35)
    xml = models.TextField(_("pain.008 file"))
    file_token = models.CharField(_("file token"), max_length=24, default=_token, editable=False)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("re-issue of"),
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = _user(verbose_name=_("created by"))
    issued_at = models.DateTimeField(_("file issued at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=300, blank=True)

    class Meta:
        ordering = ["-collection_date", "-pk"]
        verbose_name = _("direct-debit batch")
        verbose_name_plural = _("direct-debit batches")
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="collection_batch_message_once"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.total_eur}"


class ItemStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for the bank")
    PAID = "PAID", _("Paid")
    RETURNED = "RETURNED", _("Returned or rejected")


class CollectionItem(models.Model):
    """One direct debit of a batch: a request, a mandate, an amount, and its outcome."""

    batch = models.ForeignKey(
        CollectionBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    request = models.ForeignKey(
        PaymentRequest, on_delete=models.PROTECT, related_name="items", verbose_name=_("request")
    )
    mandate = models.ForeignKey(
        Mandate, on_delete=models.PROTECT, related_name="items", verbose_name=_("mandate")
    )
    name = models.CharField(_("debtor"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    amount_eur = amount_field(_("amount [EUR]"))
    sequence = models.CharField(_("sequence"), max_length=4, choices=Sequence.choices)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)
    status = models.CharField(
        _("outcome"), max_length=8, choices=ItemStatus.choices, default=ItemStatus.PENDING
    )
    reason_code = models.CharField(_("reason code"), max_length=4, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    # A voided batch or a returned debit releases its request, which may be collected again.
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "name", "pk"]
        verbose_name = _("direct debit")
        verbose_name_plural = _("direct debits")
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(released_at__isnull=True),
                name="collection_item_request_once",
            ),
        ]


class ReportKind(models.TextChoices):
    PAIN002 = "PAIN002", _("Payment status report (pain.002)")
    CAMT054 = "CAMT054", _("Debit/credit notification (camt.054)")


class CollectionReport(models.Model):
    """A bank report as imported: the file's fingerprint and what it matched or refused."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="collection_reports",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=7, choices=ReportKind.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    message_id = models.CharField(_("report message id"), max_length=35, blank=True)
    refused = models.BooleanField(_("refused"), default=False)
    # {"matched": [...], "refused": [...]}: every transaction of the file, one list or other.
    result = models.JSONField(_("result"), default=dict)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = _user(verbose_name=_("imported by"))

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("collection bank report")
        verbose_name_plural = _("collection bank reports")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "sha256"], name="collection_report_once_per_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class NoticeStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Created")
    PUBLISHED = "PUBLISHED", _("Published (payable)")
    PAID = "PAID", _("Paid")
    INVALID = "INVALID", _("Invalidated or expired")


class PagoPANotice(models.Model):
    """A pagoPA debt position created for a request: its IUPD, IUV and notice number."""

    request = models.ForeignKey(
        PaymentRequest,
        on_delete=models.PROTECT,
        related_name="pagopa_notices",
        verbose_name=_("request"),
    )
    organisation_fiscal_code = models.CharField(_("organisation fiscal code"), max_length=11)
    iupd = models.CharField(_("debt position id (IUPD)"), max_length=35, unique=True)
    iuv = models.CharField(_("IUV"), max_length=35)
    notice_number = models.CharField(_("notice number"), max_length=18)
    status = models.CharField(
        _("status"), max_length=9, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    amount_eur = amount_field(_("amount [EUR]"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    receipt_id = models.CharField(_("receipt id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("pagoPA notice")
        verbose_name_plural = _("pagoPA notices")

    def __str__(self) -> str:
        return self.notice_number
