"""A recorded background task (an export, a bundle of statements) on a real worker.

The request records the task and sends it after commit; a `celery worker` process on the
test database builds the file into the shared storage; the person's download is the file
the page would have built. A duplicate of the task does nothing.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings
from django.utils import timezone

from cer.billing import tasks as billing_tasks
from cer.core import background
from cer.core.csv_export import CsvDialect
from cer.core.models import TaskRecord, TaskState
from cer.core.tasks import run_recorded
from cer.distribution.models import Distribution
from cer.reports import tasks as report_tasks
from cer.reports.builders import build_report, report_csv
from cercalc import periods
from tests import factories
from tests.factories.billing import distributed_small
from tests.tasks.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _ended(record_id: int) -> bool:
    return TaskRecord.objects.get(pk=record_id).state in (TaskState.DONE, TaskState.FAILED)


def test_a_worker_builds_the_report_and_the_statements_once(workers):
    small, _ = distributed_small()
    manager = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    distribution = Distribution.objects.get()
    june = periods.parse("2025-06")
    worker = workers.start("files", MEDIA_ROOT=str(settings.MEDIA_ROOT))

    report = report_tasks.request_report_file(
        community=small.community,
        period=june,
        kind="csv",
        dialect="plain",
        actor=manager,
        now=timezone.now(),
    )
    bundle = billing_tasks.request_statement_pdfs(
        distribution=distribution, actor=manager, now=timezone.now()
    )
    assert isinstance(bundle, TaskRecord)
    for record in (report, bundle):
        wait_for(lambda r=record: _ended(r.pk), timeout=180, what=f"{record.name} to end")
    report.refresh_from_db()
    bundle.refresh_from_db()

    assert report.state == TaskState.DONE, (report.error, workers.log("files"))
    assert bundle.state == TaskState.DONE, bundle.error
    assert report.attempts == bundle.attempts == 1
    assert worker.poll() is None
    expected = report_csv(build_report(community=small.community, period=june), CsvDialect.PLAIN)
    assert background.result_content(report).decode("utf-8") == expected
    archive = zipfile.ZipFile(io.BytesIO(background.result_content(bundle)))
    assert len(archive.namelist()) == bundle.result["statements"] == 3
    assert f"cer.core.tasks.run_recorded[{report.task_id}] succeeded" in workers.log("files")

    # A duplicate of the task finds the record ended: nothing is built twice.
    duplicate = run_recorded.apply_async(args=[report.pk]).get(timeout=60)
    report.refresh_from_db()
    assert duplicate == "taken by another run, or ended"
    assert report.attempts == 1
