"""Connection points, plants and a plant's incentive."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

from cer.access import visibility
from cer.api.fields import CodeField
from cer.api.serializers.base import StrictModelSerializer, request_user
from cer.communities.uniqueness import pod_problem
from cer.core.validators import validate_pod
from cer.plants.models import ConnectionPoint, Plant


class ConnectionPointSerializer(StrictModelSerializer):
    scopes = {"configuration": visibility.configurations, "holder": visibility.members}

    # Unique on the platform: validate() refuses a taken POD without revealing where it is.
    pod = CodeField(max_length=15, validators=[validate_pod])

    class Meta:
        model = ConnectionPoint
        fields = [
            "id",
            "pod",
            "configuration",
            "holder",
            "voltage_level",
            "contracted_power_kw",
            "has_withdrawal",
            "has_injection",
            "address",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        configuration = attrs.get("configuration", getattr(self.instance, "configuration", None))
        pod = attrs.get("pod")
        if pod and configuration is not None:
            user = request_user(self)
            if "configuration" in attrs and not user.has_perm(
                "plants.register_plant", configuration
            ):
                # As for members: no answer about the POD to someone who may not register it.
                raise exceptions.PermissionDenied()
            problem = pod_problem(
                pod,
                user=user,
                community=configuration.community,
                exclude_pk=getattr(self.instance, "pk", None),
            )
            if problem is not None:
                raise serializers.ValidationError({"pod": problem.messages}, code="unique")
        return super().validate(attrs)


class PlantSerializer(StrictModelSerializer):
    scopes = {"connection_point": visibility.connection_points, "owner": visibility.members}

    is_existing = serializers.BooleanField(read_only=True)

    class Meta:
        model = Plant
        fields = [
            "id",
            "connection_point",
            "owner",
            "name",
            "source",
            "power_kw",
            "entry_into_service_date",
            "regime",
            "primary_substation",
            "municipality",
            "region",
            "storage_power_kw",
            "storage_capacity_kwh",
            "cadastral_sheet",
            "cadastral_parcel",
            "cadastral_subunit",
            "censimp_code",
            "superbonus_kw",
            "obligation_kw",
            "capital_grant_pct",
            "investment_eur",
            "is_existing",
        ]


class IncentiveStatusSerializer(serializers.Serializer):
    plant = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField()
    regime = serializers.CharField()
    is_existing = serializers.BooleanField()
    power_kw = serializers.DecimalField(max_digits=10, decimal_places=3)
    entry_into_service_date = serializers.DateField()
    market_zone = serializers.CharField()
    amount_eur = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    months = serializers.ListField(
        child=serializers.CharField(), help_text=_("The settled months summed, as YYYY-MM.")
    )
