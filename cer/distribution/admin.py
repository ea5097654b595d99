from django.contrib import admin

from cer.distribution.models import (
    DistributionPolicy,
    PolicyComponent,
    PolicyPot,
    YearTrueUp,
    YearTrueUpLine,
)


class PotInline(admin.TabularInline):
    model = PolicyPot
    extra = 0


class ComponentInline(admin.TabularInline):
    model = PolicyComponent
    extra = 0


@admin.register(DistributionPolicy)
class DistributionPolicyAdmin(admin.ModelAdmin):
    list_display = ("community", "valid_from", "valid_to", "excess_policy", "missing_data")
    inlines = [PotInline, ComponentInline]


class TrueUpLineInline(admin.TabularInline):
    model = YearTrueUpLine
    extra = 0
    can_delete = False
    readonly_fields = ("member", "enterprise", "received_eur", "year_change_eur", "added_eur")


@admin.register(YearTrueUp)
class YearTrueUpAdmin(admin.ModelAdmin):
    """Read only: a true-up is a record of money moved; a correction is a new true-up."""

    list_display = ("configuration", "year", "sequence", "excess_eur", "moved_eur", "created_at")
    inlines = [TrueUpLineInline]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
