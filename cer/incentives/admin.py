from django.contrib import admin

from cer.incentives.models import RegulatoryParameter, ZonalPrice


@admin.register(ZonalPrice)
class ZonalPriceAdmin(admin.ModelAdmin):
    list_display = [
        "market_zone",
        "interval_start",
        "interval_minutes",
        "price_eur_per_mwh",
        "source",
    ]
    list_filter = ["market_zone", "source", "interval_minutes"]
    date_hierarchy = "interval_start"
    show_full_result_count = False


@admin.register(RegulatoryParameter)
class RegulatoryParameterAdmin(admin.ModelAdmin):
    list_display = ["code", "value", "unit", "valid_from", "valid_to", "confidence"]
    list_filter = ["confidence"]
    search_fields = ["code", "source"]
