"""Work that runs on a schedule: a registry of periodic jobs and the round that runs them.

An app declares what must happen every so often (send due notifications, evaluate the
alert rules, look for silent devices) in a module named `periodic_jobs.py`, with
`register(name, every, run)`. Two schedulers run them: the Celery beat (docs/tasks.md:
each declared job gets a beat entry, cer.core.schedules, whose task calls
`run_named`), and, as the embedded fallback without Redis, `manage.py run_periodic`,
which calls `run_due(now)` in a loop to run each job whose time has come. Neither needs
cron.

Each job has one `PeriodicRun` row. A round claims a due job with one conditional UPDATE
(next_run_at <= now -> now + every) before running it, so two schedulers running at the
same time never run the same job twice in one period; the row also keeps when it last
started, finished and failed, which the health check reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)

JobFunction = Callable[[dt.datetime], object]


@dataclass(frozen=True)
class PeriodicJob:
    """One job: its unique name, how often it runs, and the function run with `now`."""

    name: str
    every: dt.timedelta
    run: JobFunction


_jobs: dict[str, PeriodicJob] = {}
_discovered = False


def register(name: str, every: dt.timedelta, run: JobFunction) -> PeriodicJob:
    """Run `run(now)` every `every` (registering a name again replaces it)."""
    if every <= dt.timedelta(0):
        raise ValueError(f"periodic job {name}: the interval must be positive")
    job = PeriodicJob(name=name, every=every, run=run)
    _jobs[name] = job
    return job


def all_jobs() -> list[PeriodicJob]:
    """Every registered job, after importing each app's `periodic_jobs` module."""
    global _discovered
    if not _discovered:
        autodiscover_modules("periodic_jobs")
        _discovered = True
    return list(_jobs.values())


@dataclass(frozen=True)
class JobOutcome:
    """What one job did in a round: its name, its return value, or the error it raised."""

    name: str
    result: object = None
    error: str = ""


def _claim(job: PeriodicJob, now: dt.datetime, slack: dt.timedelta = dt.timedelta(0)) -> bool:
    """Take the job for this period; False when it is not due or another round took it.

    `slack`: how early the job may run (the beat scheduler's tick may come a moment
    before the time this table recorded; a duplicate of the same tick still finds the
    job claimed for a whole period ahead).
    """
    from cer.core.models import PeriodicRun

    try:
        with transaction.atomic():
            PeriodicRun.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:
        pass  # another scheduler created the row at the same moment
    claimed = PeriodicRun.objects.filter(name=job.name, next_run_at__lte=now + slack).update(
        next_run_at=now + job.every, last_started_at=now
    )
    return claimed == 1


def run_due(now: dt.datetime, *, only: set[str] | None = None) -> list[JobOutcome]:
    """Run every job due at `now` (or only those named); one that fails does not stop the rest."""
    outcomes: list[JobOutcome] = []
    for job in all_jobs():
        if only is not None and job.name not in only:
            continue
        if not _claim(job, now):
            continue
        outcomes.append(_run(job, now))
    return outcomes


def run_named(name: str, now: dt.datetime) -> JobOutcome | None:
    """Run the job `name` for the beat scheduler's tick at `now` (None: already run this period).

    The tick decides when; the claim (with half a period of slack) keeps a duplicate or
    redelivered tick, or `run_periodic` running beside the workers, from running it twice.
    Raises KeyError for a name no app declares.
    """
    jobs = {job.name: job for job in all_jobs()}
    job = jobs[name]
    if not _claim(job, now, slack=job.every / 2):
        return None
    return _run(job, now)


def _run(job: PeriodicJob, now: dt.datetime) -> JobOutcome:
    """Run one claimed job and record its end or its error on its row."""
    from django.utils import timezone

    from cer.core.models import PeriodicRun

    try:
        result = job.run(now)
    except Exception as error:  # a job's failure is recorded, never fatal to the round
        logger.exception("periodic job %s failed", job.name)
        message = f"{type(error).__name__}: {error}"[:500]
        PeriodicRun.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_error=message
        )
        return JobOutcome(job.name, error=message)
    PeriodicRun.objects.filter(name=job.name).update(last_finished_at=timezone.now(), last_error="")
    return JobOutcome(job.name, result=result)
