"""The community's own accounts: the expense ledger, manual income, the yearly budget.

Income the platform already knows (GSE amounts, grants received, fees collected) is not
stored here: it is read from its owner each time (cer/treasury/income.py), so that it is
never typed twice. An expense is never edited: it may get its payment recorded once, and a
mistake is undone by a reversing entry (the same amounts with the opposite sign, which
refers to the original) plus a new entry; see docs/treasury.md.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cer.core.validators import validate_fiscal_code


def amount_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """An amount in EUR, to the cent (12 digits, 2 decimals)."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **options)


def stored_name(instance: Any, filename: str) -> str:
    """Return a random storage name: the user's file name is not trusted as a path."""
    extension = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"treasury/{secrets.token_hex(16)}.{extension}"


class ExpenseCategory(models.TextChoices):
    MANAGEMENT = "MANAGEMENT", _("Management")
    TECHNICAL = "TECHNICAL", _("Technical")
    INSURANCE = "INSURANCE", _("Insurance")
    LEGAL = "LEGAL", _("Legal")
    # Never typed: the fees GSE nets from what it pays come from settlement (income.py).
    GSE_FEES = "GSE_FEES", _("GSE fees")
    PLATFORM = "PLATFORM", _("Platform")
    OTHER = "OTHER", _("Other")


class IncomeCategory(models.TextChoices):
    GSE = "GSE", _("Incentives and contributions (GSE)")
    GRANTS = "GRANTS", _("Grants")
    FEES = "FEES", _("Membership fees")
    OTHER = "OTHER", _("Other income")


class DocumentKind(models.TextChoices):
    INVOICE = "INVOICE", _("Invoice")
    RECEIPT = "RECEIPT", _("Receipt")
    NOTICE = "NOTICE", _("Payment notice")
    OTHER = "OTHER", _("Other document")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "BANK_TRANSFER", _("Bank transfer")
    DIRECT_DEBIT = "DIRECT_DEBIT", _("Direct debit")
    CARD = "CARD", _("Card")
    CASH = "CASH", _("Cash")
    NETTED = "NETTED", _("Netted against an amount received")
    OTHER = "OTHER", _("Other")


class EntryIsFinal(Exception):
    """A paid expense, or any reversal, is never changed in place."""


class Expense(models.Model):
    """One entry of the expense ledger: a supplier's document and, once paid, its payment."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="expenses",
        verbose_name=_("community"),
    )
    supplier_name = models.CharField(_("supplier"), max_length=200)
    supplier_code = models.CharField(
        _("supplier's VAT number or tax code"),
        max_length=16,
        validators=[validate_fiscal_code],
    )
    document_kind = models.CharField(
        _("document kind"), max_length=12, choices=DocumentKind.choices
    )
    document_number = models.CharField(_("document number"), max_length=60)
    document_date = models.DateField(_("document date"))
    category = models.CharField(_("category"), max_length=10, choices=ExpenseCategory.choices)
    taxable_eur = amount_field(_("taxable amount [EUR]"))
    vat_rate = models.DecimalField(_("VAT rate [%]"), max_digits=5, decimal_places=2)
    vat_eur = amount_field(_("VAT [EUR]"))
    total_eur = amount_field(_("total [EUR]"))
    payment_date = models.DateField(_("paid on"), null=True, blank=True)
    payment_method = models.CharField(
        _("payment method"), max_length=13, choices=PaymentMethod.choices, blank=True
    )
    attachment = models.FileField(
        _("attachment"), upload_to=stored_name, max_length=200, blank=True
    )
    attachment_name = models.CharField(_("attachment's file name"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    # A reversing entry names the entry it cancels; an entry is reversed at most once.
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["-document_date", "-pk"]
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")

    def __str__(self) -> str:
        return f"{self.supplier_name} {self.document_number} {self.total_eur}"

    @property
    def is_paid(self) -> bool:
        return self.payment_date is not None

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def is_reversed(self) -> bool:
        return hasattr(self, "reversed_by")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("payment_date", "reverses")
            row = stored.first()
            if row is not None and (row["payment_date"] is not None or row["reverses"]):
                raise EntryIsFinal(f"expense {self.pk} is paid or a reversal")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise EntryIsFinal(f"expense {self.pk}: the ledger is never deleted from")


class IncomeEntry(models.Model):
    """Income typed by a manager: what the platform does not already know (a donation...)."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.PROTECT,
        related_name="income_entries",
        verbose_name=_("community"),
    )
    received_date = models.DateField(_("received on"))
    category = models.CharField(_("category"), max_length=6, choices=IncomeCategory.choices)
    description = models.CharField(_("description"), max_length=300)
    amount_eur = amount_field(_("amount [EUR]"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["-received_date", "-pk"]
        verbose_name = _("income entry")
        verbose_name_plural = _("income entries")

    def __str__(self) -> str:
        return f"{self.received_date} {self.description} {self.amount_eur}"


class BudgetSide(models.TextChoices):
    INCOME = "INCOME", _("Income")
    EXPENSE = "EXPENSE", _("Expenses")


class BudgetLine(models.Model):
    """The amount a community plans for one category of income or expense in a year."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="budget_lines",
        verbose_name=_("community"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    side = models.CharField(_("side"), max_length=7, choices=BudgetSide.choices)
    category = models.CharField(_("category"), max_length=10)
    amount_eur = amount_field(_("budget [EUR]"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["community", "year", "side", "category"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "year", "side", "category"], name="budget_line_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.side} {self.category}: {self.amount_eur}"
