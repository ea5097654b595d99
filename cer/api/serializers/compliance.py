"""The compliance files (cer.compliance), read only: a community's anti-mafia file and a
PNRR plant's checklist, as their pages show them."""

from __future__ import annotations

from rest_framework import serializers


class AntimafiaGrantSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)
    amount_eur = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    on_date = serializers.DateField(read_only=True, allow_null=True)


class AntimafiaSignatureSerializer(serializers.Serializer):
    status = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True, help_text="The result in words.")


class AntimafiaSubjectSerializer(serializers.Serializer):
    holder_id = serializers.IntegerField(source="holder.pk", read_only=True)
    full_name = serializers.CharField(source="holder.full_name", read_only=True)
    tax_code = serializers.CharField(source="holder.tax_code", read_only=True)
    role = serializers.CharField(source="holder.role", read_only=True)
    source = serializers.CharField(read_only=True, help_text="The rule that makes them a subject.")
    state = serializers.CharField(read_only=True, help_text="MISSING, VALID, EXPIRING, EXPIRED.")
    signed_date = serializers.DateField(
        source="declaration.signed_date", read_only=True, allow_null=True, default=None
    )
    valid_until = serializers.DateField(
        source="declaration.valid_until", read_only=True, allow_null=True, default=None
    )
    relatives = serializers.SerializerMethodField()
    signature = AntimafiaSignatureSerializer(read_only=True, allow_null=True)

    def get_relatives(self, row: object) -> int:
        declaration = getattr(row, "declaration", None)
        return len(declaration.relatives) if declaration is not None else 0


class AntimafiaFileSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True)
    required = serializers.BooleanField(read_only=True)
    total_eur = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    threshold_eur = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    threshold_source = serializers.CharField(read_only=True, allow_blank=True)
    grants = AntimafiaGrantSerializer(many=True, read_only=True)
    subjects = AntimafiaSubjectSerializer(many=True, read_only=True)


class PlantComplianceItemSerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code", read_only=True)
    group = serializers.CharField(source="item.group", read_only=True)
    title = serializers.CharField(source="item.title", read_only=True)
    evidence_needed = serializers.CharField(source="item.evidence", read_only=True)
    source = serializers.CharField(source="item.source", read_only=True)
    question = serializers.BooleanField(source="item.question", read_only=True)
    status = serializers.CharField(read_only=True, help_text="MISSING, PROVIDED, ACCEPTED.")
    answer = serializers.CharField(read_only=True, allow_blank=True)
    documents = serializers.SerializerMethodField()

    def get_documents(self, row: object) -> list[int]:
        return [evidence.document.pk for evidence in getattr(row, "evidence", ())]


class PlantComplianceSerializer(serializers.Serializer):
    applies = serializers.BooleanField(read_only=True, help_text="The plant is PNRR-funded.")
    complete = serializers.BooleanField(read_only=True)
    items = PlantComplianceItemSerializer(many=True, read_only=True)
