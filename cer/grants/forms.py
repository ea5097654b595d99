"""Forms of the PNRR grant file: they parse input; the services apply the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.core.models import Municipality
from cer.grants.models import (
    CostCategory,
    CostItem,
    DisbursementRequest,
    GrantApplication,
    PhaseKind,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def amount(label: Any, *, required: bool = True) -> forms.DecimalField:
    """An amount in EUR: more than two decimals is refused with a message naming the field."""
    return forms.DecimalField(
        label=label, max_digits=12, decimal_places=2, min_value=0, required=required
    )


class ApplicationForm(forms.ModelForm):
    municipality_code = forms.CharField(
        label=_("Municipality (ISTAT code)"), max_length=6, required=False
    )
    requested_grant_eur = amount(_("Requested grant [EUR]"), required=False)

    class Meta:
        model = GrantApplication
        fields = [
            "applicant",
            "current_population",
            "population_source",
            "population_date",
            "works_start_date",
            "works_end_date",
            "expected_service_date",
            "requested_grant_eur",
        ]
        widgets = {
            "population_date": DATE,
            "works_start_date": DATE,
            "works_end_date": DATE,
            "expected_service_date": DATE,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.municipality_id and not self.is_bound:
            self.initial["municipality_code"] = self.instance.municipality_id

    def clean_municipality_code(self) -> Municipality | None:
        code = self.cleaned_data["municipality_code"].strip()
        if not code:
            return None
        municipality = Municipality.objects.filter(istat_code=code).first()
        if municipality is None:
            raise forms.ValidationError(_("No municipality has this ISTAT code."))
        return municipality

    def values(self) -> dict[str, Any]:
        """The cleaned values under the service's field names."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["municipality"] = self.cleaned_data["municipality_code"]
        return data


class CostItemForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=CostCategory.choices)
    description = forms.CharField(label=_("Description"), max_length=200)
    amount_eur = amount(_("Amount [EUR]"))
    claimed = forms.BooleanField(
        label=_("Claimed in the PNRR application"), required=False, initial=True
    )


class RemoveCostItemForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Cost item"), queryset=CostItem.objects.none())

    def __init__(self, *args: Any, application: GrantApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = application.cost_items.all()  # type: ignore[attr-defined]


class SubmitForm(forms.Form):
    gse_reference = forms.CharField(
        label=_("GSE application number"), max_length=60, required=False
    )


class DecisionForm(forms.Form):
    granted_eur = amount(_("Granted [EUR]"), required=False)
    refusal_reason = forms.CharField(
        label=_("Reason of the refusal"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DisbursementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Phase"), choices=PhaseKind.choices)
    requested_eur = amount(_("Requested [EUR]"))
    guarantee_issuer = forms.CharField(
        label=_("Guarantee issued by"), max_length=200, required=False
    )
    guarantee_reference = forms.CharField(
        label=_("Guarantee reference"), max_length=100, required=False
    )
    guarantee_amount_eur = amount(_("Guarantee amount [EUR]"), required=False)
    progress_report = forms.FileField(label=_("Progress report"), required=False)
    tip_contract_date = forms.DateField(
        label=_("TIP contract signed on"), required=False, widget=DATE
    )


class ExpenseDocumentForm(forms.Form):
    request = forms.ModelChoiceField(
        label=_("Request"), queryset=DisbursementRequest.objects.none()
    )
    cost_item = forms.ModelChoiceField(label=_("Cost item"), queryset=CostItem.objects.none())
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40)
    sdi_id = forms.CharField(label=_("SdI identifier"), max_length=40)
    supplier_vat = forms.CharField(label=_("Supplier VAT number"), max_length=11)
    invoice_date = forms.DateField(label=_("Invoice date"), widget=DATE)
    amount_eur = amount(_("Eligible amount [EUR]"))
    payment_reference = forms.CharField(label=_("Proof of payment (CRO/TRN)"), max_length=60)
    payment_date = forms.DateField(label=_("Paid on"), widget=DATE)
    file = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args: Any, application: GrantApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = application.disbursements.filter(  # type: ignore[attr-defined]
            state="DRAFT"
        )
        self.fields["cost_item"].queryset = application.cost_items.filter(claimed=True)  # type: ignore[attr-defined]


class PhaseStateForm(forms.Form):
    ACTIONS = (
        ("send", _("Send to GSE")),
        ("paid", _("Record the payment")),
        ("reject", _("Record the rejection")),
    )
    request = forms.ModelChoiceField(
        label=_("Request"), queryset=DisbursementRequest.objects.none()
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    received_eur = amount(_("Received [EUR]"), required=False)
    received_date = forms.DateField(label=_("Received on"), required=False, widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False)

    def __init__(self, *args: Any, application: GrantApplication, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = application.disbursements.all()  # type: ignore[attr-defined]


class OtherGrantForm(forms.Form):
    source = forms.CharField(label=_("Granted by"), max_length=200)
    amount_eur = amount(_("Amount [EUR]"))
    grant_date = forms.DateField(label=_("Granted on"), widget=DATE)
    cost_items = forms.ModelMultipleChoiceField(
        label=_("Cost items covered"), queryset=CostItem.objects.none(), required=False
    )
    covered_description = forms.CharField(label=_("Costs covered"), max_length=200, required=False)

    def __init__(self, *args: Any, application: GrantApplication | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if application is not None:
            self.fields["cost_items"].queryset = application.cost_items.all()  # type: ignore[attr-defined]
