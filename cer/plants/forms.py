"""The back office's plant registration form: validated on the server, field by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint, Plant


def _point_label(point: ConnectionPoint) -> str:
    return f"{point.pod} — {point.holder}"


class PlantRegistrationForm(forms.ModelForm):
    """A new plant behind one of the community's connection points."""

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
            "region",
            "superbonus_kw",
            "obligation_kw",
            "capital_grant_pct",
            "storage_power_kw",
            "storage_capacity_kwh",
            "censimp_code",
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
        return "".join(self.cleaned_data["primary_substation"].split()).upper()
