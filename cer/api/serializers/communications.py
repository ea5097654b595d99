"""Communications: what a community sent, a new message to send, a member's messages and replies."""

from __future__ import annotations

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.communications.models import (
    Communication,
    CommunicationRecipient,
    RecipientFilter,
    ReplyKind,
)


class CommunicationSerializer(serializers.ModelSerializer):
    recipients = serializers.IntegerField(source="recipients.count", read_only=True)
    answered = serializers.SerializerMethodField()

    class Meta:
        model = Communication
        fields = [
            "id",
            "subject_it",
            "body_it",
            "subject_en",
            "body_en",
            "recipient_filter",
            "configuration",
            "urgent",
            "reply_kind",
            "reply_due_date",
            "sent_at",
            "recipients",
            "answered",
        ]
        read_only_fields = fields

    def get_answered(self, communication: Communication) -> int:
        return communication.recipients.filter(replied_at__isnull=False).count()


class CommunicationCreateSerializer(StrictSerializer):
    subject_it = serializers.CharField(max_length=200)
    body_it = serializers.CharField()
    subject_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body_en = serializers.CharField(required=False, allow_blank=True, default="")
    recipient_filter = serializers.ChoiceField(choices=RecipientFilter.choices)
    configuration = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    urgent = serializers.BooleanField(required=False, default=False)
    reply_kind = serializers.ChoiceField(choices=ReplyKind.choices, default=ReplyKind.NONE)
    reply_due_date = serializers.DateField(required=False, allow_null=True)
    idempotency_key = serializers.CharField(
        max_length=64, help_text="Any unique text: the same key twice sends once."
    )


class SentSerializer(serializers.Serializer):
    communication = CommunicationSerializer()
    sent = serializers.BooleanField(help_text="False when this key had already been sent.")


class MessageSerializer(serializers.ModelSerializer):
    community = serializers.CharField(source="communication.community.name", read_only=True)
    sent_at = serializers.DateTimeField(source="communication.sent_at", read_only=True)
    reply_kind = serializers.CharField(source="communication.reply_kind", read_only=True)
    reply_due_date = serializers.DateField(
        source="communication.reply_due_date", read_only=True, allow_null=True
    )

    class Meta:
        model = CommunicationRecipient
        fields = [
            "id",
            "community",
            "sent_at",
            "language",
            "subject",
            "body",
            "read_at",
            "reply_kind",
            "reply_due_date",
            "replied_at",
            "reply_text",
            "reply_file_name",
        ]
        read_only_fields = fields


class ReplySerializer(StrictSerializer):
    id = serializers.IntegerField(min_value=1, help_text="The message answered.")
    text = serializers.CharField(required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False)
    iban = serializers.CharField(required=False, max_length=40)
