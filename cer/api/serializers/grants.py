"""The PNRR grant file (cer.grants): the application, its cost items and checks, the
disbursement phases with their expense documents, other public grants; bodies of the calls
that change them. The rules stay in cer.grants.services and cer.grants.phases."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.grants.models import (
    Applicant,
    CostCategory,
    CostItem,
    DisbursementRequest,
    ExpenseDocument,
    GrantApplication,
    OtherGrant,
    PhaseKind,
)


def amount(**options: Any) -> serializers.DecimalField:
    """An amount [EUR] with at most two decimals (more is refused naming the field)."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **options)


class CostItemSerializer(serializers.ModelSerializer):
    other_grants = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CostItem
        fields = ["id", "category", "description", "amount_eur", "claimed", "other_grants"]
        read_only_fields = fields


class GrantCheckSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True)
    rule = serializers.CharField(read_only=True)
    passed = serializers.BooleanField(read_only=True)
    message = serializers.CharField(read_only=True)
    blocking = serializers.BooleanField(read_only=True)


class GrantDeadlineSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    days_left = serializers.IntegerField(read_only=True)
    source = serializers.CharField(read_only=True)


class GrantApplicationSerializer(serializers.ModelSerializer):
    plant = serializers.PrimaryKeyRelatedField(read_only=True)
    municipality = serializers.CharField(
        source="municipality_id", read_only=True, allow_null=True, help_text="ISTAT code."
    )
    census_population = serializers.IntegerField(read_only=True, allow_null=True)
    checked_population = serializers.IntegerField(read_only=True, allow_null=True)
    claimed_eur = amount(read_only=True)
    cost_items = CostItemSerializer(many=True, read_only=True)

    class Meta:
        model = GrantApplication
        fields = [
            "id",
            "plant",
            "state",
            "applicant",
            "municipality",
            "census_population",
            "current_population",
            "population_source",
            "population_date",
            "checked_population",
            "works_start_date",
            "works_end_date",
            "expected_service_date",
            "requested_grant_eur",
            "claimed_eur",
            "gse_reference",
            "submitted_at",
            "decided_at",
            "granted_eur",
            "refusal_reason",
            "cost_items",
        ]
        read_only_fields = fields


class GrantFileSerializer(serializers.Serializer):
    """The file as its page shows it: the application, its checks and deadlines."""

    application = GrantApplicationSerializer(read_only=True, allow_null=True)
    checks = GrantCheckSerializer(many=True, read_only=True)
    deadlines = GrantDeadlineSerializer(many=True, read_only=True)
    maximum_grant_eur = amount(read_only=True, allow_null=True)
    received_eur = amount(read_only=True)


class ApplicationChangeSerializer(StrictSerializer):
    applicant = serializers.ChoiceField(choices=Applicant.choices, required=False)
    municipality = serializers.CharField(
        required=False, allow_null=True, max_length=6, help_text="ISTAT code."
    )
    current_population = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    population_source = serializers.CharField(required=False, allow_blank=True, max_length=200)
    population_date = serializers.DateField(required=False, allow_null=True)
    works_start_date = serializers.DateField(required=False, allow_null=True)
    works_end_date = serializers.DateField(required=False, allow_null=True)
    expected_service_date = serializers.DateField(required=False, allow_null=True)
    requested_grant_eur = amount(required=False, allow_null=True)


class GrantSubmitSerializer(StrictSerializer):
    gse_reference = serializers.CharField(max_length=60)


class GrantDecisionSerializer(StrictSerializer):
    granted_eur = amount(required=False, allow_null=True, help_text="Empty: refused.")
    refusal_reason = serializers.CharField(required=False, allow_blank=True, default="")


class CostItemCreateSerializer(StrictSerializer):
    category = serializers.ChoiceField(choices=CostCategory.choices)
    description = serializers.CharField(max_length=200)
    amount_eur = amount()
    claimed = serializers.BooleanField(required=False, default=True)


class GrantObjectIdSerializer(StrictSerializer):
    id = serializers.IntegerField(min_value=1)


class ExpenseDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpenseDocument
        fields = [
            "id",
            "request",
            "cost_item",
            "invoice_number",
            "sdi_id",
            "supplier_vat",
            "invoice_date",
            "amount_eur",
            "payment_reference",
            "payment_date",
            "original_name",
        ]
        read_only_fields = fields


class DisbursementSerializer(serializers.ModelSerializer):
    documents = ExpenseDocumentSerializer(many=True, read_only=True)
    documented_eur = amount(read_only=True)
    has_progress_report = serializers.SerializerMethodField()

    class Meta:
        model = DisbursementRequest
        fields = [
            "id",
            "kind",
            "state",
            "requested_eur",
            "documented_eur",
            "guarantee_issuer",
            "guarantee_reference",
            "guarantee_amount_eur",
            "has_progress_report",
            "tip_contract_date",
            "created_at",
            "sent_at",
            "received_eur",
            "received_date",
            "rejection_reason",
            "documents",
        ]
        read_only_fields = fields

    def get_has_progress_report(self, phase: DisbursementRequest) -> bool:
        return bool(phase.progress_report)


class DisbursementCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=PhaseKind.choices)
    requested_eur = amount()
    guarantee_issuer = serializers.CharField(required=False, allow_blank=True, default="")
    guarantee_reference = serializers.CharField(required=False, allow_blank=True, default="")
    guarantee_amount_eur = amount(required=False, allow_null=True)
    tip_contract_date = serializers.DateField(required=False, allow_null=True)
    progress_report = serializers.FileField(required=False)


class ExpenseDocumentCreateSerializer(StrictSerializer):
    request = serializers.IntegerField(min_value=1, help_text="The disbursement request.")
    cost_item = serializers.IntegerField(min_value=1)
    invoice_number = serializers.CharField(max_length=40)
    sdi_id = serializers.CharField(max_length=40, help_text="SdI identifier of the invoice.")
    supplier_vat = serializers.CharField(max_length=11)
    invoice_date = serializers.DateField()
    amount_eur = amount()
    payment_reference = serializers.CharField(max_length=60, help_text="CRO/TRN.")
    payment_date = serializers.DateField()
    file = serializers.FileField(required=False)


class DisbursementStateSerializer(StrictSerializer):
    id = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(
        choices=[("send", "send"), ("paid", "paid"), ("rejected", "rejected")]
    )
    received_eur = amount(required=False, allow_null=True)
    received_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class OtherGrantSerializer(serializers.ModelSerializer):
    cost_items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = OtherGrant
        fields = ["id", "source", "amount_eur", "grant_date", "cost_items", "covered_description"]
        read_only_fields = fields


class OtherGrantCreateSerializer(StrictSerializer):
    source = serializers.CharField(max_length=200)
    amount_eur = amount()
    grant_date = serializers.DateField()
    cost_items = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    covered_description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
