"""Forms of the accounts pages: they only parse; cer/treasury/ledger.py and budget.py check
and store, so that the API and the pages refuse the same input with the same words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.treasury.budget import CATEGORIES, budget_field
from cer.treasury.ledger import VAT_RATES
from cer.treasury.models import (
    BudgetSide,
    DocumentKind,
    ExpenseCategory,
    IncomeCategory,
    PaymentMethod,
)

DATE = forms.DateInput(attrs={"type": "date"})


def _amount(label: Any, **options: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=2, **options)


class ExpenseForm(forms.Form):
    supplier_name = forms.CharField(label=_("Supplier"), max_length=200)
    supplier_code = forms.CharField(label=_("Supplier's VAT number or tax code"), max_length=16)
    document_kind = forms.ChoiceField(label=_("Document kind"), choices=DocumentKind.choices)
    document_number = forms.CharField(label=_("Document number"), max_length=60)
    document_date = forms.DateField(label=_("Document date"), widget=DATE)
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[c for c in ExpenseCategory.choices if c[0] != ExpenseCategory.GSE_FEES],
    )
    taxable_eur = _amount(_("Taxable amount [EUR]"), min_value=0)
    vat_rate = forms.TypedChoiceField(
        label=_("VAT rate [%]"),
        choices=[(str(rate), f"{rate} %") for rate in VAT_RATES],
        initial="22",
    )
    vat_eur = _amount(_("VAT [EUR]"), min_value=0)
    total_eur = _amount(_("Total [EUR]"), min_value=0, required=False)
    payment_date = forms.DateField(label=_("Paid on"), widget=DATE, required=False)
    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        choices=[("", "—"), *PaymentMethod.choices],
        required=False,
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class PaymentForm(forms.Form):
    payment_date = forms.DateField(label=_("Paid on"), widget=DATE)
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Why is the entry reversed?"), max_length=300)


class IncomeForm(forms.Form):
    received_date = forms.DateField(label=_("Received on"), widget=DATE)
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[c for c in IncomeCategory.choices if c[0] != IncomeCategory.GSE],
    )
    description = forms.CharField(label=_("Description"), max_length=300)
    amount_eur = _amount(_("Amount [EUR]"), min_value=0)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


class BudgetForm(forms.Form):
    """One amount per category of income and of expense for the year."""

    def __init__(self, *args: Any, initial_amounts: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for side, choices in CATEGORIES.items():
            prefix = _("Income") if side == BudgetSide.INCOME else _("Expenses")
            for code, label in choices.choices:
                name = budget_field(side, code)
                self.fields[name] = _amount(f"{prefix}: {label} [EUR]", min_value=0, required=False)
                self.fields[name].initial = initial_amounts.get(name)

    def amounts(self) -> dict[tuple[str, str], Any]:
        result = {}
        for side, choices in CATEGORIES.items():
            for code in choices.values:
                value = self.cleaned_data.get(budget_field(side, code))
                if value is not None:
                    result[(side, code)] = value
        return result


class UntilForm(forms.Form):
    until = forms.DateField(label=_("Actual figures up to"), widget=DATE, required=False)

    def clean_until(self) -> dt.date | None:
        return self.cleaned_data.get("until")
