"""Pages for a community's managers: device accounts and rejected messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from cer.audit.services import record
from cer.communities.models import Community
from cer.core.access import object_permission
from cer.metering import broker, services
from cer.metering.forms import DeviceForm
from cer.metering.models import Device, DeviceStatus, RejectedMessage
from cer.metering.retention import rejected_message_retention_days

REJECTED_SHOWN = 50


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def device_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's devices, a form to register one, and the latest rejected messages."""
    form = DeviceForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        try:
            with transaction.atomic():
                created = services.register_device(
                    point=data["point"],
                    name=data["name"],
                    kind=data["kind"],
                    serial_number=data["serial_number"],
                    meter_channel=data["meter_channel"],
                    counter_rollover_wh=data["counter_rollover_wh"],
                    now=now,
                )
                _record(
                    request,
                    created.device,
                    community,
                    "metering.device.created",
                    now,
                    changes={
                        "name": ["", created.device.name],
                        "kind": ["", created.device.kind],
                        "connection_point": ["", data["point"].pod],
                    },
                )
        except services.DeviceNameTaken:
            form.add_error("name", _("Another device of this connection point has this name."))
        except broker.BrokerError:
            messages.error(request, _("The MQTT broker could not be reached; nothing was saved."))
        else:
            return _show_secret(request, community, created)
    devices = (
        Device.objects.filter(connection_point__configuration__community=community)
        .exclude(status=DeviceStatus.DELETED)
        .select_related("connection_point")
    )
    rejected = RejectedMessage.objects.filter(configuration__community=community).select_related(
        "device"
    )[:REJECTED_SHOWN]
    context = {
        "community": community,
        "devices": devices,
        "form": form,
        "rejected": rejected,
        "rejected_retention_days": rejected_message_retention_days(),
    }
    return render(request, "metering/devices.html", context)


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
@require_POST
def device_action(request: HttpRequest, community: Community) -> HttpResponse:
    """Rotate the secret of, disable, enable or delete a device (POST fields device, action)."""
    device = get_object_or_404(
        Device.objects.select_related("connection_point"),
        pk=request.POST.get("device") or 0,
        connection_point__configuration__community=community,
    )
    action = request.POST.get("action", "")
    now = timezone.now()
    if action != "rotate" and action not in STATUS_ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("metering:device_list", community_id=community.pk)
    try:
        # The device's new state and its audit entry are committed together.
        with transaction.atomic():
            if action == "rotate":
                rotated = services.rotate_device_secret(device=device, now=now)
                changes = {"secret": ["[old]", "[new]"]}
            else:
                change_status, done = STATUS_ACTIONS[action]
                changes = {"status": [device.status, change_status(device=device, now=now).status]}
            _record(request, device, community, f"metering.device.{action}d", now, changes=changes)
        if action == "rotate":
            return _show_secret(request, community, rotated)
        messages.success(request, done)
    except services.DeviceDeleted:
        messages.error(request, _("The device was already deleted."))
    except broker.BrokerError:
        messages.error(request, _("The MQTT broker could not be reached; nothing changed."))
    return redirect("metering:device_list", community_id=community.pk)


# Action → (service, message once done); each is logged as metering.device.<action>d.
STATUS_ACTIONS: dict[str, tuple[Callable[..., Device], Any]] = {
    "disable": (services.disable_device, _lazy("Device disabled: the broker disconnected it.")),
    "enable": (services.enable_device, _lazy("Device enabled.")),
    "delete": (services.delete_device, _lazy("Device deleted; its readings are kept.")),
}


def _record(
    request: HttpRequest,
    device: Device,
    community: Community,
    code: str,
    now: Any,
    *,
    changes: dict[str, Any],
) -> None:
    record(
        actor=request.user,
        code=code,
        now=now,
        target=device,
        community=community,
        changes=changes,
    )


def _show_secret(
    request: HttpRequest, community: Community, created: services.DeviceSecret
) -> HttpResponse:
    # Rendered, not redirected: the secret exists only in this response.
    response = render(
        request,
        "metering/device_secret.html",
        {"community": community, "device": created.device, "secret": created.secret},
    )
    response["Cache-Control"] = "no-store"
    return response
