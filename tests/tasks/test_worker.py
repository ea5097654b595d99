"""Tasks on a real Redis and real worker processes: a worker killed mid-task blocks nothing.

A worker is SIGKILLed while it settles a month; the task, never acknowledged, goes back to
the queue, a second worker takes over the job whose lease lapsed, and the month is
settled once. A duplicate of the task, and a duplicated scheduler tick, do nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cer.core.models import Heartbeat, PeriodicRun
from cer.core.tasks import run_periodic_job, worker_heartbeat
from cer.settlement.jobs import request_run
from cer.settlement.models import JobStatus, SettlementJob, SettlementRun
from cer.settlement.tasks import settle_month
from tests.factories.settlement import settled_small
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

JUNE = dt.date(2025, 6, 1)


def _job() -> SettlementJob:
    return SettlementJob.objects.get()


def test_a_worker_killed_mid_settlement_leaves_no_month_blocked(workers):
    small = settled_small()
    first = workers.start("first", SLOW_SETTLEMENT_S="120")

    job = request_run(configuration=small.configuration, month=JUNE, actor=None, now=timezone.now())
    wait_for(
        lambda: _job().status == JobStatus.RUNNING, timeout=120, what="the first worker's claim"
    )
    held = _job()
    assert held.claimed_by.endswith(f":{first.pid}")
    assert held.attempts == 1
    workers.kill(first)

    second = workers.start("second")
    wait_for(
        lambda: _job().status not in (JobStatus.QUEUED, JobStatus.RUNNING),
        timeout=120,
        what="the second worker to finish the job",
    )

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.claimed_by.endswith(f":{second.pid}")
    assert job.attempts == 2
    assert job.run is not None
    assert job.finished_at > job.started_at
    assert SettlementRun.objects.filter(configuration=small.configuration, month=JUNE).count() == 1

    # A duplicate of the same task finds the job done: nothing runs twice.
    assert settle_month.apply_async(args=[job.pk]).get(timeout=60) == JobStatus.DONE
    job.refresh_from_db()
    assert job.attempts == 2
    assert SettlementRun.objects.count() == 1


def test_a_scheduler_tick_runs_its_job_once_and_the_heartbeat_reaches_the_database(workers):
    workers.start("only")

    first = run_periodic_job.apply_async(args=["settlement.recover_jobs"]).get(timeout=120)
    duplicate = run_periodic_job.apply_async(args=["settlement.recover_jobs"]).get(timeout=60)
    beat = worker_heartbeat.apply_async().get(timeout=60)

    assert first == ""
    assert duplicate == "already run in this period"
    run = PeriodicRun.objects.get(name="settlement.recover_jobs")
    assert run.last_finished_at is not None and run.last_error == ""
    assert beat is True
    assert Heartbeat.objects.get(name="worker").last_beat_at > timezone.now() - dt.timedelta(
        minutes=1
    )
