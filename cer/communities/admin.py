from django.contrib import admin

from cer.communities.models import Community, Configuration


class ConfigurationInline(admin.TabularInline):
    model = Configuration
    extra = 0


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "legal_form", "fiscal_code", "seat_municipality"]
    list_filter = ["kind", "legal_form"]
    search_fields = ["name", "fiscal_code"]
    autocomplete_fields = ["seat_municipality"]
    inlines = [ConfigurationInline]


@admin.register(Configuration)
class ConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "primary_substation", "market_zone", "region", "status"]
    list_filter = ["status", "market_zone", "region"]
    search_fields = ["name", "primary_substation", "community__name"]
