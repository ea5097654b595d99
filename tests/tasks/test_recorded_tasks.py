"""Imports, report files and statement bundles as background tasks (cer/core/background.py).

With TASKS_ON_CELERY and CELERY_TASK_ALWAYS_EAGER the task runs inline when the request
commits: the pages send the person to the task's page, which shows the state and offers
the file. The claim on the record keeps a duplicate from doing the work twice; a
transient error is retried; a refusal fails the record with its reason. Without workers
the pages answer as they always did.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from cer.billing.models import Statement, StatementStatus
from cer.core import background
from cer.core.models import TaskRecord, TaskState
from cer.core.tasks import run_recorded
from cer.imports.models import ImportBatch, ImportStatus
from cer.reports.builders import build_report, report_csv
from cercalc import periods
from tests import factories
from tests.factories.billing import distributed_small
from tests.imports.conftest import fixture_bytes
from tests.imports.conftest import points as points  # a fixture of the imports tests

pytestmark = pytest.mark.django_db

CURVES = "edistribuzione_with_errors.csv"


@pytest.fixture
def workers_eager(settings):
    """Tasks on Celery, run inline by the eager mode when the request commits."""
    settings.TASKS_ON_CELERY = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _upload(name: str = CURVES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture_bytes("curves", name), content_type="text/csv")


def _upload_page(community) -> str:
    return reverse("imports:curve_upload", kwargs={"community_id": community.pk})


# --- a grid operator's file ---------------------------------------------------------------


def test_an_upload_is_imported_by_the_task_and_its_page_leads_to_the_batch(
    client, community, points, referente, workers_eager, django_capture_on_commit_callbacks
):
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_upload_page(community), {"file": _upload(), "format": "auto"})

    record = TaskRecord.objects.get()
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks:task", kwargs={"record_id": record.pk})
    assert record.name == "imports.curves"
    assert record.state == TaskState.DONE
    assert record.attempts == 1 and len(record.task_id) == 32
    assert record.result["batch"] == batch.pk
    assert batch.status == ImportStatus.DONE and batch.uploaded_by == referente
    assert batch.intervals_inserted == 48
    page = client.get(response["Location"]).content.decode()
    assert f"?batch={batch.pk}" in page
    assert 'data-state="DONE"' in page


def test_a_refused_file_fails_the_task_with_the_reason(
    client, community, points, referente, workers_eager, django_capture_on_commit_callbacks
):
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _upload_page(community), {"file": _upload("wrong_header.csv"), "format": "auto"}
        )

    record = TaskRecord.objects.get()
    assert record.state == TaskState.FAILED
    assert "No header row with a POD column" in record.error
    assert record.result["batch"] == ImportBatch.objects.get(status=ImportStatus.REFUSED).pk
    page = client.get(response["Location"]).content.decode()
    assert "No header row with a POD column" in page


def test_a_second_click_is_the_same_import_and_a_redelivery_imports_nothing_twice(
    client, community, points, referente, settings
):
    settings.TASKS_ON_CELERY = True  # queued, not sent: no commit in this test
    client.force_login(referente)

    first = client.post(_upload_page(community), {"file": _upload(), "format": "auto"})
    second = client.post(_upload_page(community), {"file": _upload(), "format": "auto"})
    record = TaskRecord.objects.get()
    done = background.execute(record_id=record.pk)
    again = background.execute(record_id=record.pk)

    assert first["Location"] == second["Location"]
    assert done is not None and done.state == TaskState.DONE
    assert again is None
    assert ImportBatch.objects.count() == 1
    assert TaskRecord.objects.get().attempts == 1


def test_without_workers_the_upload_is_imported_in_the_request(
    client, community, points, referente
):
    client.force_login(referente)

    response = client.post(_upload_page(community), {"file": _upload(), "format": "auto"})

    batch = ImportBatch.objects.get()
    assert response["Location"] == f"{_upload_page(community)}?batch={batch.pk}"
    assert not TaskRecord.objects.exists()


# --- the community report's files ---------------------------------------------------------


@pytest.fixture
def small():
    small, _ = distributed_small()
    return small


@pytest.fixture
def manager(small):
    return factories.make_user_with_role(small.community, role="REFERENTE", username="ref")


def _report_url(small, **query: str) -> str:
    url = reverse("reports:report", kwargs={"pk": small.community.pk})
    return url + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def test_a_report_file_is_built_by_the_task_and_downloaded_from_its_page(
    client, small, manager, workers_eager, django_capture_on_commit_callbacks
):
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_report_url(small, period="2025-06", format="csv", dialect="plain"))
    record = TaskRecord.objects.get()
    page = client.get(response["Location"]).content.decode()
    download = client.get(reverse("tasks:task_file", kwargs={"record_id": record.pk}))

    expected = report_csv(
        build_report(community=small.community, period=periods.parse("2025-06")),
        background_dialect("plain"),
    )
    assert response["Location"] == reverse("tasks:task", kwargs={"record_id": record.pk})
    assert record.state == TaskState.DONE
    assert reverse("tasks:task_file", kwargs={"record_id": record.pk}) in page
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.decode("utf-8") == expected


def test_a_result_file_is_deleted_a_week_after_the_task_and_its_page_says_so(
    client, small, manager, workers_eager, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from cer.privacy.gdpr import apply_retention

    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(_report_url(small, period="2025-06", format="csv", dialect="plain"))
    record = TaskRecord.objects.get()
    stored = record.result_file
    assert default_storage.exists(stored)

    six_days = apply_retention(now=record.finished_at + dt.timedelta(days=6))
    assert six_days["task_result_files"] == 0 and default_storage.exists(stored)

    eight_days = apply_retention(now=record.finished_at + dt.timedelta(days=8))

    record.refresh_from_db()
    assert eight_days["task_result_files"] == 1
    assert not default_storage.exists(stored)
    assert record.state == TaskState.DONE and record.result_file == ""
    assert record.result["expired_file"] == stored.rsplit("/", 1)[-1]
    page = client.get(reverse("tasks:task", kwargs={"record_id": record.pk})).content.decode()
    assert reverse("tasks:task_file", kwargs={"record_id": record.pk}) not in page
    assert f"Il file {record.result['expired_file']} è stato eliminato 7 giorni" in page
    download = client.get(reverse("tasks:task_file", kwargs={"record_id": record.pk}))
    assert download.status_code == 302  # back to the page, which says why


def background_dialect(name: str):
    from cer.core.csv_export import csv_dialect

    return csv_dialect(name)


def test_someone_else_does_not_see_the_task_nor_its_file(
    client, small, manager, workers_eager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(_report_url(small, period="2025-06", format="xlsx"))
    record = TaskRecord.objects.get()
    other = factories.make_user_with_role(small.community, role="REFERENTE", username="altro")
    client.force_login(other)

    page = client.get(reverse("tasks:task", kwargs={"record_id": record.pk}), follow=True)
    download = client.get(reverse("tasks:task_file", kwargs={"record_id": record.pk}))
    own_list = client.get(reverse("tasks:tasks")).content.decode()

    assert record.state == TaskState.DONE
    assert page.redirect_chain == [(reverse("tasks:tasks"), 302)]
    # Italian, the default language.
    assert "Questa attività non è tra quelle che hai richiesto." in page.content.decode()
    assert download.status_code == 302 and download["Location"] == reverse("tasks:tasks")
    assert reverse("tasks:task", kwargs={"record_id": record.pk}) not in own_list


def test_a_bad_dialect_is_refused_in_the_request_naming_it(client, small, manager, settings):
    settings.TASKS_ON_CELERY = True
    client.force_login(manager)

    response = client.get(_report_url(small, period="2025-06", format="csv", dialect="semicolon"))

    assert response.status_code == 400
    assert not TaskRecord.objects.exists()


def test_without_workers_the_report_file_is_built_in_the_request(client, small, manager):
    client.force_login(manager)

    response = client.get(_report_url(small, period="2025-06", format="pdf"))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert not TaskRecord.objects.exists()


# --- the statements of a distribution -------------------------------------------------------


def _zip_names(content: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(content)).namelist())


def test_the_statement_pdfs_are_bundled_by_the_task(
    client, small, manager, workers_eager, django_capture_on_commit_callbacks
):
    run_id = Statement.objects.values_list("distribution__run_id", flat=True).first()
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("billing:run_statement_pdfs", kwargs={"pk": run_id}))
    record = TaskRecord.objects.get()
    download = client.get(reverse("tasks:task_file", kwargs={"record_id": record.pk}))

    current = Statement.objects.filter(status=StatementStatus.CURRENT)
    assert response.status_code == 302
    assert record.state == TaskState.DONE
    assert record.result["statements"] == current.count() == 3
    assert record.arguments["title"] == "Rendiconti di giugno 2025"  # the month in words
    assert download["Content-Type"] == "application/zip"
    names = _zip_names(download.content)
    assert names == sorted(
        f"statement-{s.month:%Y-%m}-v{s.version}-{s.file_token}.pdf" for s in current
    )
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert all(archive.read(name).startswith(b"%PDF-") for name in names)


def test_without_workers_the_bundle_is_the_answer(client, small, manager):
    run_id = Statement.objects.values_list("distribution__run_id", flat=True).first()
    client.force_login(manager)

    response = client.get(reverse("billing:run_statement_pdfs", kwargs={"pk": run_id}))

    assert response.status_code == 200
    assert len(_zip_names(response.content)) == 3


def test_a_member_may_not_bundle_the_statements(client, small):
    run_id = Statement.objects.values_list("distribution__run_id", flat=True).first()
    client.force_login(
        factories.make_user_with_role(small.community, role="MEMBER", username="socia")
    )

    response = client.get(reverse("billing:run_statement_pdfs", kwargs={"pk": run_id}))

    assert response.status_code in (403, 404)
    assert not TaskRecord.objects.exists()


# --- the record's claim, retries, a dead worker ----------------------------------------------

_calls: list[str] = []


@background.handler("core.test_flaky")
def _flaky(arguments):
    _calls.append(arguments["tag"])
    if len(_calls) == 1:
        raise OperationalError("the database went away for a moment")
    return background.Outcome(result={"calls": len(_calls)})


def _apply_with_retries(record_id: int):
    """Run the task eagerly; its retries run at once, one after the other."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    try:
        return run_recorded.apply(args=[record_id])
    finally:
        app.conf.task_eager_propagates = True


def test_a_transient_error_gives_the_record_back_and_the_retry_completes_it(
    workers_eager, referente
):
    _calls.clear()
    record = background.submit(
        name="core.test_flaky",
        key="flaky",
        arguments={"tag": "x"},
        actor=referente,
        now=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
    )  # not sent: the test's transaction never commits; the test runs the task

    outcome = _apply_with_retries(record.pk)

    record.refresh_from_db()
    assert outcome.state == "SUCCESS"
    assert _calls == ["x", "x"]
    assert record.state == TaskState.DONE
    assert record.attempts == 2
    assert record.result == {"calls": 2}


def test_the_last_retry_fails_the_record_with_the_reason(workers_eager, referente):
    @background.handler("core.test_away")
    def _away(arguments):
        raise OperationalError("server closed the connection unexpectedly")

    record = background.submit(
        name="core.test_away",
        key="away",
        arguments={},
        actor=referente,
        now=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
    )

    outcome = _apply_with_retries(record.pk)

    record.refresh_from_db()
    assert outcome.state == "FAILURE"
    assert record.state == TaskState.FAILED
    assert record.attempts == 6
    assert "gave up after 6 attempts" in record.error
    assert "server closed the connection" in record.error


def test_a_record_held_by_a_dead_worker_is_taken_over_once(referente, settings):
    settings.TASKS_ON_CELERY = True
    now = dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)
    record = background.submit(
        name="core.test_flaky", key="dead", arguments={"tag": "y"}, actor=referente, now=now
    )
    _calls[:] = ["earlier"]  # the next call succeeds
    TaskRecord.objects.filter(pk=record.pk).update(
        state=TaskState.RUNNING, started_at=now, attempts=1
    )
    limit_s = settings.CELERY_TASK_TIME_LIMIT

    soon = background.execute(record_id=record.pk, now=now + dt.timedelta(seconds=limit_s))
    later = background.execute(record_id=record.pk, now=now + dt.timedelta(seconds=limit_s + 61))
    duplicate = run_recorded.apply(args=[record.pk]).get()

    assert soon is None  # its worker may still be at work
    assert later is not None and later.state == TaskState.DONE and later.attempts == 2
    assert duplicate == "taken by another run, or ended"
    assert _calls == ["earlier", "y"]


def test_an_unknown_error_fails_the_record_naming_it(referente):
    @background.handler("core.test_broken")
    def _broken(arguments):
        raise KeyError("community")

    record = background.submit(
        name="core.test_broken",
        key="broken",
        arguments={},
        actor=referente,
        now=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
    )

    assert record.state == TaskState.FAILED
    assert record.error == "KeyError: 'community'"
    assert record.finished_at is not None
