"""Devices gone silent: a meter that sent nothing for SILENCE days is told to the referente.

Run by the notification sender's periodic checks (registered in MeteringConfig.ready). A
device's last message is the arrival of its newest counter sample or interval, found
through the same indexes as the device page; a device that never sent anything counts
from its creation. Each silence is told once: the notification's deduplication key holds
the device and the moment it went quiet, so a device that speaks and falls silent again
is told again, and one that stays silent is not told every hour.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import OuterRef, Subquery

from cer.members.notices import managers_of
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    Device,
    DeviceStatus,
    IntervalEnergy,
)
from cer.notifications import links, topics
from cer.notifications.services import notify

logger = logging.getLogger(__name__)

SILENCE = dt.timedelta(days=7)


def _newest_sample(channel: str) -> Subquery:
    samples = CounterSample.objects.filter(device=OuterRef("pk"), channel=channel)
    return Subquery(samples.order_by("-measured_at").values("received_at")[:1])


def silent_devices(now: dt.datetime) -> list[tuple[Device, dt.datetime, bool]]:
    """Active devices with nothing received for SILENCE before `now`.

    Returns (device, silent since, ever heard from) for each.
    """
    intervals = IntervalEnergy.objects.filter(
        connection_point=OuterRef("connection_point"), device=OuterRef("pk")
    )
    rows = (
        Device.objects.filter(status=DeviceStatus.ACTIVE, created_at__lte=now - SILENCE)
        .select_related("connection_point__configuration__community")
        .annotate(
            withdrawn_at=_newest_sample(CounterChannel.WITHDRAWN),
            injected_at=_newest_sample(CounterChannel.INJECTED),
            interval_at=Subquery(intervals.order_by("-start_at").values("received_at")[:1]),
        )
    )
    silent: list[tuple[Device, dt.datetime, bool]] = []
    for device in rows:
        moments = [
            moment
            for moment in (device.withdrawn_at, device.injected_at, device.interval_at)  # type: ignore[attr-defined]
            if moment is not None
        ]
        last = max(moments) if moments else device.created_at
        if last <= now - SILENCE:
            silent.append((device, last, bool(moments)))
    return silent


def notify_silent_devices(now: dt.datetime) -> int:
    """Tell each silent device's community managers, once per silence; return how many."""
    told = 0
    for device, since, _heard in silent_devices(now):
        community = device.connection_point.configuration.community
        told += len(
            notify(
                managers_of(community.pk, now),
                topics.DEVICE_SILENT.code,
                {
                    "device": device.name,
                    "pod": device.connection_point.pod,
                    "community": community.name,
                    "since": since,
                },
                link=links.site_path("metering:device_detail", device.pk),
                now=now,
                community=community,
                dedupe_key=f"device-silent:{device.pk}:{since.isoformat()}",
            )
        )
    if told:
        logger.info("told %s managers of silent devices", told)
    return told
