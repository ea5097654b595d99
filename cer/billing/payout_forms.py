"""Forms of the payout pages: a new batch, the minimum transfer, a batch's life, bank reports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.billing.models import PayoutItemStatus
from cer.core.validators import normalise_code, validate_iban
from cer.settlement.forms import MonthField


class PayoutForm(forms.Form):
    period_start = MonthField(label=_("From month (YYYY-MM)"))
    period_end = MonthField(label=_("To month, included (YYYY-MM)"))
    debtor_name = forms.CharField(label=_("Account holder"), max_length=70)
    debtor_iban = forms.CharField(
        label=_("Debit account IBAN"), max_length=34, validators=[validate_iban]
    )
    debtor_bic = forms.CharField(label=_("BIC"), max_length=11)
    execution_date = forms.DateField(
        label=_("Execution date"),
        required=False,
        help_text=_("A TARGET2 business day, today or later; empty: the next business day."),
    )

    def clean_debtor_iban(self) -> str:
        return normalise_code(self.cleaned_data["debtor_iban"])

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The last month comes before the first."))
        return data


class MinimumTransferForm(forms.Form):
    minimum_transfer_eur = forms.DecimalField(
        label=_("Minimum transfer [EUR]"),
        min_value=0.01,
        max_digits=12,
        decimal_places=2,
        help_text=_("Members whose amount is smaller are carried to the next payout."),
    )


class SentForm(forms.Form):
    sent_date = forms.DateField(label=_("Sent to the bank on"))


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Why is the batch voided?"), max_length=300)


class OutcomeForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (PayoutItemStatus.SETTLED, _("Settled")),
            (PayoutItemStatus.REJECTED, _("Rejected")),
        ],
    )
    reason_code = forms.CharField(label=_("Reason code (e.g. AC04)"), max_length=4, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("outcome") == PayoutItemStatus.REJECTED and not (
            data.get("reason") or data.get("reason_code")
        ):
            self.add_error("reason", _("Say why the bank rejected the transfer."))
        return data


class BankReportForm(forms.Form):
    report = forms.FileField(
        label=_("Bank status report (pain.002 or camt.054, XML)"),
        help_text=_("At most 5 MB."),
    )
