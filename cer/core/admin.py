from django.contrib import admin

from cer.core.models import Municipality


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["istat_code", "name", "province_abbr", "region", "population"]
    list_filter = ["region"]
    search_fields = ["istat_code", "name", "cadastral_code"]
