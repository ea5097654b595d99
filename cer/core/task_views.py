"""The background tasks a person asked for: their list, one task's page, its file.

Only the person who asked sees a record: what it holds (an export, a bundle of
statements) was checked against their rights when they asked. Anyone else, or a record
that does not exist, is sent back to their own list, told so. A task's page refreshes
itself until the task has ended.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cer.core import background
from cer.core.access import login_only
from cer.core.downloads import attachment_response
from cer.core.models import TaskRecord, TaskState

REFRESH_S = 3
LISTED = 50


def _own(request: HttpRequest) -> Any:
    return TaskRecord.objects.filter(requested_by_id=request.user.pk or 0)


def _not_yours(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("That task is not among the ones you asked for."))
    return redirect("tasks:tasks")


@login_only
def task_list(request: HttpRequest) -> HttpResponse:
    return render(request, "core/tasks.html", {"records": _own(request)[:LISTED]})


@login_only
def task_status(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _own(request).filter(pk=record_id).first()
    if record is None:
        return _not_yours(request)
    ended = record.state in (TaskState.DONE, TaskState.FAILED)
    return render(
        request,
        "core/task.html",
        {
            "record": record,
            "ended": ended,
            "refresh_s": None if ended else REFRESH_S,
            "file_name": PurePosixPath(record.result_file).name if record.result_file else "",
            "result_days": background.result_days(),
        },
    )


@login_only
def task_file(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _own(request).filter(pk=record_id).first()
    if record is None:
        return _not_yours(request)
    if record.state != TaskState.DONE or not record.result_file:
        return redirect("tasks:task", record_id=record.pk)  # not ready: its page says why
    name = PurePosixPath(record.result_file)
    return attachment_response(
        background.result_content(record),
        filename_stem=name.stem,
        content_type=record.result.get("content_type", "application/octet-stream"),
    )
