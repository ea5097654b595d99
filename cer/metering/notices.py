"""What the metering app tells the community's managers about device accounts.

A device account created or disabled changes who may write readings for a connection
point: the managers hear of it whoever did it (the page, the API, the admin). A silent
device is told by cer/metering/silence.py. Each notice leaves after the commit of the
change and never undoes it.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from cer.members.notices import after_commit, managers_of
from cer.metering.models import Device
from cer.notifications import links, topics
from cer.notifications.services import notify

DEVICE_CREATED = topics.register(
    topics.Topic(
        code="metering.device.created",
        title=_("A device account created"),
        subject=_("Device {device} created for {pod}"),
        body=_(
            "A device account {device} ({kind}) was created for connection point {pod} in "
            "{community} on {at}: it may now send readings."
        ),
    )
)
DEVICE_DISABLED = topics.register(
    topics.Topic(
        code="metering.device.disabled",
        title=_("A device account disabled"),
        subject=_("Device {device} of {pod} disabled"),
        body=_(
            "The device account {device} of connection point {pod} in {community} was "
            "disabled on {at}: its connections and readings are refused."
        ),
    )
)


def device_created(device: Device, *, now: dt.datetime) -> None:
    """Tell the managers of the device's community that it has an account now."""
    _tell(device.pk, DEVICE_CREATED, now)


def device_disabled(device: Device, *, now: dt.datetime) -> None:
    """Tell the managers of the device's community that its account was disabled."""
    _tell(device.pk, DEVICE_DISABLED, now)


def _tell(device_id: int, topic: topics.Topic, now: dt.datetime) -> None:
    def send() -> None:
        device = Device.objects.select_related("connection_point__configuration__community").get(
            pk=device_id
        )
        community = device.connection_point.configuration.community
        notify(
            managers_of(community.pk, now),
            topic.code,
            {
                "device": device.name,
                "kind": device.get_kind_display(),
                "pod": device.connection_point.pod,
                "community": community.name,
                "at": now,
            },
            link=links.site_path("metering:device_detail", device.pk),
            now=now,
            community=community,
        )

    after_commit(send, what="a device account change")
