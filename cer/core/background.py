"""Work a person asks for that runs in the background: imports, exports, bundles of PDFs.

`submit(name=, key=, arguments=, actor=, now=)` records the request as a `TaskRecord` and
has it run: on the Celery workers after commit when TASKS_ON_CELERY is on (the record
shows QUEUED, RUNNING, DONE or FAILED with the reason), inline before returning when it
is off, as the embedded install always did. The work itself is a handler an app
declares in its `tasks.py` with `@handler("app.name")`: it takes the record's arguments
and returns an `Outcome` (a small result, and optionally a file offered for download).

Idempotent by construction (docs/tasks.md):
- a second request with the same `key` while the first is queued or running is the
  same request (a partial unique constraint; `submit` gives back the active record);
- the task claims its record with one UPDATE that succeeds only on a QUEUED record, or
  a RUNNING one whose worker stopped long ago (the hard time limit has passed), so a
  duplicated or redelivered task finds it taken, or ended, and does nothing twice.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cer.core.models import TaskRecord, TaskState

logger = logging.getLogger(__name__)

RUN_TASK = "cer.core.tasks.run_recorded"
RESULT_FOLDER = "tasks"


@dataclass(frozen=True)
class Outcome:
    """What a handler returns: a JSON-able result, and a file to offer, if any."""

    result: dict[str, Any] = field(default_factory=dict)
    file_name: str = ""
    content: bytes = b""


class TaskRefused(Exception):
    """The work cannot be done with these arguments; the message is the reason shown, and
    `result` what is kept of it (e.g. the import batch that records the refusal)."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


Handler = Callable[[dict[str, Any]], Outcome]
_HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Declare the function that does the work of task `name` ("app.what")."""

    def register(function: Handler) -> Handler:
        _HANDLERS[name] = function
        return function

    return register


def _handler_of(name: str) -> Handler:
    if name not in _HANDLERS:
        # The app's tasks module declares it; the web process may not have imported it yet.
        importlib.import_module(f"cer.{name.split('.', 1)[0]}.tasks")
    return _HANDLERS[name]


def on_celery() -> bool:
    return bool(getattr(settings, "TASKS_ON_CELERY", False))


def submit(
    *, name: str, key: str, arguments: dict[str, Any], actor: Any, now: dt.datetime
) -> TaskRecord:
    """Record a request for task `name` and have it run; return its record.

    With the workers the record comes back QUEUED (the task is sent after commit);
    without them the work is done before this returns and the record is DONE or FAILED.
    A request whose `key` matches one still queued or running returns that one.
    """
    _handler_of(name)  # an unknown name fails here, in the request, not in a worker
    key = key[:255]
    active = TaskRecord.objects.filter(key=key, state__in=[TaskState.QUEUED, TaskState.RUNNING])
    celery = on_celery()
    try:
        with transaction.atomic():
            record = TaskRecord.objects.create(
                name=name,
                key=key,
                arguments=arguments,
                requested_at=now,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                task_id=uuid.uuid4().hex if celery else "",
            )
    except IntegrityError:
        existing = active.first()
        if existing is None:  # it ended between the insert and this read: ask again
            return submit(name=name, key=key, arguments=arguments, actor=actor, now=now)
        return existing
    if celery:
        record_id, task_id = record.pk, record.task_id
        transaction.on_commit(lambda: send(record_id=record_id, task_id=task_id))
        return record
    return execute(record_id=record.pk, now=now) or record


def send(*, record_id: int, task_id: str) -> bool:
    """Queue the record's task on Redis; False (logged) when Redis cannot be reached: the
    record stays QUEUED and `resend_stale` sends it again."""
    from celery import current_app

    try:
        current_app.tasks[RUN_TASK].apply_async(args=[record_id], task_id=task_id or None)
    except Exception:  # kombu raises its own OperationalError when Redis is down
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            raise  # inline: the error is the task's own, let the caller see it
        logger.exception("background.send_failed record=%s", record_id)
        return False
    return True


def _stale_after() -> dt.timedelta:
    """A RUNNING record older than the hard time limit lost its worker."""
    return dt.timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1860)) + 60)


def claim(*, record_id: int, now: dt.datetime) -> bool:
    """Take the record for this run: QUEUED, or RUNNING under a worker long gone."""
    takeable = Q(state=TaskState.QUEUED) | Q(
        state=TaskState.RUNNING, started_at__lt=now - _stale_after()
    )
    return bool(
        TaskRecord.objects.filter(takeable, pk=record_id).update(
            state=TaskState.RUNNING,
            started_at=now,
            attempts=F("attempts") + 1,
        )
    )


def give_back(*, record_id: int) -> None:
    """Put a claimed record back in the queue (a transient error: the task retries)."""
    TaskRecord.objects.filter(pk=record_id, state=TaskState.RUNNING).update(state=TaskState.QUEUED)


def fail(
    *, record_id: int, reason: str, now: dt.datetime, result: dict[str, Any] | None = None
) -> None:
    TaskRecord.objects.filter(pk=record_id).exclude(state=TaskState.DONE).update(
        state=TaskState.FAILED, error=reason[:2000], finished_at=now, result=result or {}
    )


def execute(
    *,
    record_id: int,
    now: dt.datetime | None = None,
    transient: tuple[type[BaseException], ...] = (),
) -> TaskRecord | None:
    """Claim the record and do its work; None when another run has it or it has ended.

    A refusal (TaskRefused) fails the record with its message; a `transient` error (the
    task passes cer.core.tasks.TRANSIENT_ERRORS) gives it back and goes up to the task,
    which retries; any other error fails it naming the error.
    """
    if not claim(record_id=record_id, now=now or timezone.now()):
        return None
    record = TaskRecord.objects.get(pk=record_id)
    try:
        outcome = _handler_of(record.name)(record.arguments)
    except transient:
        give_back(record_id=record_id)
        raise
    except TaskRefused as refusal:
        fail(record_id=record_id, reason=str(refusal), now=timezone.now(), result=refusal.result)
        return TaskRecord.objects.get(pk=record_id)
    except Exception as error:
        logger.exception("background.failed record=%s task=%s", record_id, record.name)
        fail(record_id=record_id, reason=f"{type(error).__name__}: {error}", now=timezone.now())
        return TaskRecord.objects.get(pk=record_id)
    stored = ""
    if outcome.file_name:
        stored = default_storage.save(
            f"{RESULT_FOLDER}/{record.pk}/{outcome.file_name}", ContentFile(outcome.content)
        )
    TaskRecord.objects.filter(pk=record_id, state=TaskState.RUNNING).update(
        state=TaskState.DONE,
        result=outcome.result,
        result_file=stored,
        error="",
        finished_at=timezone.now(),
    )
    return TaskRecord.objects.get(pk=record_id)


def result_days() -> int:
    """Days a task's result file is kept after the task ended (TASK_RESULT_RETENTION_DAYS)."""
    return max(1, int(getattr(settings, "TASK_RESULT_RETENTION_DAYS", 7)))


def delete_expired_results(*, now: dt.datetime) -> int:
    """Delete the result files of tasks that ended over result_days() ago; return how many.

    A result file is a download made for one request (an export, a bundle of statements,
    a report): it holds personal data and can be made again from the records, which stay.
    The record keeps its outcome and loses its file: its page says the file has expired.
    """
    expired = TaskRecord.objects.filter(
        finished_at__lt=now - dt.timedelta(days=result_days())
    ).exclude(result_file="")
    count = 0
    for record_id, name, result in expired.values_list("pk", "result_file", "result"):
        # A file already gone (deleted by hand, a restored database) is no error.
        default_storage.delete(name)
        expired_file = PurePosixPath(name).name
        TaskRecord.objects.filter(pk=record_id).update(
            result_file="", result={**result, "expired_file": expired_file}
        )
        count += 1
    return count


def result_content(record: TaskRecord) -> bytes:
    """The file a DONE record produced."""
    with default_storage.open(record.result_file, "rb") as stored:
        return stored.read()


def resend_stale(*, now: dt.datetime) -> int:
    """Send again the tasks of records waiting QUEUED for over ten minutes (their message
    was lost: Redis down when they were asked for) or RUNNING under a dead worker."""
    if not on_celery():
        return 0
    stale = TaskRecord.objects.filter(
        Q(state=TaskState.QUEUED, requested_at__lt=now - dt.timedelta(minutes=10))
        | Q(state=TaskState.RUNNING, started_at__lt=now - _stale_after())
    )
    sent = 0
    for record_id, task_id in stale.values_list("pk", "task_id"):
        sent += send(record_id=record_id, task_id=task_id or uuid.uuid4().hex)
    return sent
