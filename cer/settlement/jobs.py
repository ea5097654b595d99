"""Settlement jobs: queue a month's settlement, claim it, run it to the end.

A job is a `SettlementJob` row; a partial unique constraint allows one queued or running job
per configuration and month. In the embedded setup the request starts the job in a thread
after commit; otherwise the `run_settlement_jobs` command claims and runs queued jobs.
Whoever runs a job claims it first (QUEUED -> RUNNING in one UPDATE): only the claimant
computes, so a thread and a command never settle the same month twice (on SQLite the second
writer failed with "database is locked" and marked the job FAILED over a stored run).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.settlement import notices
from cer.settlement.models import JobStatus, SettlementJob
from cer.settlement.services import SettlementError, check_month_over, compute_month
from cercalc import periods

logger = logging.getLogger(__name__)


class RunAlreadyInProgress(SettlementError):
    """Another settlement of the same configuration and month is queued or running."""


def request_run(
    *,
    configuration: Configuration,
    month: dt.date,
    actor: Any,
    now: dt.datetime,
    background: bool | None = None,
) -> SettlementJob:
    """Queue a settlement of the month; in the embedded setup start it after commit.

    `background`: start the in-process thread (default: the SETTLEMENT_JOBS_IN_PROCESS
    setting); a caller that runs the job itself passes False.
    Raises MonthNotOver (the month has not ended at `now`) and RunAlreadyInProgress when
    another job for the same month is queued or running (a partial unique constraint).
    """
    check_month_over(month=month, now=now)
    try:
        with transaction.atomic():
            job = SettlementJob.objects.create(
                configuration=configuration,
                month=periods.month_of(month).start,
                requested_at=now,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
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
        background = getattr(settings, "SETTLEMENT_JOBS_IN_PROCESS", True)
    if background:
        transaction.on_commit(lambda: _start_thread(job.pk))
    return job


def _start_thread(job_id: int) -> None:
    def work() -> None:
        try:
            execute_job(job_id=job_id, now=timezone.now())
        finally:
            close_old_connections()

    threading.Thread(target=work, name=f"settlement-job-{job_id}", daemon=True).start()


def claim_next_job(*, now: dt.datetime) -> SettlementJob | None:
    """Mark the oldest queued job as running and return it (None when nothing is queued)."""
    for job_id in (
        SettlementJob.objects.filter(status=JobStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:10]
    ):
        claimed = SettlementJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now
        )
        if claimed:
            return SettlementJob.objects.get(pk=job_id)
    return None


def execute_job(
    *,
    job_id: int,
    now: dt.datetime,
    claimed: bool = False,
    clock: Callable[[], dt.datetime] = timezone.now,
) -> SettlementJob:
    """Claim a queued job and run it to the end, recording its run or its error.

    `claimed`: the caller claimed the job already (claim_next_job). A job someone else
    claimed is returned as it is, not computed a second time. `now` is the start; the job's
    `finished_at` is read from `clock` when the computation ends.
    """
    if not claimed:
        won = SettlementJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now
        )
        if not won:
            return SettlementJob.objects.get(pk=job_id)
    job = SettlementJob.objects.select_related("configuration__community").get(pk=job_id)
    if job.status != JobStatus.RUNNING:
        return job
    try:
        outcome = compute_month(
            configuration=job.configuration, month=job.month, now=now, actor=job.requested_by
        )
    except SettlementError as error:
        return _failed(job, str(error), clock())
    except Exception as error:
        logger.exception("settlement job %s failed", job.pk)
        return _failed(job, f"unexpected error: {error!r}", clock())
    job.status, job.run, job.created_new_version = JobStatus.DONE, outcome.run, outcome.created
    job.finished_at = clock()
    job.save(update_fields=["status", "run", "created_new_version", "finished_at"])
    notices.job_ended(job, now=job.finished_at)
    return job


def _failed(job: SettlementJob, error: str, finished_at: dt.datetime) -> SettlementJob:
    job.status, job.error, job.finished_at = JobStatus.FAILED, error, finished_at
    job.save(update_fields=["status", "error", "finished_at"])
    logger.info("settlement job %s failed: %s", job.pk, error)
    notices.job_ended(job, now=finished_at)
    return job
