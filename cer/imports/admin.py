from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cer.core.admin_mixins import SaneDateHierarchy
from cer.imports.models import ImportBatch, RejectedRow


@admin.register(ImportBatch)
class ImportBatchAdmin(SaneDateHierarchy, admin.ModelAdmin):
    list_display = [
        "file_name",
        "kind",
        "community",
        "status",
        "started_at",
        "rows_accepted",
        "rows_rejected",
        "intervals_inserted",
        "intervals_superseded",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "sha256"]
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request, obj=None):
        # A batch records what happened: nothing in it is editable.
        return [field.name for field in self.model._meta.fields] + ["rejections"]

    @admin.display(description=_("rejected rows"))
    def rejections(self, obj: ImportBatch) -> str:
        # A link rather than an inline: a batch can hold thousands of rejections.
        url = reverse("admin:imports_rejectedrow_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.rejected_rows.count())

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(RejectedRow)
class RejectedRowAdmin(admin.ModelAdmin):
    list_display = ["batch", "line_number", "field", "reason"]
    list_filter = ["batch__kind"]
    search_fields = ["reason", "raw_line"]
    raw_id_fields = ["batch"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
