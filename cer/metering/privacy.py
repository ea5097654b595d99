"""What metering keeps about a person, for the GDPR export and the retention run.

Registered with cer.privacy.contributions by MeteringConfig.ready: privacy is on a lower
floor and does not import metering.
"""

from __future__ import annotations

from typing import Any

from cer.metering.models import Device
from cer.metering.retention import (
    delete_expired_ingested,
    delete_expired_quarantine,
    delete_expired_rejections,
)
from cer.metering.series import holder_readings
from cer.privacy.contributions import (
    RetentionRule,
    register_export_section,
    register_retention_rule,
)

DEVICE_FIELDS = ["connection_point__pod", "name", "kind", "serial_number", "status", "created_at"]


def member_devices(member: Any) -> list[dict[str, Any]]:
    """The devices on the member's connection points, one dict per device."""
    rows = (
        Device.objects.filter(connection_point__holder=member)
        .order_by("pk")
        .values_list(*DEVICE_FIELDS)
    )
    return [dict(zip(DEVICE_FIELDS, values, strict=True)) for values in rows]


def member_readings(member: Any) -> list[dict[str, Any]]:
    return holder_readings(member=member)


def register() -> None:
    register_export_section("devices", member_devices)
    register_export_section("hourly_readings", member_readings)
    register_retention_rule(
        RetentionRule(
            "rejected_messages",
            "Rejected metering messages: deleted after REJECTED_MESSAGE_RETENTION_DAYS "
            "(default 365, at least 30)",
            lambda now: delete_expired_rejections(now=now),
        )
    )
    register_retention_rule(
        RetentionRule(
            "counter_quarantine",
            "Counter values in quarantine or discarded: deleted after "
            "COUNTER_QUARANTINE_RETENTION_DAYS (default 365, at least 30)",
            lambda now: delete_expired_quarantine(now=now),
        )
    )
    register_retention_rule(
        RetentionRule(
            "ingested_messages",
            "Digests of accepted metering status messages: deleted after "
            "INGESTED_MESSAGE_RETENTION_DAYS (default 30, at least 7)",
            lambda now: delete_expired_ingested(now=now),
        )
    )
