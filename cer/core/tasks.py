"""The ground floor's background tasks, and what every task of the project shares.

`TASK_OPTIONS` is how every task is declared (docs/tasks.md): acknowledged late (the
settings), retried with exponential back-off and jitter on transient errors — the
database or Redis unreachable for a moment — and never on a bug or bad data, which fail
at once with their reason. `run_periodic_job` runs one job declared with
`cer.core.periodic.register` for the beat scheduler; `worker_heartbeat` lets /healthz see
that a worker takes tasks from the queue; `backup` writes the daily backup;
`run_recorded` does the work of a `TaskRecord` (imports, exports, bundles of PDFs:
cer/core/background.py).
"""

from __future__ import annotations

from typing import Any

import redis
from celery import Task, shared_task
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from cer.core import background, heartbeat, periodic

# Errors that may pass if the task is tried again a little later.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
    KombuOperationalError,
)
MAX_RETRIES = 5
MAX_BACKOFF_S = 300

TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": MAX_BACKOFF_S,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def backoff_s(retries: int) -> int:
    """Seconds before retry number `retries` + 1: 5, 10, 20 … up to five minutes."""
    return int(min(MAX_BACKOFF_S, 5 * 2**retries))


@shared_task(name="cer.core.tasks.run_periodic_job", **TASK_OPTIONS)
def run_periodic_job(name: str) -> str:
    """Run the declared periodic job `name` for this tick of the scheduler.

    Idempotent per period: the job's `PeriodicRun` row is claimed first, so a duplicate
    tick does nothing. The job's own error is recorded on that row (and /healthz names
    it); the task itself succeeds, as `run_periodic` does.
    """
    outcome = periodic.run_named(name, timezone.now())
    if outcome is None:
        return "already run in this period"
    if outcome.error:
        return f"failed: {outcome.error}"
    return str(outcome.result or "")


@shared_task(name="cer.core.tasks.worker_heartbeat", **TASK_OPTIONS)
def worker_heartbeat() -> bool:
    """Record that a worker took a task from the queue (the scheduler sends one a minute)."""
    heartbeat.forget()  # each delivery is a sign of life; the throttle is per process
    return heartbeat.beat(heartbeat.WORKER, timezone.now())


@shared_task(name="cer.core.tasks.backup", **TASK_OPTIONS)
def backup() -> str:
    """Write a backup with `manage.py backup` (encrypted when BACKUP_ENCRYPTION_KEY is set).

    Each run writes a new time-stamped file, so a repeated delivery costs space, never data.
    """
    from io import StringIO

    out = StringIO()
    call_command("backup", stdout=out)
    return out.getvalue().strip()[-500:]


@shared_task(bind=True, name=background.RUN_TASK, max_retries=MAX_RETRIES)
def run_recorded(self: Task, record_id: int) -> str:
    """Do the work of `TaskRecord` `record_id`; its state and reason stay on the record.

    Keyed by the record: the claim lets one run do the work; a duplicate, or a delivery
    of a record that has ended, does nothing. A transient error gives the record back and
    retries with back-off; after the last retry the record is FAILED with the reason.
    """
    try:
        record = background.execute(
            record_id=record_id, now=timezone.now(), transient=TRANSIENT_ERRORS
        )
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= MAX_RETRIES:
            background.fail(
                record_id=record_id,
                reason=f"gave up after {MAX_RETRIES + 1} attempts: {error!r}",
                now=timezone.now(),
            )
            raise
        raise self.retry(exc=error, countdown=backoff_s(self.request.retries)) from error
    return "taken by another run, or ended" if record is None else str(record.state)
