"""The tasks run inline (Celery's eager mode): claims, leases, retries, schedules.

No Redis and no worker here; tests/tasks/test_worker.py runs the same tasks on a real
worker and kills it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from cer.communities.models import ConfigurationStatus
from cer.core import periodic
from cer.core.models import PeriodicRun
from cer.core.schedules import PREFIX, sync_schedules
from cer.core.tasks import backoff_s, run_periodic_job
from cer.settlement import jobs
from cer.settlement.jobs import execute_job, recover, request_run
from cer.settlement.models import JobStatus, SettlementJob, SettlementRun
from cer.settlement.tasks import queue_last_month, settle_month
from config.celery import app
from tests import factories
from tests.factories.settlement import settled_small

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 7, 10, 9, tzinfo=dt.UTC)


@pytest.fixture
def eager(settings):
    """Tasks go through Celery, run inline in this process."""
    settings.TASKS_ON_CELERY = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _referente(client, small) -> User:
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="tesoriere")
    client.force_login(user)
    return user


def test_a_settlement_requested_on_the_page_runs_as_a_task_and_records_its_id(
    eager, client, django_capture_on_commit_callbacks
):
    small = settled_small()
    _referente(client, small)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("settlement:configuration_runs", kwargs={"pk": small.configuration.pk}),
            {"month": "2025-06"},
        )

    job = SettlementJob.objects.get()
    assert response.status_code == 302
    assert job.status == JobStatus.DONE
    assert len(job.task_id) == 32
    assert job.attempts == 1
    assert job.run is not None
    assert job.finished_at >= job.started_at
    assert job.lease_until is None
    assert SettlementRun.objects.count() == 1


def test_a_duplicate_or_redelivered_task_of_a_finished_job_does_nothing(eager):
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )
    assert settle_month.apply(args=[job.pk]).get() == JobStatus.DONE

    again = settle_month.apply(args=[job.pk]).get()

    job.refresh_from_db()
    assert again == JobStatus.DONE
    assert job.attempts == 1
    assert SettlementRun.objects.count() == 1


def test_a_job_running_under_a_lapsed_lease_is_taken_over_and_completed_once():
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )
    # A worker claimed it, then died: its lease ran out a second ago.
    SettlementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        claimed_by="dead-host:1",
        started_at=NOW,
        lease_until=timezone.now() - dt.timedelta(seconds=1),
        attempts=1,
    )

    done = execute_job(job_id=job.pk, now=timezone.now(), renew_lease=True)

    assert done.status == JobStatus.DONE
    assert done.attempts == 2
    assert done.claimed_by == jobs.worker_name()
    assert SettlementRun.objects.count() == 1


def test_a_job_a_live_worker_holds_is_left_to_it():
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )
    SettlementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        claimed_by="live-host:1",
        started_at=NOW,
        lease_until=timezone.now() + dt.timedelta(minutes=1),
        attempts=1,
    )

    seen = execute_job(job_id=job.pk, now=timezone.now(), renew_lease=True)

    assert seen.status == JobStatus.RUNNING
    assert seen.claimed_by == "live-host:1"
    assert not SettlementRun.objects.exists()


def test_a_transient_error_gives_the_job_back_and_the_last_retry_fails_it_with_the_reason(
    eager, monkeypatch
):
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )

    def database_away(**_kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(jobs, "compute_month", database_away)
    # Retries in eager mode run at once, one after the other, until the last gives up.
    app.conf.task_eager_propagates = False
    try:
        result = settle_month.apply(args=[job.pk])
    finally:
        app.conf.task_eager_propagates = True

    assert result.state == "FAILURE"
    assert isinstance(result.result, OperationalError)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "gave up after 6 attempts" in job.error
    assert "server closed the connection" in job.error
    assert job.attempts == 6
    assert job.finished_at is not None
    assert [backoff_s(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_the_recovery_job_frees_a_month_whose_thread_died_when_no_worker_runs(settings):
    settings.TASKS_ON_CELERY = False
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )
    SettlementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        claimed_by="gone:7",
        started_at=NOW,
        lease_until=timezone.now() - dt.timedelta(seconds=5),
    )

    assert recover(now=timezone.now()) == {"failed": 1}

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "the process running it stopped before the end"
    # The month is free again.
    request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )


def test_the_recovery_job_sends_a_lapsed_job_again_to_the_workers(eager):
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )
    SettlementJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        claimed_by="gone:7",
        started_at=NOW,
        lease_until=timezone.now() - dt.timedelta(seconds=5),
        attempts=1,
    )

    assert recover(now=timezone.now()) == {"sent_again": 1}

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempts == 2
    assert SettlementRun.objects.count() == 1


def test_last_month_is_queued_once_for_each_active_configuration(settings):
    settings.SETTLEMENT_JOBS_IN_PROCESS = False
    small = settled_small()
    small.configuration.status = ConfigurationStatus.ACTIVE
    small.configuration.save(update_fields=["status"])
    draft = factories.make_community(name="CER Bozza", fiscal_code="00743110157")
    on_the_fifth = dt.datetime(2025, 7, 5, 4, tzinfo=dt.UTC)

    first = queue_last_month(now=on_the_fifth)
    second = queue_last_month(now=on_the_fifth + dt.timedelta(days=1))

    assert [(j.configuration_id, j.month) for j in first] == [
        (small.configuration.pk, dt.date(2025, 6, 1))
    ]
    assert second == []
    assert not SettlementJob.objects.filter(configuration__community=draft).exists()


def test_a_periodic_job_runs_once_per_tick_through_the_generic_task():
    calls: list[dt.datetime] = []
    periodic.register("tests.count", dt.timedelta(minutes=10), lambda now: calls.append(now))
    try:
        first = run_periodic_job.apply(args=["tests.count"]).get()
        duplicate = run_periodic_job.apply(args=["tests.count"]).get()
        # The next tick may come a moment before the recorded time: it still runs.
        PeriodicRun.objects.filter(name="tests.count").update(
            next_run_at=timezone.now() + dt.timedelta(minutes=4)
        )
        next_tick = run_periodic_job.apply(args=["tests.count"]).get()
    finally:
        periodic._jobs.pop("tests.count")

    assert first == ""
    assert duplicate == "already run in this period"
    assert next_tick == ""
    assert len(calls) == 2
    run = PeriodicRun.objects.get(name="tests.count")
    assert run.last_finished_at is not None and run.last_error == ""


def test_the_default_schedules_are_created_once_and_an_admins_edit_is_kept():
    created = sync_schedules()
    names = {job.name for job in periodic.all_jobs()}

    assert {PREFIX + name for name in names} <= set(created)
    assert {
        PREFIX + "worker heartbeat",
        PREFIX + "daily backup",
        PREFIX + "settle last month",
        PREFIX + "estimate last month's gaps",
    } <= set(created)
    alerts = PeriodicTask.objects.get(name=PREFIX + "alerts.evaluate")
    assert alerts.task == "cer.core.tasks.run_periodic_job"
    assert alerts.args == '["alerts.evaluate"]'
    assert (alerts.interval.every, alerts.interval.period) == (900, IntervalSchedule.SECONDS)
    settle = PeriodicTask.objects.get(name=PREFIX + "settle last month")
    assert (settle.crontab.day_of_month, settle.crontab.hour) == ("5", "6")
    assert str(settle.crontab.timezone) == "Europe/Rome"
    assert not PeriodicTask.objects.get(name=PREFIX + "estimate last month's gaps").enabled

    # An administrator moves the alerts to every 5 minutes and turns off the backup.
    alerts.interval = IntervalSchedule.objects.create(every=300, period=IntervalSchedule.SECONDS)
    alerts.save()
    PeriodicTask.objects.filter(name=PREFIX + "daily backup").update(enabled=False)
    count = PeriodicTask.objects.count()

    assert sync_schedules() == []
    assert PeriodicTask.objects.count() == count
    assert PeriodicTask.objects.get(name=PREFIX + "alerts.evaluate").interval.every == 300
    assert not PeriodicTask.objects.get(name=PREFIX + "daily backup").enabled
    assert CrontabSchedule.objects.filter(day_of_month="5").count() == 1


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs the Redis started by scripts/services.sh (REDIS_URL)",
)
def test_a_job_left_queued_while_the_queue_is_empty_is_sent_again(eager, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.CELERY_TASK_DEFAULT_QUEUE = f"test-{uuid.uuid4().hex[:8]}"  # empty
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )

    assert recover(now=NOW + dt.timedelta(minutes=11)) == {"sent_again": 1}

    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_a_queued_job_is_not_sent_again_when_the_queue_cannot_be_read(eager, settings):
    with socket.create_server(("127.0.0.1", 0)) as server:
        closed = server.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{closed}/0"
    small = settled_small()
    job = request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=NOW,
        background=False,
    )

    assert recover(now=NOW + dt.timedelta(minutes=11)) == {"sent_again": 0}

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
