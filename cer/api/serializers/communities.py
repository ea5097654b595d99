"""Communities and their configurations, read only."""

from __future__ import annotations

from rest_framework import serializers

from cer.communities.models import Community, Configuration


class CommunitySerializer(serializers.ModelSerializer):
    seat_municipality = serializers.CharField(source="seat_municipality_id", read_only=True)

    class Meta:
        model = Community
        fields = [
            "id",
            "name",
            "kind",
            "legal_form",
            "fiscal_code",
            "vat_number",
            "seat_address",
            "seat_municipality",
            "founding_date",
            "pec",
            "reading_source_order",
            "created_at",
        ]
        read_only_fields = fields


class ConfigurationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Configuration
        fields = [
            "id",
            "community",
            "name",
            "primary_substation",
            "market_zone",
            "region",
            "status",
            "gse_request_date",
            "gse_contract_start_date",
            "gse_contract_end_date",
        ]
        read_only_fields = fields
