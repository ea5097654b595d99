from django.contrib import admin

from cer.billing.models import Dispute, Invoice, PayoutBatch, Statement


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ("member_name", "configuration", "month", "version", "status", "amount_eur")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Statement._meta.fields]


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ("member", "state", "opened_at", "mediator")
    list_filter = ("state",)


@admin.register(PayoutBatch)
class PayoutBatchAdmin(admin.ModelAdmin):
    """Read-only: a batch is made, issued, sent and voided on the payout pages, which log each step.

    Deleting one here would make its lines payable again with no trace.
    """

    list_display = ("configuration", "period_start", "period_end", "status", "total_eur")
    readonly_fields = [f.name for f in PayoutBatch._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("community", "year", "number", "document_type", "status", "total_eur")
    list_filter = ("status", "document_type")
    readonly_fields = [f.name for f in Invoice._meta.fields]
