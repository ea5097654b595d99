from django.contrib import admin

from cer.settlement.models import GseAmount, SettlementJob, SettlementRun


@admin.register(SettlementRun)
class SettlementRunAdmin(admin.ModelAdmin):
    list_display = ("configuration", "month", "version", "status", "provisional", "shared_wh")
    list_filter = ("status", "provisional")
    readonly_fields = [f.name for f in SettlementRun._meta.fields]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SettlementJob)
class SettlementJobAdmin(admin.ModelAdmin):
    list_display = ("configuration", "month", "status", "requested_at", "finished_at")
    list_filter = ("status",)


@admin.register(GseAmount)
class GseAmountAdmin(admin.ModelAdmin):
    list_display = ("configuration", "month", "kind", "amount_eur", "certified", "reference")
