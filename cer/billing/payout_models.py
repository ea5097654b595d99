"""SEPA payouts as records: batches and their transfers, the lines they pay, bank reports.

Kept apart from models.py (statements, disputes, invoices) to keep each module small;
models.py imports them so that Django registers them. Statement lines are referred to by
name ("billing.StatementLine") so that this module does not import models.py.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 12 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


def _token() -> str:
    return secrets.token_urlsafe(12)


class PayoutStatus(models.TextChoices):
    """The life of a batch: prepared, its file issued, sent to the bank, every transfer known.

    A batch whose file left the platform (ISSUED or later) is never deleted nor re-labelled:
    it can only be voided by a confirmed, audited action with a reason (docs/payouts.md).
    """

    DRAFT = "DRAFT", _("Draft (file not issued yet)")
    ISSUED = "ISSUED", _("File issued")
    SENT = "SENT", _("Sent to the bank")
    COMPLETED = "COMPLETED", _("Every transfer settled or rejected")
    VOID = "VOID", _("Voided")


# The states in which a batch's transfers may still be executed by the bank.
LIVE_PAYOUT_STATUSES = (PayoutStatus.ISSUED, PayoutStatus.SENT, PayoutStatus.COMPLETED)


class PayoutSettings(models.Model):
    """A community's payout rules: the smallest amount worth a bank transfer."""

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="payout_settings",
        verbose_name=_("community"),
    )
    minimum_transfer_eur = amount_field(
        _("minimum transfer [EUR]"),
        default=Decimal("1.00"),
        help_text=_("Smaller amounts are carried to the next payout."),
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout settings")
        verbose_name_plural = _("payout settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_transfer_eur__gte=Decimal("0.01")),
                name="payout_minimum_transfer_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community}: {self.minimum_transfer_eur}"


class PayoutBatch(models.Model):
    """A SEPA credit transfer (pain.001) of members' unpaid lines, and its life at the bank."""

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="payout_batches",
        verbose_name=_("configuration"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (exclusive)"))
    status = models.CharField(
        _("status"), max_length=9, choices=PayoutStatus.choices, default=PayoutStatus.DRAFT
    )
    debtor_name = models.CharField(_("account holder"), max_length=70)
    debtor_iban = models.CharField(_("debit account IBAN"), max_length=34)
    debtor_bic = models.CharField(_("BIC"), max_length=11)
    execution_date = models.DateField(_("execution date"))
    total_eur = amount_field(_("total [EUR]"))
    # Read back from the file's GrpHdr/MsgId: bank status reports quote it (OrgnlMsgId).
    message_id = models.CharField(_("message id"), max_length=35)
    xml = models.TextField(_("pain.001 file"))
    # [{"member_id", "name", "amount_eur", "reason"}]: not paid, listed for follow-up.
    without_iban = models.JSONField(_("members without a valid IBAN"), default=list)
    file_token = models.CharField(_("file token"), max_length=24, default=_token, editable=False)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    issued_at = models.DateTimeField(_("file issued at"), null=True, blank=True)
    sent_date = models.DateField(_("sent to the bank on"), null=True, blank=True)
    sent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sending recorded by"),
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=300, blank=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="payout_batch_message_id_once"),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.period_start}–{self.period_end}: {self.total_eur}"


class PayoutItemStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for the bank")
    SETTLED = "SETTLED", _("Settled")
    REJECTED = "REJECTED", _("Rejected (to pay again)")


class PayoutItem(models.Model):
    """One credit transfer of a batch: a member, an IBAN, an amount, and its outcome."""

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    name = models.CharField(_("name"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    amount_eur = amount_field(_("amount [EUR]"))
    # Unique per batch and item by construction (batch pk and a counter), never reused.
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35)
    status = models.CharField(
        _("outcome"),
        max_length=8,
        choices=PayoutItemStatus.choices,
        default=PayoutItemStatus.PENDING,
    )
    # ISO 20022 external status reason code (AC04, AM04, ...) and the bank's or person's words.
    reason_code = models.CharField(_("reason code"), max_length=4, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "name"]
        verbose_name = _("payout item")
        verbose_name_plural = _("payout items")


class PaidLine(models.Model):
    """A statement line (its first issue) in a payout item; paid once while not released.

    A voided batch or a rejected transfer releases its lines (`released_at`): they are to
    pay again, and the row stays as the record of the attempt.
    """

    item = models.ForeignKey(
        PayoutItem, on_delete=models.CASCADE, related_name="lines", verbose_name=_("item")
    )
    line = models.ForeignKey(
        "billing.StatementLine",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("line"),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("paid line")
        verbose_name_plural = _("paid lines")
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=Q(released_at__isnull=True), name="paid_line_once"
            ),
        ]


class BankReportKind(models.TextChoices):
    PAIN002 = "PAIN002", _("Payment status report (pain.002)")
    CAMT054 = "CAMT054", _("Debit notification (camt.054)")


class BankReport(models.Model):
    """A bank status report as imported: the file's fingerprint and what it matched.

    The same file (same SHA-256) is imported once per configuration; a report for a batch
    that is not ours is kept as refused, so the refusal is on record too.
    """

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="bank_reports",
        verbose_name=_("configuration"),
    )
    kind = models.CharField(_("kind"), max_length=7, choices=BankReportKind.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    message_id = models.CharField(_("report message id"), max_length=35, blank=True)
    refused = models.BooleanField(_("refused"), default=False)
    # {"matched": [...], "unmatched": [...], "refused": [...], "batches": [...]}
    result = models.JSONField(_("result"), default=dict)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("bank report")
        verbose_name_plural = _("bank reports")
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "sha256"], name="bank_report_once_per_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"
