"""The metering app's background tasks (docs/tasks.md)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from cer.core.tasks import TASK_OPTIONS
from cer.metering.profiles import estimate_gaps
from cer.plants.models import ConnectionPoint
from cercalc import periods


@shared_task(name="cer.metering.tasks.estimate_last_month_gaps", **TASK_OPTIONS)
def estimate_last_month_gaps() -> str:
    """Write EST readings for last month's missing hours, configuration by configuration.

    Idempotent: `estimate_gaps` inserts ignoring rows that exist, so a rerun writes nothing.
    Only the points of active configurations (the scheduler's entry is created disabled).
    """
    now = timezone.now()
    month = periods.month_of(now).previous()
    points = list(
        ConnectionPoint.objects.filter(configuration__status="ACTIVE")
        .select_related("configuration__community")
        .order_by("configuration_id", "pk")
    )
    written = 0
    by_configuration: dict[int, list[ConnectionPoint]] = {}
    for point in points:
        by_configuration.setdefault(point.configuration_id, []).append(point)
    for group in by_configuration.values():
        written += estimate_gaps(points=group, month=month, now=now).written_rows
    return f"{month.key}: wrote {written} estimated readings"
