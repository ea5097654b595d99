"""The back office's plant registration form: validated on the server, field by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.communities.substation_codes import normalise_substation_code
from cer.core.form_fields import MunicipalityField
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint, Plant


def _point_label(point: ConnectionPoint) -> str:
    return f"{point.pod} — {point.holder}"


class PlantRegistrationForm(forms.ModelForm):
    """A new plant behind one of the community's connection points."""

    municipality = MunicipalityField(
        label=_("municipality"),
        required=False,
        help_text=_("Where the plant stands, e.g. Spinea (VE): it gives the plant's region."),
    )

    class Meta:
        model = Plant
        fields = [
            "name",
            "connection_point",
            "owner",
            "source",
            "power_kw",
            "entry_into_service_date",
            "regime",
            "primary_substation",
            "municipality",
            "region",
            "superbonus_kw",
            "obligation_kw",
            "capital_grant_pct",
            "storage_power_kw",
            "storage_capacity_kwh",
            "censimp_code",
            "latitude",
            "longitude",
            "tilt_deg",
            "azimuth_deg",
            "planned_extension_kw",
        ]
        widgets = {
            "entry_into_service_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        }

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        today = timezone.localdate()
        point_field = self.fields["connection_point"]
        assert isinstance(point_field, forms.ModelChoiceField)
        point_field.queryset = ConnectionPoint.objects.filter(
            configuration__community=community
        ).select_related("holder")
        point_field.label_from_instance = _point_label  # type: ignore[method-assign,assignment]
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = Member.objects.filter(
            memberships__in=Membership.objects.active_on(today).filter(community=community)
        ).distinct()
        self.fields["primary_substation"].help_text = _(
            "The cabina primaria of the plant's connection point on the GSE map, e.g. "
            "AC001E01234. The checks compare it with the configuration's."
        )

    def clean_primary_substation(self) -> str:
        return normalise_substation_code(self.cleaned_data["primary_substation"])


class PlantEditForm(forms.ModelForm):
    """What a referente may correct on a registered plant; point and owner stay.

    Build it on a copy of the plant: a ModelForm writes the cleaned values onto its
    instance, and change_plant compares them with the plant as stored.
    """

    municipality = MunicipalityField(
        label=_("municipality"),
        required=False,
        help_text=_("Where the plant stands, e.g. Spinea (VE): it gives the plant's region."),
    )

    class Meta:
        model = Plant
        fields = [
            "name",
            "source",
            "power_kw",
            "entry_into_service_date",
            "regime",
            "primary_substation",
            "municipality",
            "region",
            "superbonus_kw",
            "obligation_kw",
            "capital_grant_pct",
            "investment_eur",
            "storage_power_kw",
            "storage_capacity_kwh",
            "censimp_code",
            "cadastral_sheet",
            "cadastral_parcel",
            "cadastral_subunit",
            "latitude",
            "longitude",
            "tilt_deg",
            "azimuth_deg",
            "planned_extension_kw",
        ]
        widgets = {
            "entry_into_service_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["primary_substation"].help_text = _(
            "The cabina primaria of the plant's connection point on the GSE map, e.g. "
            "AC001E01234. The checks compare it with the configuration's."
        )

    def clean_primary_substation(self) -> str:
        return normalise_substation_code(self.cleaned_data["primary_substation"])

    def values(self) -> dict[str, Any]:
        """The cleaned values, by field name, for change_plant.

        Read from the instance: the model's clean has normalised them (the region follows
        the municipality).
        """
        return {name: getattr(self.instance, name) for name in self.Meta.fields}


class PodChangeForm(forms.Form):
    """A connection point's new POD code and the first day the distributor uses it."""

    new_pod = forms.CharField(label=_("new POD code"), max_length=20)
    valid_from = forms.DateField(
        label=_("valid from"),
        help_text=_("First day the distributor uses the new code."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)
