from django.contrib import admin

from cer.plants.models import ConnectionPoint, Plant, PlantSection


@admin.register(ConnectionPoint)
class ConnectionPointAdmin(admin.ModelAdmin):
    list_display = ["pod", "configuration", "holder", "voltage_level", "contracted_power_kw"]
    list_filter = ["voltage_level", "configuration", "has_injection"]
    search_fields = ["pod", "holder__last_name", "holder__company_name"]
    autocomplete_fields = ["holder"]


class PlantSectionInline(admin.TabularInline):
    model = PlantSection
    extra = 0


@admin.register(Plant)
class PlantAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "source",
        "power_kw",
        "entry_into_service_date",
        "regime",
        "owner",
        "eligibility_status",
    ]
    list_filter = ["source", "regime", "eligibility_status"]
    readonly_fields = [
        "eligibility_status",
        "eligibility_results",
        "eligibility_checked_at",
        "verified_at",
        "verified_by",
    ]
    search_fields = ["name", "censimp_code", "connection_point__pod"]
    autocomplete_fields = ["connection_point", "owner"]
    inlines = [PlantSectionInline]


@admin.register(PlantSection)
class PlantSectionAdmin(admin.ModelAdmin):
    list_display = ["plant", "power_kw", "entry_into_service_date"]
