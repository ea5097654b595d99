"""Member statements (versioned, never edited), disputes on their lines and SEPA payouts."""

from __future__ import annotations

import secrets
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


class StatementStatus(models.TextChoices):
    CURRENT = "CURRENT", _("Current")
    SUPERSEDED = "SUPERSEDED", _("Replaced by a corrected version")


class Statement(models.Model):
    """What a member receives for a month: lines that add up to the amount, one version."""

    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("member"),
    )
    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("configuration"),
    )
    month = models.DateField(_("month"))
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementStatus.choices, default=StatementStatus.CURRENT
    )
    distribution = models.ForeignKey(
        "distribution.Distribution",
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("distribution"),
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaces"),
    )
    reason = models.CharField(_("reason for this version"), max_length=300, blank=True)
    amount_eur = amount_field(_("amount [EUR]"))
    provisional = models.BooleanField(_("provisional"), default=False)
    # Copied at issue so that the statement does not change when the member record does.
    member_name = models.CharField(_("member name"), max_length=200)
    file_token = models.CharField(_("file token"), max_length=24, default=_token, editable=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-month", "member", "-version"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "configuration", "month", "version"],
                name="statement_one_version",
            ),
            models.UniqueConstraint(
                fields=["member", "configuration", "month"],
                condition=Q(status="CURRENT"),
                name="statement_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_name} {self.month:%Y-%m} v{self.version}"

    @property
    def community(self):  # type: ignore[no-untyped-def]
        return self.configuration.community


class LineKind(models.TextChoices):
    SHARE = "SHARE", _("Share of the month's amount")
    CORRECTION = "CORRECTION", _("55 %/45 % correction")
    ADJUSTMENT = "ADJUSTMENT", _("Adjustment after a dispute")


class StatementLine(models.Model):
    """One line of a statement; a corrected version copies lines and keeps their origin."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("statement")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices)
    description = models.CharField(_("description"), max_length=300)
    amount_eur = amount_field(_("amount [EUR]"))
    origin = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("first issued as"),
    )

    class Meta:
        ordering = ["statement", "position"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")

    def __str__(self) -> str:
        return f"{self.description}: {self.amount_eur}"

    @property
    def root_id(self) -> int:
        return self.origin_id or self.pk

    @property
    def configuration(self):  # type: ignore[no-untyped-def]
        return self.statement.configuration


class DisputeState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    ANSWERED = "ANSWERED", _("Answered")
    ESCALATED = "ESCALATED", _("With the mediator")
    RESOLVED = "RESOLVED", _("Resolved")
    REJECTED = "REJECTED", _("Rejected")


class Dispute(models.Model):
    """A member contests a statement line; the referente answers; a mediator may be invited."""

    line = models.ForeignKey(
        StatementLine, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("line")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    state = models.CharField(
        _("state"), max_length=9, choices=DisputeState.choices, default=DisputeState.OPEN
    )
    message = models.TextField(_("message"))
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediated_disputes",
        verbose_name=_("mediator"),
    )
    corrected_statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("corrected statement"),
    )
    opened_at = models.DateTimeField(_("opened at"))

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.member} — {self.line} ({self.state})"

    @property
    def configuration(self):  # type: ignore[no-untyped-def]
        return self.line.statement.configuration


class DisputeEvent(models.Model):
    """One step of a dispute: who said what, and the state before and after."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="events", verbose_name=_("dispute")
    )
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_state = models.CharField(_("from"), max_length=9, blank=True)
    to_state = models.CharField(_("to"), max_length=9)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["dispute", "at", "pk"]
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")


class PayoutStatus(models.TextChoices):
    FINAL = "FINAL", _("Final (file issued)")
    CANCELLED = "CANCELLED", _("Cancelled")


class PayoutBatch(models.Model):
    """A SEPA credit transfer of members' shares for a period; one final batch per period."""

    configuration = models.ForeignKey(
        "communities.Configuration",
        on_delete=models.PROTECT,
        related_name="payout_batches",
        verbose_name=_("configuration"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (exclusive)"))
    status = models.CharField(
        _("status"), max_length=9, choices=PayoutStatus.choices, default=PayoutStatus.FINAL
    )
    debtor_name = models.CharField(_("account holder"), max_length=70)
    debtor_iban = models.CharField(_("debit account IBAN"), max_length=34)
    debtor_bic = models.CharField(_("BIC"), max_length=11)
    execution_date = models.DateField(_("execution date"))
    total_eur = amount_field(_("total [EUR]"))
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

    class Meta:
        ordering = ["-period_start", "-pk"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "period_start", "period_end"],
                condition=Q(status="FINAL"),
                name="payout_batch_once_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.configuration} {self.period_start}–{self.period_end}: {self.total_eur}"


class PayoutItem(models.Model):
    """One credit transfer of a batch: a member, an IBAN, an amount."""

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    name = models.CharField(_("name"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    amount_eur = amount_field(_("amount [EUR]"))
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35)

    class Meta:
        ordering = ["batch", "name"]
        verbose_name = _("payout item")
        verbose_name_plural = _("payout items")


class PaidLine(models.Model):
    """A statement line (its first issue) paid by a payout item: each is paid once."""

    item = models.ForeignKey(
        PayoutItem, on_delete=models.CASCADE, related_name="lines", verbose_name=_("item")
    )
    line = models.OneToOneField(
        StatementLine, on_delete=models.PROTECT, related_name="payment", verbose_name=_("line")
    )

    class Meta:
        verbose_name = _("paid line")
        verbose_name_plural = _("paid lines")
