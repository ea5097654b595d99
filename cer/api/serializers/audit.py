"""Entries of the audit log, read only."""

from __future__ import annotations

from rest_framework import serializers

from cer.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_name",
            "community",
            "code",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
        ]
        read_only_fields = fields
