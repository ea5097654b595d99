"""The default schedules of the beat scheduler (django-celery-beat), created once.

Every job declared with `cer.core.periodic.register` gets an entry that sends the generic
task `run_periodic_job` with its name at its interval; beside them a few entries send a
task of their own on a calendar: the worker heartbeat each minute, the daily backup, the
estimate of last month's gaps (created disabled: estimates change what members are paid,
so a person turns it on) and the settlement of last month on the 5th.

`sync_schedules()` runs when a worker or the scheduler starts and from
`manage.py sync_schedules`. It only creates what is missing, by entry name: an entry an
administrator edited (interval, time, enabled) or deleted-and-recreated is left as it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from cer.core import periodic

logger = logging.getLogger(__name__)

PERIODIC_TASK = "cer.core.tasks.run_periodic_job"
PREFIX = "cer: "


@dataclass(frozen=True)
class CalendarEntry:
    """A default entry on a calendar (crontab fields in Europe/Rome time)."""

    name: str
    task: str
    minute: str
    hour: str
    day_of_month: str = "*"
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class IntervalEntry:
    """A default entry every `seconds`."""

    name: str
    task: str
    seconds: int
    args: tuple[str, ...] = ()
    description: str = ""


CALENDAR_DEFAULTS = (
    CalendarEntry(
        name=PREFIX + "daily backup",
        task="cer.core.tasks.backup",
        minute="30",
        hour="2",
        description="manage.py backup into var/backups (docs/backup.md)",
    ),
    CalendarEntry(
        name=PREFIX + "estimate last month's gaps",
        task="cer.metering.tasks.estimate_last_month_gaps",
        minute="0",
        hour="4",
        day_of_month="3",
        enabled=False,
        description="EST readings for last month's missing hours of active configurations",
    ),
    CalendarEntry(
        name=PREFIX + "settle last month",
        task="cer.settlement.tasks.settle_last_month",
        minute="0",
        hour="6",
        day_of_month="5",
        description="queue last month's settlement of every active configuration, once",
    ),
)

HEARTBEAT = IntervalEntry(
    name=PREFIX + "worker heartbeat",
    task="cer.core.tasks.worker_heartbeat",
    seconds=60,
    description="a sign of life of the workers for /healthz",
)


def interval_defaults() -> list[IntervalEntry]:
    """The heartbeat and one entry per declared periodic job."""
    entries = [HEARTBEAT]
    for job in sorted(periodic.all_jobs(), key=lambda job: job.name):
        entries.append(
            IntervalEntry(
                name=PREFIX + job.name,
                task=PERIODIC_TASK,
                seconds=max(1, int(job.every.total_seconds())),
                args=(job.name,),
                description=f"periodic job {job.name}",
            )
        )
    return entries


def sync_schedules() -> list[str]:
    """Create the default entries that do not exist yet; return the names created."""
    from django_celery_beat.models import (
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
    )

    existing = set(PeriodicTask.objects.values_list("name", flat=True))
    created: list[str] = []
    for interval in interval_defaults():
        if interval.name in existing:
            continue
        every, _ = IntervalSchedule.objects.get_or_create(
            every=interval.seconds, period=IntervalSchedule.SECONDS
        )
        if _create(
            PeriodicTask,
            name=interval.name,
            task=interval.task,
            interval=every,
            args=json.dumps(list(interval.args)),
            description=interval.description,
        ):
            created.append(interval.name)
    for entry in CALENDAR_DEFAULTS:
        if entry.name in existing:
            continue
        calendar, _ = CrontabSchedule.objects.get_or_create(
            minute=entry.minute,
            hour=entry.hour,
            day_of_month=entry.day_of_month,
            month_of_year="*",
            day_of_week="*",
            timezone="Europe/Rome",
        )
        if _create(
            PeriodicTask,
            name=entry.name,
            task=entry.task,
            crontab=calendar,
            enabled=entry.enabled,
            description=entry.description,
        ):
            created.append(entry.name)
    if created:
        logger.info("created the default schedules: %s", ", ".join(created))
    return created


def _create(model: type, **fields: object) -> bool:
    """Create one entry; False when a scheduler starting at the same moment created it."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)  # type: ignore[attr-defined]
    except IntegrityError:
        return False
    return True
