"""Device accounts on the MQTT broker; the secret is shown once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cer.access import visibility
from cer.api.serializers.base import StrictModelSerializer
from cer.metering.models import Device, DeviceKind
from cer.plants.models import ConnectionPoint


class DeviceSerializer(StrictModelSerializer):
    connection_point = serializers.PrimaryKeyRelatedField(queryset=ConnectionPoint.objects.none())
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    topic_prefix = serializers.CharField(read_only=True)
    scopes = {"connection_point": visibility.connection_points}

    class Meta:
        model = Device
        fields = [
            "id",
            "connection_point",
            "name",
            "serial_number",
            "kind",
            "meter_channel",
            "counter_rollover_wh",
            "mqtt_username",
            "status",
            "topic_prefix",
            "created_at",
            "rotated_at",
        ]
        read_only_fields = ["id", "mqtt_username", "status", "created_at", "rotated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs


class DeviceSecretSerializer(DeviceSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("Shown once: store it in the device now.")
    )

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "secret"]
