"""Collections: a community's payment requests and SEPA mandates, read and created."""

from __future__ import annotations

from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.collections.models import Mandate, PaymentRequest, RequestKind


class PaymentRequestSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = PaymentRequest
        fields = [
            "id",
            "reference",
            "member",
            "kind",
            "amount_eur",
            "due_date",
            "description",
            "series",
            "state",
            "paid_date",
            "reason_code",
            "reason",
        ]
        read_only_fields = fields


class PaymentRequestCreateSerializer(StrictSerializer):
    member = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    # Text, so that the service refuses more than two decimals in the words the page uses.
    amount_eur = serializers.CharField(max_length=20, help_text="Euro, at most two decimals.")
    due_date = serializers.DateField()
    description = serializers.CharField(max_length=140)


class MandateSerializer(serializers.ModelSerializer):
    iban_end = serializers.SerializerMethodField()

    class Meta:
        model = Mandate
        fields = [
            "id",
            "reference",
            "member",
            "signed_date",
            "debtor_name",
            "iban_end",
            "next_sequence",
            "last_collection_date",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_iban_end(self, mandate: Mandate) -> str:
        return mandate.iban[-4:]


class MandateCreateSerializer(StrictSerializer):
    member = serializers.IntegerField(min_value=1)
    # Optional here so that the service refuses a missing date with its own reason.
    signed_date = serializers.DateField(required=False, allow_null=True, default=None)
    debtor_name = serializers.CharField(max_length=70)
    iban = serializers.CharField(max_length=34)
    bic = serializers.CharField(max_length=11, required=False, allow_blank=True, default="")
