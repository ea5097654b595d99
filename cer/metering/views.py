"""Pages for a community's managers: device accounts and rejected messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from cer.audit.services import record
from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.metering import broker, quarantine
from cer.metering import devices as device_accounts
from cer.metering.forms import DeviceForm, MeterReplacementForm, RejectedFilterForm
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    CounterState,
    Device,
    DeviceKind,
    DeviceStatus,
    IntervalEnergy,
    RejectedMessage,
)
from cer.metering.reasons import reason_filter, translate_reason
from cer.metering.retention import quarantine_retention_days, rejected_message_retention_days

# The devices page previews the newest rejections; the full list is paged.
REJECTED_PREVIEW = 10
REJECTED_PER_PAGE = 50
# The device page lists the newest quarantined values.
QUARANTINE_SHOWN = 100
# Port of a TLS listener when none is configured for installers (MQTT over TLS, IANA).
MQTT_TLS_PORT = 8883


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def device_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's devices, a form to register one, and the latest rejected messages."""
    form = DeviceForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        try:
            with transaction.atomic():
                created = device_accounts.register_device(
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
        except device_accounts.DeviceNameTaken:
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
    rejected = list(
        RejectedMessage.objects.filter(configuration__community=community).select_related("device")[
            :REJECTED_PREVIEW
        ]
    )
    _translate_reasons(rejected)
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
                rotated = device_accounts.rotate_device_secret(device=device, now=now)
                changes = {"secret": ["[old]", "[new]"]}
            else:
                change_status, done = STATUS_ACTIONS[action]
                changes = {"status": [device.status, change_status(device=device, now=now).status]}
            _record(request, device, community, f"metering.device.{action}d", now, changes=changes)
        if action == "rotate":
            return _show_secret(request, community, rotated)
        messages.success(request, done)
    except device_accounts.DeviceDeleted:
        messages.error(request, _("The device was already deleted."))
    except broker.BrokerError:
        messages.error(request, _("The MQTT broker could not be reached; nothing changed."))
    return redirect("metering:device_list", community_id=community.pk)


# Action → (service, message once done); each is logged as metering.device.<action>d.
STATUS_ACTIONS: dict[str, tuple[Callable[..., Device], Any]] = {
    "disable": (
        device_accounts.disable_device,
        _lazy("Device disabled: the broker disconnected it."),
    ),
    "enable": (device_accounts.enable_device, _lazy("Device enabled.")),
    "delete": (device_accounts.delete_device, _lazy("Device deleted; its readings are kept.")),
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
    request: HttpRequest, community: Community, created: device_accounts.DeviceSecret
) -> HttpResponse:
    # Rendered, not redirected: the secret exists only in this response, which is also
    # the printable installer sheet (printing it needs no second request).
    context = {"community": community, "device": created.device, "secret": created.secret}
    context |= _installer(created.device, created.secret)
    response = render(request, "metering/device_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@object_permission("communities.manage_community", Device, url_kwarg="device_id")
def device_detail(request: HttpRequest, device: Device) -> HttpResponse:
    """One device: how to connect it, whether it has connected, its quarantined values."""
    community = device.connection_point.configuration.community
    context = {
        "community": community,
        "device": device,
        "quarantined": _quarantined(device),
        "replacement_form": MeterReplacementForm(),
        "quarantine_retention_days": quarantine_retention_days(),
    } | _installer(device)
    return render(request, "metering/device_detail.html", context)


def _quarantined(device: Device) -> list[CounterSample]:
    samples = list(
        CounterSample.objects.filter(device=device, state=CounterState.QUARANTINED).order_by(
            "-measured_at"
        )[:QUARANTINE_SHOWN]
    )
    _translate_reasons(samples)
    return samples


@object_permission("communities.manage_community", Device, url_kwarg="device_id")
@require_POST
def counter_action(request: HttpRequest, device: Device) -> HttpResponse:
    """Release (book) or discard a quarantined value of the device, after confirmation."""
    sample = get_object_or_404(CounterSample, pk=request.POST.get("sample") or 0, device=device)
    release = request.POST.get("action") == "release"
    back = reverse("metering:device_detail", args=[device.pk])
    if not is_confirmed(request):
        moment = timezone.localtime(sample.measured_at).strftime("%Y-%m-%d %H:%M:%S %z")
        values = {"value": sample.value_wh, "moment": moment}
        if release:
            consequence = _(
                "The counter value %(value)s Wh of %(moment)s joins the chain: the energy since "
                "the previous value is booked, and the next value continues from this one."
            )
        else:
            consequence = _(
                "The counter value %(value)s Wh of %(moment)s is discarded: it never counts."
            )
        return confirmation_page(
            request,
            title=_("Release the value") if release else _("Discard the value"),
            consequences=[consequence % values, _("This cannot be undone.")],
            action_label=_("Release") if release else _("Discard"),
            cancel_url=back,
        )
    try:
        quarantine.resolve_sample(
            sample=sample, release=release, actor=request.user, now=timezone.now()
        )
    except quarantine.NotInQuarantine:
        messages.error(request, _("The value is no longer in quarantine."))
    else:
        messages.success(request, _("Value released.") if release else _("Value discarded."))
    return redirect(back)


@object_permission("communities.manage_community", Device, url_kwarg="device_id")
@require_POST
def meter_replacement(request: HttpRequest, device: Device) -> HttpResponse:
    """Record a replacement of the device's meter, with its start readings, after confirmation."""
    form = MeterReplacementForm(request.POST)
    back = reverse("metering:device_detail", args=[device.pk])
    if form.is_valid():
        data = form.cleaned_data
        if not is_confirmed(request):
            return confirmation_page(
                request,
                title=_("Record a meter replacement"),
                consequences=[
                    _(
                        "From %(moment)s the device's counters restart from the new meter's "
                        "start readings; the start readings themselves book no energy."
                    )
                    % {
                        "moment": timezone.localtime(data["replaced_at"]).strftime("%Y-%m-%d %H:%M")
                    },
                    _("This cannot be undone."),
                ],
                action_label=_("Record the replacement"),
                cancel_url=back,
            )
        try:
            quarantine.record_replacement(
                device=device,
                replaced_at=data["replaced_at"],
                withdrawn_start_wh=data["withdrawn_start_wh"],
                injected_start_wh=data["injected_start_wh"],
                actor=request.user,
                now=timezone.now(),
            )
        except quarantine.ReplacementRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            messages.success(request, _("Meter replacement recorded."))
            return redirect(back)
    community = device.connection_point.configuration.community
    context = {
        "community": community,
        "device": device,
        "quarantined": _quarantined(device),
        "replacement_form": form,
        "quarantine_retention_days": quarantine_retention_days(),
    } | _installer(device)
    return render(request, "metering/device_detail.html", context, status=400)


@object_permission("communities.manage_community", Device, url_kwarg="device_id")
def device_connection(request: HttpRequest, device: Device) -> HttpResponse:
    """Whether the device's first valid message has been stored, as JSON for the indicator."""
    last_message_at = _last_message_at(device)
    if last_message_at is None:
        label = _("Waiting for the first message")
    else:
        local = timezone.localtime(last_message_at)
        label = _("Connected: last message at %(moment)s") % {
            "moment": local.strftime("%Y-%m-%d %H:%M:%S %z")
        }
    return JsonResponse(
        {
            "connected": last_message_at is not None,
            "last_message_at": last_message_at.isoformat() if last_message_at else None,
            "label": label,
        },
        headers={"Cache-Control": "no-store"},
    )


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def mqtt_ca_certificate(request: HttpRequest, community: Community) -> FileResponse:
    """The certificate of the authority that signed the broker's TLS certificate (404 if none)."""
    ca_file = getattr(settings, "MQTT_CA_FILE", "")
    if not ca_file or not Path(ca_file).is_file():
        raise Http404(_("The broker has no TLS certificate authority configured."))
    return FileResponse(
        Path(ca_file).open("rb"),
        as_attachment=True,
        filename="cercollettiva-mqtt-ca.crt",
        content_type="application/x-pem-file",
    )


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def rejected_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's rejected messages, filtered by device and kind of reason, paged."""
    form = RejectedFilterForm(request.GET or None, community=community)
    rejected = RejectedMessage.objects.filter(configuration__community=community).select_related(
        "device"
    )
    if form.is_valid():
        if form.cleaned_data["device"] is not None:
            rejected = rejected.filter(device=form.cleaned_data["device"])
        if form.cleaned_data["reason"]:
            rejected = rejected.filter(reason_filter(form.cleaned_data["reason"]))
    page = Paginator(rejected, REJECTED_PER_PAGE).get_page(request.GET.get("page"))
    _translate_reasons(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "community": community,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "rejected_retention_days": rejected_message_retention_days(),
    }
    return render(request, "metering/rejected.html", context)


def _translate_reasons(rejected: Any) -> None:
    for message in rejected:
        message.reason_display = translate_reason(message.reason)


def _last_message_at(device: Device) -> Any:
    """Arrival of the device's newest stored reading, read in one query.

    The newest sample of each register and the newest interval are found through the
    unique indexes (device, register, instant) and (point, start); no field is kept
    on the device for this.
    """

    def newest_sample(channel: str) -> Subquery:
        samples = CounterSample.objects.filter(device=OuterRef("pk"), channel=channel)
        return Subquery(samples.order_by("-measured_at").values("received_at")[:1])

    intervals = IntervalEnergy.objects.filter(
        connection_point=OuterRef("connection_point"), device=OuterRef("pk")
    )
    row = (
        Device.objects.filter(pk=device.pk)
        .annotate(
            withdrawn_at=newest_sample(CounterChannel.WITHDRAWN),
            injected_at=newest_sample(CounterChannel.INJECTED),
            interval_at=Subquery(intervals.order_by("-start_at").values("received_at")[:1]),
        )
        .values("withdrawn_at", "injected_at", "interval_at")
        .get()
    )
    moments = [moment for moment in row.values() if moment is not None]
    return max(moments) if moments else None


def _broker_address() -> dict[str, Any]:
    ca_file = getattr(settings, "MQTT_CA_FILE", "")
    default_port = MQTT_TLS_PORT if ca_file else settings.MQTT_PORT
    return {
        "host": getattr(settings, "MQTT_PUBLIC_HOST", "") or settings.MQTT_HOST,
        "port": getattr(settings, "MQTT_PUBLIC_PORT", None) or default_port,
        "tls": bool(ca_file),
    }


def _installer(device: Device, secret: str = "") -> dict[str, Any]:
    """What an installer types into the device, by the device's payload format.

    Without `secret` (any page but the one-time one) a placeholder stands in its place.
    """
    address = _broker_address()
    password = secret or str(_("<secret>"))
    point = device.connection_point
    # Tasmota publishes telemetry on FullTopic with %prefix% = tele and %topic% = Topic:
    # cer/<configuration>/<POD>/<name>/tele/SENSOR, the device's own subtree.
    full_topic = f"cer/{point.configuration_id}/{point.pod}/%topic%/%prefix%/"
    connection = [
        f"MqttHost {address['host']}",
        f"MqttPort {address['port']}",
        f"MqttUser {device.mqtt_username}",
        f"MqttPassword {password}",
    ]
    if address["tls"]:
        connection += ["SetOption103 1", "SetOption132 1"]
    telemetry = [
        f"Topic {device.name}",
        f"FullTopic {full_topic}",
        "SetOption52 1",
        "SetOption4 0",
        "TelePeriod 60",
    ]
    return {
        "broker": address,
        "is_shelly": device.kind in (DeviceKind.SHELLY_EM, DeviceKind.SHELLY_STATUS),
        # One ingestion path per device: the kind says which of the two Shelly topics count.
        "shelly_status_only": device.kind == DeviceKind.SHELLY_STATUS,
        "is_tasmota": device.kind == DeviceKind.TASMOTA,
        "is_own_json": device.kind == DeviceKind.OWN_JSON,
        "password": password,
        "tasmota_connection": connection,
        "tasmota_telemetry": telemetry,
        "tasmota_backlogs": [
            "Backlog " + "; ".join(connection),
            "Backlog " + "; ".join(telemetry),
        ],
        "readings_topic": f"{device.topic_prefix}/readings",
    }
