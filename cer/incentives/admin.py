from django.contrib import admin
from django.utils import timezone

from cer.audit.services import record
from cer.core.admin_mixins import SaneDateHierarchy
from cer.incentives.models import RegulatoryParameter, ZonalPrice


@admin.register(ZonalPrice)
class ZonalPriceAdmin(SaneDateHierarchy, admin.ModelAdmin):
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


# An override changes what every community's settlement pays: each save is logged.
_PARAMETER_FIELDS = ("code", "value", "unit", "valid_from", "valid_to", "source", "confidence")


@admin.register(RegulatoryParameter)
class RegulatoryParameterAdmin(admin.ModelAdmin):
    list_display = ["code", "value", "unit", "valid_from", "valid_to", "confidence"]
    list_filter = ["confidence"]
    search_fields = ["code", "source"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        before = RegulatoryParameter.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        changes = {
            name: [str(getattr(before, name)) if before else "", str(getattr(obj, name))]
            for name in _PARAMETER_FIELDS
            if before is None or getattr(before, name) != getattr(obj, name)
        }
        if changes:
            # Platform-wide: no community; the staff read it in the admin and the API.
            record(
                actor=request.user,
                code=f"incentives.parameter.{'changed' if change else 'created'}",
                now=timezone.now(),
                target=obj,
                changes=changes,
            )

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        _record_deleted(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for parameter in queryset:
            _record_deleted(request, parameter)
        super().delete_queryset(request, queryset)


def _record_deleted(request, parameter):  # type: ignore[no-untyped-def]
    record(
        actor=request.user,
        code="incentives.parameter.deleted",
        now=timezone.now(),
        target=parameter,
        changes={name: [str(getattr(parameter, name)), ""] for name in _PARAMETER_FIELDS},
    )
