from django.contrib import admin

from cer.distribution.models import DistributionPolicy, PolicyComponent, PolicyPot


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
