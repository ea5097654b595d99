"""The deliveries and their attempts, for whoever runs the platform: read only."""

from __future__ import annotations

from django.contrib import admin

from cer.notifications.models import Delivery, DeliveryAttempt


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "outcome", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel", "digest"]
    readonly_fields = [
        "notification",
        "channel",
        "state",
        "digest",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
    ]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
