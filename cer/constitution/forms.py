"""Forms of the constitution wizard: each step is validated on the server, field by field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community, Configuration, IncentiveDistribution
from cer.communities.uniqueness import community_code_problem, pod_problem
from cer.core.form_fields import MunicipalityField
from cer.core.formsets import UniqueFieldFormSet
from cer.core.validators import (
    normalise_code,
    validate_not_in_future,
    validate_percentage,
    validate_pod,
)
from cer.members.forms import MemberForm
from cer.plants.models import EnergySource


class CommunityForm(forms.ModelForm):
    seat_municipality = MunicipalityField(label=_("registered office municipality"))

    class Meta:
        model = Community
        fields = [
            "kind",
            "legal_form",
            "name",
            "fiscal_code",
            "vat_number",
            "seat_address",
            "seat_municipality",
            "founding_date",
            "pec",
        ]
        widgets = {"founding_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "fiscal_code": _("The 11-digit tax code the Revenue Agency gave the entity."),
            "founding_date": _("Leave empty if the deed is not signed yet."),
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Without a user, nobody's records are visible: every conflict gets the neutral words.
        self.user = user or AnonymousUser()
        self.fields["fiscal_code"].widget.attrs.update(
            {"autocomplete": "off", "data-check": "fiscal_code"}
        )
        self.fields["vat_number"].widget.attrs["data-check"] = "vat_number"
        self.fields["pec"].widget.attrs["data-check"] = "pec"

    def clean_fiscal_code(self) -> str:
        code = normalise_code(self.cleaned_data["fiscal_code"])
        problem = community_code_problem(code, user=self.user, exclude_pk=self.instance.pk)
        if problem is not None:
            raise problem
        return code

    def clean_vat_number(self) -> str:
        return normalise_code(self.cleaned_data["vat_number"])

    def validate_unique(self) -> None:
        # The tax code, the only unique field, is checked in clean_fiscal_code: the model's
        # own message would tell that a community with that code exists somewhere.
        return


class FoundingMemberForm(MemberForm):
    """One founding member; a person already on the platform is invited later instead."""


class BaseFoundingMemberFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, taken_codes: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.taken_codes = taken_codes
        super().__init__(*args, **kwargs)

    def clean(self) -> None:
        seen = set(self.taken_codes)
        for form in self.forms:
            code = getattr(form, "cleaned_data", {}).get("fiscal_code")
            if not code:
                continue
            if code in seen:
                form.add_error(
                    "fiscal_code", _("This tax code appears twice among the founding members.")
                )
            seen.add(code)


FoundingMemberFormSet = forms.formset_factory(
    FoundingMemberForm, formset=BaseFoundingMemberFormSet, extra=1, max_num=50
)


class ConfigurationForm(forms.ModelForm):
    class Meta:
        model = Configuration
        fields = ["name", "primary_substation", "market_zone", "region"]

    def clean_primary_substation(self) -> str:
        return normalise_code(self.cleaned_data["primary_substation"])


class BaseConfigurationFormSet(UniqueFieldFormSet):
    unique_field = "primary_substation"
    duplicate_message = _("Each primary substation is one configuration.")


ConfigurationFormSet = forms.formset_factory(
    ConfigurationForm,
    formset=BaseConfigurationFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=20,
)


class PointForm(forms.Form):
    """A connection point of a founding member, with the plant behind it if there is one."""

    pod = forms.CharField(label=_("POD code"), max_length=20, validators=[validate_pod])
    holder = forms.ChoiceField(label=_("holder"))
    primary_substation = forms.ChoiceField(label=_("primary substation"))
    contracted_power_kw = forms.DecimalField(
        label=_("contracted power [kW]"), min_value=Decimal(0), max_digits=10, decimal_places=3
    )
    has_withdrawal = forms.BooleanField(label=_("withdraws energy"), required=False, initial=True)
    has_injection = forms.BooleanField(label=_("injects energy"), required=False)
    building = forms.CharField(
        label=_("building or condominium"),
        max_length=200,
        required=False,
        help_text=_("Needed for a group of self-consumers: all points in one building."),
    )
    plant_name = forms.CharField(label=_("plant name"), max_length=200, required=False)
    plant_source = forms.ChoiceField(
        label=_("plant source"),
        choices=[("", "---------"), *EnergySource.choices],
        required=False,
    )
    plant_power_kw = forms.DecimalField(
        label=_("plant power [kW]"),
        min_value=Decimal("0.001"),
        max_digits=10,
        decimal_places=3,
        required=False,
    )
    plant_entry_into_service_date = forms.DateField(
        label=_("plant entry into service"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    plant_municipality = MunicipalityField(label=_("plant municipality"), required=False)

    PLANT_FIELDS = (
        "plant_name",
        "plant_source",
        "plant_power_kw",
        "plant_entry_into_service_date",
        "plant_municipality",
    )

    def __init__(
        self,
        *args: Any,
        holders: list[tuple[str, str]],
        substations: list[tuple[str, str]],
        today: dt.date,
        user: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.user = user or AnonymousUser()
        self.fields["holder"].choices = [("", "---------"), *holders]  # type: ignore[attr-defined]
        self.fields["primary_substation"].choices = [  # type: ignore[attr-defined]
            ("", "---------"),
            *substations,
        ]
        self.fields["pod"].widget.attrs["data-check"] = "pod"

    def clean_pod(self) -> str:
        pod = normalise_code(self.cleaned_data["pod"])
        problem = pod_problem(pod, user=self.user)
        if problem is not None:
            raise problem
        return pod

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("has_withdrawal") or data.get("has_injection")):
            self.add_error("has_withdrawal", _("A connection point withdraws, injects or both."))
        given = [name for name in self.PLANT_FIELDS if data.get(name) not in (None, "")]
        if given:
            for name in self.PLANT_FIELDS:
                if name not in given and name not in self.errors:
                    self.add_error(name, _("Fill in every field of the plant, or none."))
            if not data.get("has_injection"):
                self.add_error("has_injection", _("A point with a plant injects energy."))
            try:
                validate_not_in_future(data.get("plant_entry_into_service_date"), today=self.today)
            except ValidationError as error:
                self.add_error("plant_entry_into_service_date", error)
        return data

    @property
    def has_plant(self) -> bool:
        return bool(self.cleaned_data.get("plant_name"))


class BasePointFormSet(UniqueFieldFormSet):
    unique_field = "pod"
    duplicate_message = _("This POD appears twice.")


PointFormSet = forms.formset_factory(
    PointForm, formset=BasePointFormSet, extra=0, min_num=1, validate_min=True, max_num=200
)


class DistributionForm(forms.ModelForm):
    class Meta:
        model = IncentiveDistribution
        fields = ["model", "producers_pct", "consumers_pct", "community_fund_pct"]
        help_texts = {
            "community_fund_pct": _("The three shares add up to 100."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("producers_pct", "consumers_pct", "community_fund_pct"):
            self.fields[name].validators.append(validate_percentage)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        shares = [data.get(n) for n in ("producers_pct", "consumers_pct", "community_fund_pct")]
        if all(share is not None for share in shares) and sum(shares) != 100:  # type: ignore[arg-type]
            self.add_error(
                "community_fund_pct",
                _("The shares add up to %(total)s %%, not 100 %%.") % {"total": sum(shares)},  # type: ignore[arg-type]
            )
        return data

    def validate_unique(self) -> None:
        # The community does not exist yet: nothing to be unique against.
        return


class ReviewForm(forms.Form):
    draft_statute = forms.BooleanField(
        label=_("Draft the statute from the template"), required=False, initial=True
    )
    draft_regulation = forms.BooleanField(
        label=_("Draft the internal regulation from the template"), required=False, initial=True
    )
    confirm = forms.BooleanField(
        label=_("I confirm that the data are correct and I become the referente"),
        error_messages={"required": _("Tick this box to constitute the community.")},
    )
