from django.contrib import admin

from cer.audit.models import AuditEntry
from cer.core.admin_mixins import SaneDateHierarchy


@admin.register(AuditEntry)
class AuditEntryAdmin(SaneDateHierarchy, admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ["at", "actor_name", "community", "code", "target_repr"]
    list_filter = ["code", "community"]
    search_fields = ["actor_name", "code", "target_repr", "target_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
