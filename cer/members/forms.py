"""Forms of the onboarding: registration, personal data, connection points, decisions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.communities.forms import FoundingMemberForm
from cer.communities.models import Configuration
from cer.core.validators import normalise_code, validate_pod
from cer.members.models import Member
from cer.plants.models import ConnectionPoint


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("email of the person to invite"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class RegistrationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["email"].widget.attrs["autocomplete"] = "email"


class ProfileForm(FoundingMemberForm):
    """The applicant's own data; the tax code may not belong to someone registered."""

    def clean_fiscal_code(self) -> str:
        code = normalise_code(self.cleaned_data["fiscal_code"])
        if Member.objects.with_fiscal_code(code).exists():
            raise ValidationError(
                _(
                    "A person with this tax code is already registered: log in with that "
                    "account, or ask the referente."
                ),
                code="registered",
            )
        return code


class DeclaredPointForm(forms.Form):
    pod = forms.CharField(label=_("POD code"), max_length=20, validators=[validate_pod])
    configuration = forms.ModelChoiceField(
        label=_("primary substation"), queryset=Configuration.objects.none()
    )
    contracted_power_kw = forms.DecimalField(
        label=_("contracted power [kW]"), min_value=Decimal(0), max_digits=10, decimal_places=3
    )
    has_withdrawal = forms.BooleanField(label=_("withdraws energy"), required=False, initial=True)
    has_injection = forms.BooleanField(label=_("injects energy"), required=False)
    address = forms.CharField(label=_("address of the point"), max_length=200, required=False)

    def __init__(self, *args: Any, community: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["configuration"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Configuration.objects.filter(community=community)
        self.fields["pod"].widget.attrs["data-check"] = "pod"

    def clean_pod(self) -> str:
        pod = normalise_code(self.cleaned_data["pod"])
        if ConnectionPoint.objects.filter(pod=pod).exists():
            raise ValidationError(_("This POD is already registered in a community."))
        return pod

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("has_withdrawal") or data.get("has_injection")):
            self.add_error("has_withdrawal", _("A connection point withdraws, injects or both."))
        return data

    def as_declared(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pod": data["pod"],
            "configuration_id": data["configuration"].pk,
            "contracted_power_kw": str(data["contracted_power_kw"]),
            "has_withdrawal": data["has_withdrawal"],
            "has_injection": data["has_injection"],
            "address": data["address"],
        }


class BaseDeclaredPointFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            pod = getattr(form, "cleaned_data", {}).get("pod")
            if pod and pod in seen:
                form.add_error("pod", _("This POD appears twice."))
            if pod:
                seen.add(pod)


DeclaredPointFormSet = forms.formset_factory(
    DeclaredPointForm,
    formset=BaseDeclaredPointFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=20,
)


class ApprovalForm(forms.Form):
    valid_from = forms.DateField(
        label=_("member from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class EndMembershipForm(forms.Form):
    valid_to = forms.DateField(
        label=_("first day no longer a member"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
