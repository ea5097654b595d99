"""Settlement jobs through the API: the record of each request's background task.

The 202 answer to a settlement request points at the job (Location); the job shows its
state, task id, attempts, start, end and the reason of a failure, to the community's
managers only.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cer.settlement import jobs
from cer.settlement.models import JobStatus, SettlementJob
from tests import factories
from tests.api.conftest import assert_error, client_for
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 8, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_job_threads(settings):
    # The jobs stay queued until a test runs them itself, as a worker would.
    settings.SETTLEMENT_JOBS_IN_PROCESS = False


@pytest.fixture
def small():
    small, _ = distributed_small()
    return small


@pytest.fixture
def referente(small):
    return factories.make_user_with_role(small.community, role="REFERENTE", username="ref")


def _request(client, small, month: str):
    return client.post(
        f"/api/v1/configurations/{small.configuration.pk}/settlement-runs",
        {"month": month},
        format="json",
    )


def test_the_job_shows_its_task_from_queued_to_done(small, referente, settings):
    settings.TASKS_ON_CELERY = True  # a task id is given; nothing is sent (no commit here)
    client = client_for(referente)

    queued = _request(client, small, "2025-06")
    location = queued["Location"]
    before = client.get(location).json()
    jobs.execute_job(job_id=queued.json()["id"], now=NOW)
    after = client.get(location).json()

    job = SettlementJob.objects.get()
    assert queued.status_code == 202
    assert location == f"/api/v1/settlement-jobs/{job.pk}"
    assert len(job.task_id) == 32
    assert before["status"] == JobStatus.QUEUED
    assert before["task_id"] == job.task_id
    assert before["attempts"] == 0
    assert before["started_at"] is None and before["finished_at"] is None
    assert after["status"] == JobStatus.DONE
    assert after["task_id"] == job.task_id
    assert after["attempts"] == 1
    assert after["run"] == job.run_id is not None
    assert after["started_at"] is not None and after["finished_at"] is not None
    assert after["error"] == ""


def test_a_failed_job_names_its_reason(small, referente):
    client = client_for(referente)
    job_id = _request(client, small, "2025-05").json()["id"]  # May has no reading at all

    jobs.execute_job(job_id=job_id, now=NOW)
    shown = client.get(f"/api/v1/settlement-jobs/{job_id}").json()

    assert shown["status"] == JobStatus.FAILED
    assert shown["error"]
    assert shown["error"] == SettlementJob.objects.get(pk=job_id).error
    assert shown["task_id"] == ""  # without workers no task is sent


def test_the_configurations_jobs_are_listed_newest_first_and_by_month(small, referente):
    client = client_for(referente)
    may = _request(client, small, "2025-05").json()["id"]
    june = _request(client, small, "2025-06").json()["id"]
    url = f"/api/v1/configurations/{small.configuration.pk}/settlement-jobs"

    listed = client.get(url).json()["results"]
    only_may = client.get(url, {"month": "2025-05"}).json()["results"]
    bad = client.get(url, {"month": "maggio"})

    assert [job["id"] for job in listed] == [june, may]
    assert [job["id"] for job in only_may] == [may]
    assert list(assert_error(bad, 400, "invalid")["fields"]) == ["month"]


def test_a_member_sees_no_job(small, referente):
    job_id = _request(client_for(referente), small, "2025-06").json()["id"]
    member = User.objects.create_user("anna")
    small.household.user = member
    small.household.save(update_fields=["user"])
    client = client_for(member)

    detail = client.get(f"/api/v1/settlement-jobs/{job_id}")
    listed = client.get(f"/api/v1/configurations/{small.configuration.pk}/settlement-jobs")

    assert_error(detail, 404, "not_found")
    assert_error(listed, 403, "permission_denied")
