"""The community report's files (CSV, XLSX, PDF) built in the background (docs/tasks.md).

`request_report_file` is what the report page calls for a file when workers run
(TASKS_ON_CELERY): it records the request (cer/core/background.py) and a worker builds
the file with the same builders the page uses; the person downloads it from the task's
page. Keyed by the community, the period, the format and who asked: a second click
while the first still waits is the same export. Without workers the page builds the
file in the request, as it always did.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core import background
from cer.core.csv_export import csv_dialect
from cer.core.downloads import XLSX
from cer.core.models import TaskRecord
from cer.reports.builders import build_report, report_csv, report_pdf, report_xlsx
from cercalc import periods

TASK = "reports.export"
CONTENT_TYPES = {"csv": "text/csv", "xlsx": XLSX, "pdf": "application/pdf"}


def request_report_file(
    *,
    community: Community,
    period: periods.Period,
    kind: str,
    dialect: str | None,
    actor: Any,
    now: dt.datetime,
) -> TaskRecord:
    """Queue the report of `period` as a `kind` file (csv, xlsx, pdf); the record."""
    if kind not in CONTENT_TYPES:
        raise ValueError(f"format: {kind!r} is not one of {', '.join(CONTENT_TYPES)}")
    if kind == "csv":
        dialect = csv_dialect(dialect).value  # UnknownDialect names the bad value
    return background.submit(
        name=TASK,
        key=f"{TASK}:{community.pk}:{period.key}:{kind}:{dialect or ''}:{actor.pk}",
        arguments={
            "title": _("Report of %(community)s, %(period)s, %(format)s")
            % {"community": community.name, "period": period.key, "format": kind.upper()},
            "community": community.pk,
            "period": period.key,
            "format": kind,
            "dialect": dialect,
        },
        actor=actor,
        now=now,
    )


@background.handler(TASK)
def build_report_file(arguments: dict[str, Any]) -> background.Outcome:
    """The report file, named as the page names it."""
    community = Community.objects.get(pk=arguments["community"])
    period = periods.parse(arguments["period"])
    report = build_report(community=community, period=period)
    kind = arguments["format"]
    if kind == "csv":
        content: bytes | str = report_csv(report, csv_dialect(arguments.get("dialect")))
    elif kind == "xlsx":
        content = report_xlsx(report)
    else:
        content = report_pdf(report)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return background.Outcome(
        result={"content_type": CONTENT_TYPES[kind], "size_bytes": len(data)},
        file_name=f"report-{community.pk}-{period.key}.{kind}",
        content=data,
    )
