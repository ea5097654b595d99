"""The community report page: a period's energy and money, as a page or a CSV, XLSX or PDF file.

With workers (TASKS_ON_CELERY) a file is built in the background: the page sends the
person to the task's page, which offers the file when it is ready.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core import background
from cer.core.access import object_permission
from cer.core.csv_export import UnknownDialect, csv_dialect
from cer.core.downloads import XLSX, attachment_response
from cer.reports import tasks
from cer.reports.builders import build_report, report_csv, report_pdf, report_title, report_xlsx
from cercalc import periods


@object_permission("settlement.view_report", Community)
def community_report(request: HttpRequest, community: Community) -> HttpResponse:
    text = request.GET.get("period") or str(timezone.localdate().year)
    try:
        period = periods.parse(text)
    except ValueError:
        raise Http404(_("Write the period as YYYY, YYYY-MM or YYYY-Qn.")) from None
    kind = request.GET.get("format", "html")
    if kind in tasks.CONTENT_TYPES and background.on_celery():
        # A worker builds the file; the task's page offers it when it is ready.
        try:
            record = tasks.request_report_file(
                community=community,
                period=period,
                kind=kind,
                dialect=request.GET.get("dialect"),
                actor=request.user,
                now=timezone.now(),
            )
        except UnknownDialect as error:
            raise BadRequest(str(error)) from None
        return redirect("tasks:task", record_id=record.pk)
    report = build_report(community=community, period=period)
    stem = f"report-{community.pk}-{period.key}"
    if kind == "csv":
        try:
            dialect = csv_dialect(request.GET.get("dialect"))
        except UnknownDialect as error:
            raise BadRequest(str(error)) from None
        return attachment_response(
            report_csv(report, dialect), filename_stem=stem, content_type="text/csv"
        )
    if kind == "xlsx":
        return attachment_response(report_xlsx(report), filename_stem=stem, content_type=XLSX)
    if kind == "pdf":
        return attachment_response(
            report_pdf(report), filename_stem=stem, content_type="application/pdf"
        )
    return render(
        request,
        "reports/community_report.html",
        {"report": report, "community": community, "title": report_title(report)},
    )
