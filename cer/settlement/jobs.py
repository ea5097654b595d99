"""Settlement jobs: queue a month's settlement, claim it, run it to the end.

A job is a `SettlementJob` row; a partial unique constraint allows one queued or running job
per configuration and month. The row is the record of the background task (docs/tasks.md):
with TASKS_ON_CELERY the request sends `cer.settlement.tasks.settle_month` to the workers
after commit; in the embedded fallback the request starts the job in a thread after commit,
or the `run_settlement_jobs` command claims and runs queued jobs.

Whoever runs a job claims it first (one UPDATE): only the claimant computes, so a thread,
a command, a retried or a duplicated task never settle the same month twice (on SQLite the
second writer failed with "database is locked" and marked the job FAILED over a stored
run). A claim is a lease: a worker renews it while it computes, so a job RUNNING under a
lease that ran out belongs to a dead worker, and the next delivery of its task (Redis
hands an unacknowledged task to another worker) takes it over and completes it once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.core import task_metrics
from cer.settlement import notices
from cer.settlement.models import ACTIVE_JOB_STATUSES, JobStatus, SettlementJob
from cer.settlement.services import SettlementError, check_month_over, compute_month
from cercalc import periods

logger = logging.getLogger(__name__)

# The task that runs a job on the workers (cer/settlement/tasks.py), looked up by name:
# the task module imports this one.
SETTLE_TASK = "cer.settlement.tasks.settle_month"


class RunAlreadyInProgress(SettlementError):
    """Another settlement of the same configuration and month is queued or running."""


def worker_name() -> str:
    """Who claims a job: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def renewed_lease() -> dt.timedelta:
    """How long a claim renewed while it runs stays valid without a renewal."""
    return dt.timedelta(seconds=settings.SETTLEMENT_JOB_LEASE_S)


def unrenewed_lease() -> dt.timedelta:
    """A claim nobody renews (a thread, the command) lasts as long as a task may run."""
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def request_run(
    *,
    configuration: Configuration,
    month: dt.date,
    actor: Any,
    now: dt.datetime,
    background: bool | None = None,
) -> SettlementJob:
    """Queue a settlement of the month and have it run after commit.

    `background`: run it in the background (default: when TASKS_ON_CELERY or the
    embedded SETTLEMENT_JOBS_IN_PROCESS is on); a caller that runs the job itself passes
    False. With TASKS_ON_CELERY the job goes to the workers, otherwise to a thread.
    Raises MonthNotOver (the month has not ended at `now`) and RunAlreadyInProgress when
    another job for the same month is queued or running (a partial unique constraint).
    """
    check_month_over(month=month, now=now)
    on_celery = bool(getattr(settings, "TASKS_ON_CELERY", False))
    try:
        with transaction.atomic():
            job = SettlementJob.objects.create(
                configuration=configuration,
                month=periods.month_of(month).start,
                requested_at=now,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                task_id=uuid.uuid4().hex if on_celery else "",
            )
            record(
                actor=actor,
                code="settlement.job.requested",
                now=now,
                target=job,
                community=configuration.community,
                changes={"month": job.month.isoformat()},
            )
    except IntegrityError as error:
        raise RunAlreadyInProgress(f"{configuration} {month:%Y-%m}") from error
    if background is None:
        background = on_celery or getattr(settings, "SETTLEMENT_JOBS_IN_PROCESS", True)
    if background:
        if on_celery:
            job_id, task_id = job.pk, job.task_id
            transaction.on_commit(lambda: send_to_workers(job_id=job_id, task_id=task_id))
        else:
            transaction.on_commit(lambda: _start_thread(job.pk))
    return job


def send_to_workers(*, job_id: int, task_id: str) -> bool:
    """Queue the job's task on Redis; False (logged) when Redis cannot be reached.

    The job stays QUEUED then, and the recovery job (periodic_jobs.py) sends it again:
    the request that queued it has committed and must not fail for it.
    """
    from celery import current_app

    try:
        current_app.tasks[SETTLE_TASK].apply_async(args=[job_id], task_id=task_id or None)
    except Exception:  # kombu raises its own OperationalError when Redis is down
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            raise  # inline: the error is the task's own, let the caller see it
        logger.exception("settlement job %s could not be queued; the recovery job retries", job_id)
        return False
    return True


def _start_thread(job_id: int) -> None:
    def work() -> None:
        try:
            execute_job(job_id=job_id, now=timezone.now())
        finally:
            close_old_connections()

    threading.Thread(target=work, name=f"settlement-job-{job_id}", daemon=True).start()


def _takeable(wall: dt.datetime) -> Q:
    """Jobs a claim may take: queued ones, and running ones whose claimant is gone."""
    lapsed = Q(lease_until__lt=wall) | Q(lease_until=None, started_at__lt=wall - unrenewed_lease())
    return Q(status=JobStatus.QUEUED) | (Q(status=JobStatus.RUNNING) & lapsed)


def _claim(job_id: int, *, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take the job for this process (one UPDATE); False when someone else holds it."""
    wall = timezone.now()
    return (
        SettlementJob.objects.filter(pk=job_id)
        .filter(_takeable(wall))
        .update(
            status=JobStatus.RUNNING,
            started_at=now,
            claimed_by=worker_name(),
            lease_until=wall + lease,
            attempts=F("attempts") + 1,
        )
        == 1
    )


def claim_next_job(*, now: dt.datetime) -> SettlementJob | None:
    """Mark the oldest queued job as running and return it (None when nothing is queued)."""
    for job_id in (
        SettlementJob.objects.filter(status=JobStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:10]
    ):
        if _claim(job_id, now=now, lease=unrenewed_lease()):
            return SettlementJob.objects.get(pk=job_id)
    return None


def execute_job(
    *,
    job_id: int,
    now: dt.datetime,
    claimed: bool = False,
    clock: Callable[[], dt.datetime] = timezone.now,
    renew_lease: bool = False,
    transient: tuple[type[BaseException], ...] = (),
) -> SettlementJob:
    """Claim a job and run it to the end, recording its run or its error.

    `claimed`: the caller claimed the job already (claim_next_job). A job someone else
    holds, or that has ended, is returned as it is, not computed a second time. `now` is
    the start; the job's `finished_at` is read from `clock` when the computation ends.
    `renew_lease`: keep the claim alive from a thread while computing (the workers), so
    a short lease tells a dead worker apart. `transient`: errors that give the job back
    (QUEUED) and propagate, for the caller to retry later.
    """
    lease = renewed_lease() if renew_lease else unrenewed_lease()
    if not claimed and not _claim(job_id, now=now, lease=lease):
        return SettlementJob.objects.get(pk=job_id)
    job = SettlementJob.objects.select_related("configuration__community").get(pk=job_id)
    if job.status != JobStatus.RUNNING:
        return job
    holder = job.claimed_by
    renewal = _lease_renewal(job.pk, holder) if renew_lease else nullcontext()
    try:
        with renewal:
            outcome = compute_month(
                configuration=job.configuration, month=job.month, now=now, actor=job.requested_by
            )
    except SoftTimeLimitExceeded:
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        return _failed(job, f"stopped after the time limit of {limit} s", clock(), holder)
    except SettlementError as error:
        return _failed(job, str(error), clock(), holder)
    except transient:
        _give_back(job.pk, holder)
        raise
    except Exception as error:
        logger.exception("settlement job %s failed", job.pk)
        return _failed(job, f"unexpected error: {error!r}", clock(), holder)
    finished_at = clock()
    ended = SettlementJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, claimed_by=holder
    ).update(
        status=JobStatus.DONE,
        run=outcome.run,
        created_new_version=outcome.created,
        finished_at=finished_at,
        lease_until=None,
    )
    job.refresh_from_db()
    if ended:
        notices.job_ended(job, now=finished_at)
    return job


@contextmanager
def _lease_renewal(job_id: int, holder: str) -> Iterator[None]:
    """Renew the claim every third of the lease until the block ends.

    Not inside a transaction the caller holds (a test running the task inline): the
    renewal's own connection would wait for that transaction's lock on the row.
    """
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()
    lease = renewed_lease()

    def renew() -> None:
        try:
            while not stop.wait(lease.total_seconds() / 3):
                SettlementJob.objects.filter(
                    pk=job_id, status=JobStatus.RUNNING, claimed_by=holder
                ).update(lease_until=timezone.now() + lease)
        except DatabaseError:
            # The job keeps running; if the lease lapses another worker may take over.
            logger.warning("could not renew the lease of settlement job %s", job_id)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"settlement-lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _give_back(job_id: int, holder: str) -> None:
    """Put a job this process holds back in the queue (a transient error; it is retried)."""
    try:
        SettlementJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, claimed_by=holder).update(
            status=JobStatus.QUEUED, claimed_by="", lease_until=None
        )
    except DatabaseError:
        # The database is the transient error: the lease lapses and the retry takes over.
        logger.warning("could not give settlement job %s back to the queue", job_id)


def give_up(*, job_id: int, reason: str) -> SettlementJob | None:
    """Mark an active job FAILED with `reason` (its task will not be tried again)."""
    job = (
        SettlementJob.objects.select_related("configuration__community")
        .filter(pk=job_id, status__in=ACTIVE_JOB_STATUSES)
        .first()
    )
    if job is None:
        return None
    return _failed(job, reason, timezone.now(), job.claimed_by)


def _failed(job: SettlementJob, error: str, finished_at: dt.datetime, holder: str) -> SettlementJob:
    ended = SettlementJob.objects.filter(
        pk=job.pk, status__in=ACTIVE_JOB_STATUSES, claimed_by=holder
    ).update(status=JobStatus.FAILED, error=error, finished_at=finished_at, lease_until=None)
    job.refresh_from_db()
    if ended:
        logger.info("settlement job %s failed: %s", job.pk, error)
        notices.job_ended(job, now=finished_at)
    return job


def recover(*, now: dt.datetime) -> dict[str, int]:
    """Free the months held by jobs nobody runs any more (the periodic recovery job).

    With TASKS_ON_CELERY a job whose claim lapsed, or queued for over ten minutes while
    the queue is empty, has its task sent again (the claim makes a second send
    harmless); without workers a lapsed job is marked FAILED, naming why, so the month
    can be settled again.
    """
    wall = timezone.now()
    lapsed = list(
        SettlementJob.objects.filter(status=JobStatus.RUNNING)
        .filter(_takeable(wall))
        .values_list("pk", "task_id")
    )
    if not getattr(settings, "TASKS_ON_CELERY", False):
        for job_id, _task in lapsed:
            give_up(job_id=job_id, reason="the process running it stopped before the end")
        return {"failed": len(lapsed)}
    # A job still QUEUED while the queue is empty lost its message (Redis was down when
    # it was sent, or restarted without its data); while tasks wait, it is only waiting.
    waiting: list[tuple[int, str]] = []
    if task_metrics.queue_length() == 0:
        waiting = list(
            SettlementJob.objects.filter(
                status=JobStatus.QUEUED, requested_at__lt=now - dt.timedelta(minutes=10)
            ).values_list("pk", "task_id")
        )
    sent = sum(send_to_workers(job_id=pk, task_id="") for pk, _task in lapsed + waiting)
    return {"sent_again": sent}
