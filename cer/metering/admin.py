from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.audit.services import record
from cer.core.admin_mixins import SaneDateHierarchy
from cer.metering import broker, devices
from cer.metering.models import Device, HourlyReading, RejectedMessage


@admin.register(HourlyReading)
class HourlyReadingAdmin(SaneDateHierarchy, admin.ModelAdmin):
    list_display = ["connection_point", "hour_start", "injected_wh", "withdrawn_wh", "source"]
    list_filter = ["source", "quality"]
    search_fields = ["connection_point__pod"]
    date_hierarchy = "hour_start"
    raw_id_fields = ["connection_point"]
    # The table holds millions of rows: skip the exact count on every page.
    show_full_result_count = False


class DeviceAddForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = [
            "connection_point",
            "name",
            "kind",
            "serial_number",
            "meter_channel",
            "counter_rollover_wh",
        ]


def _broker_guard(modeladmin, request, call) -> bool:
    try:
        call()
    except devices.DeviceDeleted:
        modeladmin.message_user(request, _("The device was already deleted."), messages.ERROR)
        return False
    except broker.BrokerError as error:
        modeladmin.message_user(
            request, _("The MQTT broker refused: %(error)s") % {"error": error}, messages.ERROR
        )
        return False
    return True


def _audited(request, device: Device, code: str, change: Callable[[Any], Any]) -> Any:
    """Run a device change and record it as the web pages and the API do, in one transaction."""
    with transaction.atomic():
        now = timezone.now()
        outcome = change(now)
        record(
            actor=request.user,
            code=code,
            now=now,
            target=device,
            community=device.connection_point.configuration.community,
        )
    return outcome


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "connection_point", "kind", "mqtt_username", "status", "rotated_at"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "mqtt_username", "serial_number", "connection_point__pod"]
    raw_id_fields = ["connection_point"]
    readonly_fields = [
        "connection_point",
        "name",
        "kind",
        "mqtt_username",
        "status",
        "created_at",
        "rotated_at",
        "status_changed_at",
    ]
    exclude = ["secret_hash"]
    actions = ["rotate_secret", "disable", "enable", "delete_accounts"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DeviceAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_exclude(self, request, obj=None):
        return self.exclude if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return DeviceAddForm.Meta.fields
        return super().get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting goes through the action, which also removes the broker account.
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        with transaction.atomic():
            now = timezone.now()
            created = devices.register_device(
                point=data["connection_point"],
                name=data["name"],
                kind=data["kind"],
                serial_number=data["serial_number"],
                meter_channel=data["meter_channel"],
                counter_rollover_wh=data["counter_rollover_wh"],
                now=now,
            )
            record(
                actor=request.user,
                code="metering.device.created",
                now=now,
                target=created.device,
                community=data["connection_point"].configuration.community,
                changes={"name": ["", created.device.name], "kind": ["", created.device.kind]},
            )
        obj.pk = created.device.pk
        self.message_user(request, self._secret_message(created), messages.WARNING)

    @staticmethod
    def _secret_message(created: devices.DeviceSecret) -> str:
        return _("MQTT username %(user)s, secret %(secret)s — shown only this once.") % {
            "user": created.device.mqtt_username,
            "secret": created.secret,
        }

    @admin.action(description=_("Generate a new secret (disconnects the device)"))
    def rotate_secret(self, request, queryset) -> None:
        for device in queryset:

            def rotate(device=device):
                created = _audited(
                    request,
                    device,
                    "metering.device.rotated",
                    lambda now: devices.rotate_device_secret(device=device, now=now),
                )
                self.message_user(request, self._secret_message(created), messages.WARNING)

            _broker_guard(self, request, rotate)

    @admin.action(description=_("Disable (disconnects the device)"))
    def disable(self, request, queryset) -> None:
        for device in queryset:
            _broker_guard(
                self,
                request,
                lambda d=device: _audited(
                    request,
                    d,
                    "metering.device.disabled",
                    lambda now: devices.disable_device(device=d, now=now),
                ),
            )

    @admin.action(description=_("Enable"))
    def enable(self, request, queryset) -> None:
        for device in queryset:
            _broker_guard(
                self,
                request,
                lambda d=device: _audited(
                    request,
                    d,
                    "metering.device.enabled",
                    lambda now: devices.enable_device(device=d, now=now),
                ),
            )

    @admin.action(description=_("Delete the MQTT account (readings are kept)"))
    def delete_accounts(self, request, queryset) -> None:
        for device in queryset:
            _broker_guard(
                self,
                request,
                lambda d=device: _audited(
                    request,
                    d,
                    "metering.device.deleted",
                    lambda now: devices.delete_device(device=d, now=now),
                ),
            )


@admin.register(RejectedMessage)
class RejectedMessageAdmin(SaneDateHierarchy, admin.ModelAdmin):
    list_display = ["received_at", "channel", "topic", "field", "reason", "configuration"]
    list_filter = ["channel"]
    search_fields = ["topic", "reason"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "channel",
        "topic",
        "payload_preview",
        "received_at",
        "field",
        "reason",
        "configuration",
        "device",
    ]
    exclude = ["payload"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
