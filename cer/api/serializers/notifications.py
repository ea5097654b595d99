"""A user's notifications (their inbox) and the read marks."""

from __future__ import annotations

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "topic", "subject", "body", "link", "urgent", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(StrictSerializer):
    id = serializers.IntegerField(
        required=False, min_value=1, help_text="One notification; all of them when absent."
    )


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
