"""Forms of the collections pages: they parse input; the services check and store it.

Amounts are typed as text so that the service refuses more than two decimals with the
same words on the page and in the API.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.collections.models import RequestKind

_DATE = forms.DateInput(attrs={"type": "date"})


class RequestForm(forms.Form):
    member = forms.IntegerField(label=_("member"), widget=forms.Select)
    kind = forms.ChoiceField(label=_("kind"), choices=RequestKind.choices)
    amount_eur = forms.CharField(label=_("amount [EUR]"), max_length=20)
    due_date = forms.DateField(label=_("due date"), widget=_DATE)
    description = forms.CharField(label=_("description"), max_length=140)


class FeeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[(k, v) for k, v in RequestKind.choices if k != RequestKind.BALANCE_OWED],
    )
    amount_eur = forms.CharField(label=_("amount for each member [EUR]"), max_length=20)
    due_date = forms.DateField(label=_("due date"), widget=_DATE)
    description = forms.CharField(label=_("description"), max_length=140)
    series = forms.CharField(
        label=_("series"),
        max_length=40,
        help_text=_("A name for this fee (e.g. FEE-2025): a member is asked once per series."),
    )


class OwedForm(forms.Form):
    configuration = forms.IntegerField(label=_("configuration"), widget=forms.Select)
    due_date = forms.DateField(label=_("due date"), widget=_DATE)


class SettingsForm(forms.Form):
    creditor_id = forms.CharField(label=_("SEPA creditor identifier"), max_length=35)
    creditor_name = forms.CharField(label=_("creditor name"), max_length=70)
    creditor_iban = forms.CharField(label=_("account credited (IBAN)"), max_length=34)
    creditor_bic = forms.CharField(label=_("BIC"), max_length=11)
    prenotification_days = forms.IntegerField(
        label=_("pre-notification lead time [days]"), min_value=1, max_value=60, initial=14
    )
    pagopa_enabled = forms.BooleanField(label=_("collect through pagoPA"), required=False)
    pagopa_organisation_fiscal_code = forms.CharField(
        label=_("pagoPA organisation fiscal code"), max_length=11, required=False
    )
    pagopa_iban = forms.CharField(
        label=_("pagoPA account credited (IBAN)"), max_length=34, required=False
    )


class MandateForm(forms.Form):
    member = forms.IntegerField(label=_("member"), widget=forms.Select)
    signed_date = forms.DateField(label=_("signature date"), widget=_DATE, required=False)
    debtor_name = forms.CharField(label=_("account holder"), max_length=70)
    iban = forms.CharField(label=_("IBAN debited"), max_length=34)
    bic = forms.CharField(label=_("BIC"), max_length=11, required=False)


class IbanForm(forms.Form):
    iban = forms.CharField(label=_("new IBAN"), max_length=34)
    bic = forms.CharField(label=_("BIC"), max_length=11, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300)


class BatchForm(forms.Form):
    collection_date = forms.DateField(
        label=_("requested collection date"), widget=_DATE, required=False
    )
    requests = forms.TypedMultipleChoiceField(
        label=_("requests to collect"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every open request of a member with a mandate."),
    )


class ReissueForm(ReasonForm):
    collection_date = forms.DateField(label=_("new collection date"), widget=_DATE, required=False)


class ReportForm(forms.Form):
    file = forms.FileField(label=_("bank report (pain.002 or camt.054)"))
