"""Pages for a community's managers: device accounts and rejected messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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
        try:
            created = services.register_device(
                point=data["point"],
                name=data["name"],
                kind=data["kind"],
                serial_number=data["serial_number"],
                meter_channel=data["meter_channel"],
                counter_rollover_wh=data["counter_rollover_wh"],
                now=timezone.now(),
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
    try:
        if action == "rotate":
            return _show_secret(
                request, community, services.rotate_device_secret(device=device, now=now)
            )
        if action == "disable":
            services.disable_device(device=device, now=now)
            messages.success(request, _("Device disabled: the broker disconnected it."))
        elif action == "enable":
            services.enable_device(device=device, now=now)
            messages.success(request, _("Device enabled."))
        elif action == "delete":
            services.delete_device(device=device, now=now)
            messages.success(request, _("Device deleted; its readings are kept."))
        else:
            messages.error(request, _("Unknown action."))
    except services.DeviceDeleted:
        messages.error(request, _("The device was already deleted."))
    except broker.BrokerError:
        messages.error(request, _("The MQTT broker could not be reached; nothing changed."))
    return redirect("metering:device_list", community_id=community.pk)


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
