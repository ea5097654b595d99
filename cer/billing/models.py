"""Member statements (versioned, never edited), disputes, SEPA payouts and invoices."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cer.billing.line_text import shown_description
from cer.core.csv_export import cell_text
from cer.core.validators import validate_iban
from cercalc.money import format_fixed


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """A decimal field with 12 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


def _token() -> str:
    return secrets.token_urlsafe(12)


class StatementStatus(models.TextChoices):
    CURRENT = "CURRENT", _("Current")
    SUPERSEDED = "SUPERSEDED", _("Replaced by a corrected version")


class StatementQuerySet(models.QuerySet["Statement"]):
    def visible_to(self, user: Any, *, today: Any) -> StatementQuerySet:
        """settlement.view_statement as a filter: the user's own statements and those of the
        communities they manage on `today`; all of them for the platform staff.

        The API and the web pages (the yearly statement and its CSV and PDF) both use it, so
        a manager never sees what another community paid a member they share.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.is_staff:
            return self
        from cer.access.rules import MANAGER_ROLES
        from cer.members.models import Membership

        managed = (
            Membership.objects.active_on(today)
            .filter(member__user_id=user.pk, role__in=MANAGER_ROLES)
            .values("community_id")
        )
        return self.filter(Q(member__user_id=user.pk) | Q(configuration__community_id__in=managed))


class Statement(models.Model):
    """What a member receives for a month: lines that add up to the amount, one version."""

    # No index of its own: statement_one_version (member, configuration, month, version)
    # serves lookups by member.
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("member"),
        db_index=False,
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

    objects = StatementQuerySet.as_manager()

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
    VERSION = "VERSION", _("Change after a new settlement version")
    GSE = "GSE", _("Adjustment from GSE amounts")
    YEAR_EXCESS = "YEAR_EXCESS", _("55 %/45 % yearly true-up")


# The lines that make up a member's share of the month's calculation: a new settlement
# version replaces their sum and nothing else (dispute awards and later adjustments stay).
# GSE adjustments belong to it: a new version's share is computed on the month's amount with
# every GSE amount already in it (cer.distribution.services.month_amount).
SHARE_KINDS = frozenset({LineKind.SHARE, LineKind.CORRECTION, LineKind.VERSION, LineKind.GSE})


class StatementLine(models.Model):
    """One line of a statement; a corrected version copies lines and keeps their origin."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("statement")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind.choices)
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
    def shown_description(self) -> str:
        """The description in the reader's language (cer/billing/line_text.py)."""
        return shown_description(self)

    @property
    def configuration(self):  # type: ignore[no-untyped-def]
        return self.statement.configuration


class DisputeState(models.TextChoices):
    OPEN = "OPEN", _("Open")
    ANSWERED = "ANSWERED", _("Answered")
    ESCALATED = "ESCALATED", _("With the mediator")
    RESOLVED = "RESOLVED", _("Resolved")
    REJECTED = "REJECTED", _("Rejected")
    # The member closed it themselves; nothing is decided, no money moves.
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")


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


# Invoices (FatturaPA) ---------------------------------------------------------------------


class RegimeFiscale(models.TextChoices):
    """The issuer's tax regime as coded in FatturaPA (the community chooses it)."""

    RF01 = "RF01", _("RF01 – ordinary")
    RF02 = "RF02", _("RF02 – minimum taxpayers")
    RF18 = "RF18", _("RF18 – other")
    RF19 = "RF19", _("RF19 – flat-rate scheme")


class InvoicingProfile(models.Model):
    """What the community's invoices need beyond its registry data; one per community."""

    community = models.OneToOneField(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="invoicing_profile",
        verbose_name=_("community"),
    )
    regime_fiscale = models.CharField(
        _("tax regime"), max_length=4, choices=RegimeFiscale.choices, default=RegimeFiscale.RF01
    )
    seat_postal_code = models.CharField(
        _("postal code of the registered office"),
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{5}$", _("Five digits."))],
    )
    iban = models.CharField(
        _("IBAN for payments"), max_length=34, blank=True, validators=[validate_iban]
    )
    # Counter of the files sent (FatturaPA ProgressivoInvio), advanced under a row lock.
    last_transmission = models.PositiveIntegerField(_("last transmission number"), default=0)

    class Meta:
        verbose_name = _("invoicing profile")
        verbose_name_plural = _("invoicing profiles")

    def __str__(self) -> str:
        return str(self.community)


class InvoiceCounter(models.Model):
    """The last number given to an invoice of a community in a calendar year."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="invoice_counter_per_year")
        ]


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Draft")
    ISSUED = "ISSUED", _("Issued")
    CANCELLED = "CANCELLED", _("Cancelled by a credit note")
    # SdI refused the file (notifica di scarto): for tax purposes the invoice was not
    # issued; it keeps its number and date and is sent again in a corrected file.
    REJECTED = "REJECTED", _("Rejected by SdI: correct it and send it again")


class DocumentType(models.TextChoices):
    TD01 = "TD01", _("TD01 – invoice")
    TD04 = "TD04", _("TD04 – credit note")


class Natura(models.TextChoices):
    """Why a line bears no VAT (FatturaPA `Natura`); the user chooses, the platform does not."""

    N1 = "N1", _("N1 – excluded under art. 15")
    N2_1 = "N2.1", _("N2.1 – not subject, arts. 7 to 7-septies")
    N2_2 = "N2.2", _("N2.2 – not subject, other cases")
    N3_1 = "N3.1", _("N3.1 – not taxable, exports")
    N3_2 = "N3.2", _("N3.2 – not taxable, intra-EU supplies")
    N3_3 = "N3.3", _("N3.3 – not taxable, supplies to San Marino")
    N3_4 = "N3.4", _("N3.4 – not taxable, treated as exports")
    N3_5 = "N3.5", _("N3.5 – not taxable, after a declaration of intent")
    N3_6 = "N3.6", _("N3.6 – not taxable, other cases")
    N4 = "N4", _("N4 – exempt")
    N5 = "N5", _("N5 – margin scheme")
    N6_1 = "N6.1", _("N6.1 – reverse charge, scrap")
    N6_2 = "N6.2", _("N6.2 – reverse charge, gold and silver")
    N6_3 = "N6.3", _("N6.3 – reverse charge, construction subcontracting")
    N6_4 = "N6.4", _("N6.4 – reverse charge, buildings")
    N6_5 = "N6.5", _("N6.5 – reverse charge, mobile phones")
    N6_6 = "N6.6", _("N6.6 – reverse charge, electronic products")
    N6_7 = "N6.7", _("N6.7 – reverse charge, construction services")
    N6_8 = "N6.8", _("N6.8 – reverse charge, energy sector")
    N6_9 = "N6.9", _("N6.9 – reverse charge, other cases")
    N7 = "N7", _("N7 – VAT paid in another EU country")


# The rates a line may carry [%]; 0 needs a Natura, the others must not have one.
VAT_RATES = (Decimal("22"), Decimal("10"), Decimal("5"), Decimal("4"), Decimal("0"))


class Invoice(models.Model):
    """An electronic invoice (or credit note) issued by a community; immutable once issued.

    The parties' data are copied onto the invoice when the draft is written, so later
    changes to the member or the community do not alter a document already issued.
    """

    # What may still change after issue: the sending outcome and the cancellation.
    MUTABLE_AFTER_ISSUE = frozenset({"status", "sent_at", "transmission_receipt"})
    # What a file rejected by SdI may correct before it is sent again: the customer's data
    # and the new file (docs/invoices.md). Number, date, issuer and lines never change.
    MUTABLE_WHEN_REJECTED = MUTABLE_AFTER_ISSUE | {
        "member",
        "customer_name",
        "customer_first_name",
        "customer_last_name",
        "customer_fiscal_code",
        "customer_vat_number",
        "customer_address",
        "customer_postal_code",
        "customer_city",
        "customer_province",
        "customer_country",
        "sdi_code",
        "customer_pec",
        "transmission_number",
        "file_name",
        "xml",
    }

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("community"),
    )
    document_type = models.CharField(
        _("document type"), max_length=4, choices=DocumentType.choices, default=DocumentType.TD01
    )
    status = models.CharField(
        _("status"), max_length=9, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("invoice credited"),
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("member invoiced"),
    )
    customer_name = models.CharField(_("customer name"), max_length=80)
    customer_first_name = models.CharField(_("first name"), max_length=60, blank=True)
    customer_last_name = models.CharField(_("last name"), max_length=60, blank=True)
    customer_fiscal_code = models.CharField(_("customer tax code"), max_length=16, blank=True)
    customer_vat_number = models.CharField(_("customer VAT number"), max_length=11, blank=True)
    customer_address = models.CharField(_("customer address"), max_length=60)
    customer_postal_code = models.CharField(
        _("customer postal code"),
        max_length=5,
        validators=[RegexValidator(r"^[0-9]{5}$", _("Five digits."))],
    )
    customer_city = models.CharField(_("customer municipality"), max_length=60)
    customer_province = models.CharField(_("customer province"), max_length=2, blank=True)
    customer_country = models.CharField(_("customer country"), max_length=2, default="IT")
    sdi_code = models.CharField(
        _("SdI destination code"),
        max_length=7,
        default="0000000",
        validators=[RegexValidator(r"^[A-Z0-9]{7}$", _("Seven letters or digits."))],
    )
    customer_pec = models.EmailField(_("customer PEC"), blank=True)
    # Copied from the community and its profile when the invoice is issued.
    issuer_name = models.CharField(_("issuer name"), max_length=80, blank=True)
    issuer_fiscal_code = models.CharField(_("issuer tax code"), max_length=16, blank=True)
    issuer_vat_number = models.CharField(_("issuer VAT number"), max_length=11, blank=True)
    issuer_address = models.CharField(_("issuer address"), max_length=60, blank=True)
    issuer_postal_code = models.CharField(_("issuer postal code"), max_length=5, blank=True)
    issuer_city = models.CharField(_("issuer municipality"), max_length=60, blank=True)
    issuer_province = models.CharField(_("issuer province"), max_length=2, blank=True)
    regime_fiscale = models.CharField(_("tax regime"), max_length=4, blank=True)
    iban = models.CharField(_("IBAN for payments"), max_length=34, blank=True)
    taxable_eur = amount_field(_("taxable amount [EUR]"), default=Decimal("0.00"))
    tax_eur = amount_field(_("VAT [EUR]"), default=Decimal("0.00"))
    total_eur = amount_field(_("total [EUR]"), default=Decimal("0.00"))
    transmission_number = models.CharField(_("transmission number"), max_length=5, blank=True)
    file_name = models.CharField(_("file name"), max_length=40, blank=True)
    xml = models.TextField(_("FatturaPA file"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    transmission_receipt = models.CharField(_("transmission receipt"), max_length=300, blank=True)
    file_token = models.CharField(_("file token"), max_length=24, default=_token, editable=False)
    created_at = models.DateTimeField(_("created at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "-number", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "year", "number"], name="invoice_number_once_per_year"
            ),
            models.CheckConstraint(
                condition=Q(status="DRAFT") | (Q(number__isnull=False) & Q(year__isnull=False)),
                name="invoice_issued_has_number",
            ),
        ]

    def __str__(self) -> str:
        if self.number is None:
            return f"{self.community} — {_('draft')} {self.pk}"
        return f"{self.community} — {self.number}/{self.year}"

    @property
    def display_number(self) -> str:
        """The number printed on the document: number/year (FatturaPA `Numero`)."""
        return f"{self.number}/{self.year}" if self.number is not None else ""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            changing = set(kwargs.get("update_fields") or ())
            allowed = (
                self.MUTABLE_WHEN_REJECTED
                if stored == InvoiceStatus.REJECTED
                else self.MUTABLE_AFTER_ISSUE
            )
            if stored not in (None, InvoiceStatus.DRAFT) and not (changing and changing <= allowed):
                raise InvoiceImmutable(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status != InvoiceStatus.DRAFT:
            raise InvoiceImmutable(self)
        return super().delete(*args, **kwargs)


class InvoiceImmutable(Exception):
    """An issued invoice cannot be changed or deleted: correct it with a credit note."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(f"invoice {invoice.pk} is {invoice.status.lower()} and cannot change")


class InvoiceLine(models.Model):
    """One line: quantity x unit price, with a VAT rate or, at 0 %, the reason (Natura)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=1000)
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=8)
    unit_price_eur = models.DecimalField(_("unit price [EUR]"), max_digits=20, decimal_places=8)
    vat_rate = models.DecimalField(_("VAT rate [%]"), max_digits=5, decimal_places=2)
    natura = models.CharField(_("VAT nature"), max_length=4, choices=Natura.choices, blank=True)
    total_eur = amount_field(_("line total [EUR]"))

    class Meta:
        ordering = ["invoice", "position"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.total_eur}"

    @property
    def quantity_text(self) -> str:
        """The quantity as a person reads it, with 2 to 8 decimals: "1,50" in Italian."""
        return cell_text(Decimal(format_fixed(self.quantity, max_places=8)))

    @property
    def unit_price_text(self) -> str:
        """The unit price as a person reads it, with 2 to 8 decimals: "0,118" in Italian."""
        return cell_text(Decimal(format_fixed(self.unit_price_eur, max_places=8)))

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft(self.invoice_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_unless_draft(self.invoice_id)
        return super().delete(*args, **kwargs)


def _refuse_unless_draft(invoice_id: int | None) -> None:
    if invoice_id is None:
        return
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is not None and invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceImmutable(invoice)


class InvoiceTransmission(models.Model):
    """One FatturaPA file of an invoice handed over for SdI, and SdI's rejection of it if any.

    The first is written when the invoice is issued; a file rejected by SdI is followed by a
    corrected one with the same number and date under a new progressive file name. Every
    file is kept as it was sent.
    """

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="transmissions", verbose_name=_("invoice")
    )
    transmission_number = models.CharField(_("transmission number"), max_length=5)
    file_name = models.CharField(_("file name"), max_length=40)
    xml = models.TextField(_("FatturaPA file"))
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    receipt = models.CharField(_("transmission receipt"), max_length=300, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    sdi_identifier = models.CharField(_("SdI identifier"), max_length=50, blank=True)
    # "<code>: <description>" per error of the notice, one a line, as SdI wrote them.
    rejection_reason = models.TextField(_("reason for the rejection"), blank=True)

    class Meta:
        ordering = ["invoice", "created_at", "pk"]
        verbose_name = _("invoice transmission")
        verbose_name_plural = _("invoice transmissions")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "transmission_number"], name="invoice_transmission_once"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


# The payout models live in their own module (payout_models.py); they are imported here so
# that Django registers them and `cer.billing.models.PayoutBatch` keeps working.
from cer.billing.payout_models import (  # noqa: E402
    LIVE_PAYOUT_STATUSES,
    BankReport,
    BankReportKind,
    PaidLine,
    PayoutBatch,
    PayoutItem,
    PayoutItemStatus,
    PayoutSettings,
    PayoutStatus,
)

__all__ = [
    "LIVE_PAYOUT_STATUSES",
    "BankReport",
    "BankReportKind",
    "PaidLine",
    "PayoutBatch",
    "PayoutItem",
    "PayoutItemStatus",
    "PayoutSettings",
    "PayoutStatus",
]
