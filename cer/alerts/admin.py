from django.contrib import admin

from cer.alerts.models import Alert, AlertSettings


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["community", "rule", "object_label", "state", "opened_at", "last_seen_at"]
    list_filter = ["rule", "state"]
    readonly_fields = [f.name for f in Alert._meta.fields]


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ["community", "silence_hours"]
