"""The settlement's background tasks (docs/tasks.md).

`settle_month` runs one `SettlementJob`: the job row is the task's record and its key —
the claim on the row (jobs.py) makes a retried, duplicated or redelivered task compute
the month at most once, and take over a job whose worker died. `settle_last_month` is
the scheduler's monthly default: last month of every active configuration, queued once.
"""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cer.communities.models import Configuration, ConfigurationStatus
from cer.core.tasks import MAX_RETRIES, TASK_OPTIONS, TRANSIENT_ERRORS, backoff_s
from cer.settlement import jobs
from cer.settlement.models import JobStatus, SettlementJob, SettlementRun
from cer.settlement.services import SettlementError
from cercalc import periods


@shared_task(bind=True, name=jobs.SETTLE_TASK, max_retries=MAX_RETRIES)
def settle_month(self: Task, job_id: int) -> str:
    """Claim and run settlement job `job_id`; its state and reason stay on the job row.

    A transient error (database or Redis away) gives the job back and retries with
    back-off; after the last retry the job is FAILED with the reason. A job that has
    ended is left alone (returns its state); one another worker holds is looked at again
    when that worker's lease would have lapsed.
    """
    try:
        job = jobs.execute_job(
            job_id=job_id, now=timezone.now(), renew_lease=True, transient=TRANSIENT_ERRORS
        )
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= MAX_RETRIES:
            jobs.give_up(
                job_id=job_id,
                reason=f"gave up after {MAX_RETRIES + 1} attempts: {error!r}"[:500],
            )
            raise
        raise self.retry(exc=error, countdown=backoff_s(self.request.retries)) from error
    held_elsewhere = job.status == JobStatus.RUNNING and job.claimed_by != jobs.worker_name()
    if held_elsewhere and self.request.retries < MAX_RETRIES:
        # A duplicate waits for the end (nothing to do then); a redelivery that came
        # before the dead worker's lease lapsed takes the job over.
        lease_s = jobs.renewed_lease().total_seconds()
        raise self.retry(countdown=int(lease_s) + 1, max_retries=MAX_RETRIES)
    return str(job.status)


def queue_last_month(*, now: dt.datetime) -> list[SettlementJob]:
    """Queue last month's settlement of each active configuration that has none yet.

    A configuration with a job (of any state) or a run for that month is skipped: the
    schedule tries each month once, and a failed try waits for a person. Months whose
    request is refused (not over yet) are skipped too.
    """
    month = periods.month_of(now).previous().start
    tried = SettlementJob.objects.filter(configuration=OuterRef("pk"), month=month)
    settled = SettlementRun.objects.filter(configuration=OuterRef("pk"), month=month)
    queued: list[SettlementJob] = []
    for configuration in (
        Configuration.objects.filter(status=ConfigurationStatus.ACTIVE)
        .exclude(Exists(tried))
        .exclude(Exists(settled))
        .select_related("community")
        .order_by("pk")
    ):
        try:
            queued.append(
                jobs.request_run(configuration=configuration, month=month, actor=None, now=now)
            )
        except SettlementError:
            continue
    return queued


@shared_task(name="cer.settlement.tasks.settle_last_month", **TASK_OPTIONS)
def settle_last_month() -> str:
    """The monthly default (on the 5th): queue last month's settlements."""
    queued = queue_last_month(now=timezone.now())
    return f"queued {len(queued)} settlement(s)"
