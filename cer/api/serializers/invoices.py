"""Invoices in the API: amounts and quantities as decimal strings, unknown fields refused."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cer.api.serializers.base import StrictSerializer
from cer.billing.invoices import CUSTOMER_FIELDS, invoice_lines, line_problems
from cer.billing.models import Invoice, InvoiceLine, Natura
from cer.billing.totals import LineInput, compute_totals
from cer.members.models import Member, Membership


class InvoiceLineInputSerializer(StrictSerializer):
    description = serializers.CharField(max_length=1000)
    quantity = serializers.DecimalField(max_digits=20, decimal_places=8)
    unit_price_eur = serializers.DecimalField(
        max_digits=20, decimal_places=8, help_text=_("Unit price [EUR], up to 8 decimals.")
    )
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text=_("22, 10, 5, 4 or 0 [%].")
    )
    natura = serializers.ChoiceField(
        choices=Natura.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required at 0 %, absent otherwise: the reason why no VAT applies."),
    )

    def validate(self, attrs: dict[str, Any]) -> LineInput:
        line = LineInput(**attrs)
        problems = line_problems(line)
        if problems:
            raise serializers.ValidationError(problems)
        return line


class InvoiceCreateSerializer(StrictSerializer):
    """A draft invoice: to a member of the community, or to anyone named in full."""

    member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(), required=False, allow_null=True, default=None
    )
    customer_name = serializers.CharField(max_length=80, required=False)
    customer_first_name = serializers.CharField(max_length=60, required=False)
    customer_last_name = serializers.CharField(max_length=60, required=False)
    customer_fiscal_code = serializers.CharField(max_length=16, required=False)
    customer_vat_number = serializers.CharField(max_length=13, required=False)
    customer_address = serializers.CharField(max_length=60, required=False)
    customer_postal_code = serializers.RegexField(r"^[0-9]{5}$", max_length=5)
    customer_city = serializers.CharField(max_length=60, required=False)
    customer_province = serializers.RegexField(r"^[A-Z]{2}$", max_length=2, required=False)
    customer_country = serializers.RegexField(
        r"^[A-Z]{2}$", max_length=2, required=False, default="IT"
    )
    sdi_code = serializers.RegexField(
        r"^[A-Z0-9]{7}$", max_length=7, required=False, default="0000000"
    )
    customer_pec = serializers.EmailField(required=False)
    lines = InvoiceLineInputSerializer(many=True, allow_empty=False, max_length=200)

    def __init__(self, *args: Any, community: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if community is not None:
            members = Membership.objects.filter(community=community).values("member_id")
            self.fields["member"].queryset = Member.objects.filter(pk__in=members)  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("member") is None:
            missing = {
                name: [str(_("Required for a customer who is not a member."))]
                for name in ("customer_name", "customer_address", "customer_city")
                if not attrs.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs

    def customer(self) -> dict[str, Any]:
        # Optional text fields have no `default=""`: a default must satisfy its own
        # schema (`minLength: 1`), so an omitted one is filled in here instead.
        return {name: self.validated_data.get(name, "") for name in CUSTOMER_FIELDS}


class SeedInvoiceCreateSerializer(InvoiceCreateSerializer):
    community = serializers.IntegerField(min_value=1, help_text=_("The issuing community."))


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit_price_eur",
            "vat_rate",
            "natura",
            "total_eur",
        ]
        read_only_fields = fields


class SummaryRowSerializer(serializers.Serializer):
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    natura = serializers.CharField()
    taxable_eur = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_eur = serializers.DecimalField(max_digits=12, decimal_places=2)


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    summary = serializers.SerializerMethodField()
    number = serializers.CharField(source="display_number", read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "community",
            "document_type",
            "status",
            "original",
            "number",
            "year",
            "issue_date",
            *CUSTOMER_FIELDS,
            "lines",
            "summary",
            "taxable_eur",
            "tax_eur",
            "total_eur",
            "file_name",
            "sent_at",
            "created_at",
            "issued_at",
        ]
        read_only_fields = fields

    @extend_schema_field(SummaryRowSerializer(many=True))
    def get_summary(self, invoice: Invoice) -> list[dict[str, Any]]:
        summary = compute_totals(invoice_lines(invoice)).summary
        return SummaryRowSerializer(summary, many=True).data  # type: ignore[return-value]
