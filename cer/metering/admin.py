from django.contrib import admin

from cer.metering.models import HourlyReading


@admin.register(HourlyReading)
class HourlyReadingAdmin(admin.ModelAdmin):
    list_display = ["connection_point", "hour_start", "injected_wh", "withdrawn_wh", "source"]
    list_filter = ["source", "quality"]
    search_fields = ["connection_point__pod"]
    date_hierarchy = "hour_start"
    raw_id_fields = ["connection_point"]
    # The table holds millions of rows: skip the exact count on every page.
    show_full_result_count = False
