"""Signature requests: their signers and states, and a signed file uploaded by a signer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.signing.models import SignatureRequest, SignedFile, Signer
from cer.signing.verification import refusal_text


class SignerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signer
        fields = ["id", "position", "name", "tax_code", "status", "signed_at", "reminders_sent"]
        read_only_fields = fields


class SignatureRequestSerializer(serializers.ModelSerializer):
    document = serializers.IntegerField(source="version.document_id", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    signers = SignerSerializer(many=True, read_only=True)

    class Meta:
        model = SignatureRequest
        fields = [
            "id",
            "document",
            "version",
            "version_number",
            "sent_sha256",
            "kind",
            "kind_label",
            "status",
            "created_at",
            "closed_at",
            "executed_version",
            "signers",
        ]
        read_only_fields = fields


class SignedFileUploadSerializer(StrictSerializer):
    signer = serializers.IntegerField(min_value=1)
    file = serializers.FileField()


class SignedFileSerializer(serializers.ModelSerializer):
    refusals = serializers.SerializerMethodField()

    class Meta:
        model = SignedFile
        fields = ["id", "original_name", "format", "status", "accepted", "refusals", "uploaded_at"]
        read_only_fields = fields

    def get_refusals(self, signed: SignedFile) -> list[dict[str, Any]]:
        return [{"code": r["code"], "message": refusal_text(r)} for r in signed.refusals]
