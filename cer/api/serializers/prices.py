"""Day-ahead zonal prices, read only."""

from __future__ import annotations

from rest_framework import serializers

from cer.incentives.models import ZonalPrice


class ZonalPriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ZonalPrice
        fields = [
            "market_zone",
            "interval_start",
            "interval_minutes",
            "price_eur_per_mwh",
            "source",
        ]
        read_only_fields = fields
