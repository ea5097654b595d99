"""The community's accounts in the API: amounts as decimal strings, unknown fields refused."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.treasury.models import DocumentKind, Expense, ExpenseCategory, PaymentMethod


def _amount(**options: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **options)  # type: ignore[arg-type]


class ExpenseSerializer(serializers.ModelSerializer):
    reverses = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Expense
        fields = [
            "id",
            "supplier_name",
            "supplier_code",
            "document_kind",
            "document_number",
            "document_date",
            "category",
            "taxable_eur",
            "vat_rate",
            "vat_eur",
            "total_eur",
            "payment_date",
            "payment_method",
            "note",
            "reverses",
            "recorded_at",
        ]
        read_only_fields = fields


class ExpenseCreateSerializer(StrictSerializer):
    supplier_name = serializers.CharField(max_length=200)
    supplier_code = serializers.CharField(
        max_length=16, help_text=_("The supplier's VAT number or Italian tax code.")
    )
    document_kind = serializers.ChoiceField(choices=DocumentKind.choices)
    document_number = serializers.CharField(max_length=60)
    document_date = serializers.DateField()
    category = serializers.ChoiceField(
        choices=[c for c in ExpenseCategory.choices if c[0] != ExpenseCategory.GSE_FEES],
        help_text=_("GSE fees come from settlement and are refused here."),
    )
    taxable_eur = _amount()
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text=_("22, 10, 5, 4 or 0 [%].")
    )
    vat_eur = _amount(help_text=_("Taxable x rate, to the cent (one cent either way)."))
    total_eur = _amount(required=False, help_text=_("When given, taxable plus VAT."))
    payment_date = serializers.DateField(required=False, allow_null=True, default=None)
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class IncomeItemSerializer(serializers.Serializer):
    day = serializers.DateField()
    category = serializers.CharField()
    description = serializers.CharField()
    amount = _amount()
    reference = serializers.CharField()
    source = serializers.CharField()


class ReportLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    amount_eur = _amount()


class ReportMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    income_eur = _amount()
    expenses_eur = _amount()
    distributed_eur = _amount()
    balance_eur = _amount()


class EconomicReportSerializer(serializers.Serializer):
    period = serializers.CharField()
    income = ReportLineSerializer(many=True)
    expenses = ReportLineSerializer(many=True)
    income_eur = _amount()
    expenses_eur = _amount()
    distributed_eur = _amount()
    balance_eur = _amount()
    months = ReportMonthSerializer(many=True)
