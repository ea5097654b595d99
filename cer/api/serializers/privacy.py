"""Consents, the privacy notice, erasure, the processing register and the reports list."""

from __future__ import annotations

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.privacy.models import Consent, ConsentPurpose


class ConsentSerializer(serializers.ModelSerializer):
    notice = serializers.CharField(source="notice.version", read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "purpose", "notice", "given_at", "withdrawn_at"]
        read_only_fields = fields


class GiveConsentSerializer(StrictSerializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)


class PrivacyNoticeSerializer(serializers.Serializer):
    version = serializers.CharField()
    published_at = serializers.DateTimeField()
    text = serializers.CharField()


class ErasureRequestSerializer(StrictSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ErasureOutcomeSerializer(serializers.Serializer):
    erased = serializers.ListField(child=serializers.CharField())
    kept = serializers.ListField(child=serializers.DictField())
    completed_at = serializers.DateTimeField()


class ProcessingActivitySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    data_subjects = serializers.CharField()
    data_categories = serializers.CharField()
    recipients = serializers.CharField()
    transfers = serializers.CharField()
    retention = serializers.CharField()
    security = serializers.CharField()


class ProcessingRegisterSerializer(serializers.Serializer):
    controller = serializers.DictField()
    generated_at = serializers.DateTimeField()
    activities = ProcessingActivitySerializer(many=True)


class ReportSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    community = serializers.IntegerField()
    formats = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField()
