"""Settlement runs (list, detail, hours, computing, finalising, distributing), member
statements, the report.

Finalising and distributing cannot be undone: each takes `"confirm": true` in its body and
refuses without it (400 naming `confirm`), as the web pages ask for a confirmation.

The rules are the web app's (cer/settlement/permissions.py): runs and the community report
are for the community's managers; a statement is for its member and the managers. An object
the user may not see is a 404, whether it exists or not.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import money as money_visibility
from cer.access import visibility
from cer.access.rules import is_staff_or_superuser
from cer.accounts.models import TokenScope
from cer.api.errors import Conflict
from cer.api.permissions import LOGGED_IN, on_object
from cer.api.serializers import settlement as s
from cer.api.views.base import ApiView
from cer.api.views.resources import ScopedDetail, ScopedList
from cer.billing import explain, pdf
from cer.billing.models import Statement, StatementStatus
from cer.billing.statements import pdf_file_stem
from cer.communities.models import Community, Configuration
from cer.core.csv_export import CsvDialect, UnknownDialect, csv_dialect
from cer.core.downloads import XLSX, attachment_response
from cer.distribution import services as distribution_services
from cer.distribution.models import Distribution
from cer.reports.builders import build_report, report_csv, report_pdf, report_xlsx
from cer.settlement.jobs import RunAlreadyInProgress, request_run
from cer.settlement.models import SettlementHour, SettlementJob, SettlementRun
from cer.settlement.services import (
    MonthNotOver,
    NotLatestVersion,
    OverrideRequired,
    RunAlreadyFinal,
    finalise_run,
)
from cercalc import periods

VIEW_RUN = "settlement.view_run"
RUN_SETTLEMENT = "settlement.run_settlement"
VIEW_STATEMENT = "settlement.view_statement"
VIEW_REPORT = "settlement.view_report"

MONTH = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    required=False,
    pattern=s.MONTH_PATTERN,
    description="Only this month, YYYY-MM.",
)
REPORT_FORMATS = {"csv": "text/csv", "pdf": "application/pdf", "xlsx": XLSX}
_YEAR = re.compile(r"^[0-9]{4}$")


def _month_param(request: Request) -> Any:
    raw = request.query_params.get("month")
    if raw is None:
        return None
    try:
        return s.parse_month_text(raw)
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({"month": error.detail}) from error


def _member_param(request: Request) -> int | None:
    raw = request.query_params.get("member")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise exceptions.ValidationError({"member": [_("A whole number is required.")]})
    return int(raw)


# --- runs -------------------------------------------------------------------------------


class ConfigurationSettlementRuns(ScopedDetail):
    access_rule = on_object(
        Configuration, view="communities.view_community", read=VIEW_RUN, change=RUN_SETTLEMENT
    )
    token_scope = TokenScope.SETTLEMENT_WRITE
    scope = visibility.configurations
    serializer_class = s.RunSummarySerializer

    @extend_schema(
        tags=["settlement"],
        parameters=[MONTH],
        responses={200: s.RunSummarySerializer(many=True)},
        description=(
            "The configuration's settlement runs, newest month and version first; for the "
            "community's managers."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        configuration = self.get_object()
        runs = money_visibility.settlement_runs(request.user, today=self.today()).filter(
            configuration=configuration
        )
        month = _month_param(request)
        if month is not None:
            runs = runs.filter(month=month)
        page = self.paginate_queryset(runs.order_by("-month", "-version"))
        return self.get_paginated_response(s.RunSummarySerializer(page, many=True).data)

    @extend_schema(
        tags=["settlement"],
        request=s.RunRequestSerializer,
        responses={202: s.SettlementJobSerializer},
        description=(
            "Queue the settlement of a month (Europe/Rome calendar) that has ended; it runs "
            "in the background and the job names the run when done (FAILED with the reason "
            "when the month has no reading at all). A month whose latest run is "
            "final gets a new version that lists its changes (a correction), as in the web "
            "app. 409 when a settlement of that month is already queued or running."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        configuration = self.get_object()
        body = s.RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        month = body.validated_data["month"]
        try:
            job = request_run(
                configuration=configuration, month=month, actor=request.user, now=self.now()
            )
        except RunAlreadyInProgress as error:
            raise Conflict(_("A settlement of that month is already in progress.")) from error
        except MonthNotOver as error:
            raise exceptions.ValidationError({"month": [str(error)]}) from error
        return Response(
            s.SettlementJobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:settlement-job", kwargs={"pk": job.pk})},
        )


# --- jobs: the record of each settlement request's background task ------------------------


def _settlement_jobs(user: Any, *, today: Any) -> QuerySet[SettlementJob]:
    """settlement.view_run applied to jobs: those of the runs the user may see (managers)."""
    if not user.is_authenticated:
        return SettlementJob.objects.none()
    found = SettlementJob.objects.select_related("configuration__community")
    if is_staff_or_superuser(user):
        return found
    return found.filter(configuration__community_id__in=visibility.managed_by(user, today))


class ConfigurationSettlementJobs(ScopedDetail):
    access_rule = on_object(Configuration, view="communities.view_community", read=VIEW_RUN)
    scope = visibility.configurations
    serializer_class = s.SettlementJobSerializer

    @extend_schema(
        tags=["settlement"],
        parameters=[MONTH],
        responses={200: s.SettlementJobSerializer(many=True)},
        description=(
            "The configuration's settlement requests, newest first, each with the state of "
            "its background task (QUEUED, RUNNING, DONE, FAILED with the reason); for the "
            "community's managers."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        configuration = self.get_object()
        found = SettlementJob.objects.filter(configuration=configuration)
        month = _month_param(request)
        if month is not None:
            found = found.filter(month=month)
        page = self.paginate_queryset(found.order_by("-requested_at", "-pk"))
        return self.get_paginated_response(s.SettlementJobSerializer(page, many=True).data)


@extend_schema(
    tags=["settlement"],
    responses={200: s.SettlementJobSerializer},
    description=(
        "One settlement request (the Location of the 202 answer): its state, the task id, "
        "how many times a worker took it, when it started and ended, the run it stored or "
        "why it failed. Poll it until DONE or FAILED."
    ),
)
class SettlementJobDetail(ScopedDetail, generics.RetrieveAPIView):
    access_rule = on_object(SettlementJob, view=VIEW_RUN)
    scope = _settlement_jobs
    serializer_class = s.SettlementJobSerializer


class _OneRun(ScopedDetail):
    access_rule = on_object(SettlementRun, view=VIEW_RUN, change=RUN_SETTLEMENT)
    scope = money_visibility.settlement_runs


@extend_schema(tags=["settlement"], responses={200: s.RunDetailSerializer})
class SettlementRunDetail(_OneRun, generics.RetrieveAPIView):
    serializer_class = s.RunDetailSerializer

    def get_queryset(self) -> QuerySet:
        return (
            super()
            .get_queryset()
            .prefetch_related("plant_rows", "member_rows")
            .defer("membership_snapshot")
        )


@extend_schema(
    tags=["settlement"],
    responses={200: s.SettlementHourSerializer(many=True)},
    description="The run's hourly rows, in time order; each hour starts at an instant with offset.",
)
class SettlementRunHours(_OneRun):
    serializer_class = s.SettlementHourSerializer

    def get(self, request: Request, pk: int) -> Response:
        run = self.get_object()
        hours = SettlementHour.objects.filter(run=run).order_by("hour_start")
        page = self.paginate_queryset(hours)
        return self.get_paginated_response(s.SettlementHourSerializer(page, many=True).data)


def _confirmed(request: Request, serializer_class: type) -> dict[str, Any]:
    """Validate the body and refuse it unless it says `"confirm": true` (400 naming it)."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    if body.validated_data["confirm"] is not True:
        raise exceptions.ValidationError(
            {"confirm": [_('This step cannot be undone: send "confirm": true to perform it.')]}
        )
    return body.validated_data


@extend_schema(
    tags=["settlement"],
    request=s.FinaliseRequestSerializer,
    responses={200: s.RunDetailSerializer},
    description=(
        'Make the run final: it can no longer change. The body must say `"confirm": true`. '
        "A provisional run (missing readings or prices) also needs `override_reason`, "
        "recorded and audited (400 naming the field without it). 409 when it is final "
        "already or a newer version of the month exists."
    ),
)
class SettlementRunFinalise(_OneRun):
    token_scope = TokenScope.SETTLEMENT_WRITE

    def post(self, request: Request, pk: int) -> Response:
        run = self.get_object()
        body = _confirmed(request, s.FinaliseRequestSerializer)
        try:
            finalised = finalise_run(
                run=run,
                actor=request.user,
                now=self.now(),
                override_reason=body.get("override_reason", ""),
            )
        except RunAlreadyFinal as error:
            raise Conflict(_("The run is final already.")) from error
        except NotLatestVersion as error:
            raise Conflict(_("Only the latest version of a month can be finalised.")) from error
        except OverrideRequired as error:
            raise exceptions.ValidationError({"override_reason": [str(error)]}) from error
        return Response(s.RunDetailSerializer(finalised).data)


@extend_schema(
    tags=["settlement"],
    request=s.DistributeRequestSerializer,
    responses={201: s.DistributionSerializer, 200: s.DistributionSerializer},
    description=(
        "Share out the run's amount by the community's policy valid in its month and issue "
        'the members\' statements. The body must say `"confirm": true`. 201 with the '
        "distribution; 200 with it when the run was distributed already. 409 when a newer "
        "version of the month exists (the message names it), when no policy is valid in "
        "the month, or when the policy refuses the split."
    ),
)
class SettlementRunDistribute(_OneRun):
    token_scope = TokenScope.SETTLEMENT_WRITE

    def post(self, request: Request, pk: int) -> Response:
        run = self.get_object()
        _confirmed(request, s.DistributeRequestSerializer)
        existed = Distribution.objects.filter(run=run).exists()
        try:
            distribution = distribution_services.distribute_run(
                run=run, actor=request.user, now=self.now()
            )
        except distribution_services.NoPolicy as error:
            policy_url = reverse(
                "distribution:policy", kwargs={"pk": run.configuration.community_id}
            )
            raise Conflict(
                _(
                    "No distribution policy is valid in %(month)s: set the community's policy "
                    "(%(url)s), valid from that month or earlier, then distribute again."
                )
                % {"month": f"{run.month:%Y-%m}", "url": policy_url}
            ) from error
        except distribution_services.ExcessCeilingExceeded as error:
            raise Conflict(
                _(
                    "Refused: enterprises would receive %(enterprise)s EUR, above the ceiling "
                    "of %(ceiling)s EUR (excess %(excess)s EUR)."
                )
                % {
                    "enterprise": error.enterprise_eur,
                    "ceiling": error.ceiling_eur,
                    "excess": error.excess_eur,
                }
            ) from error
        except (
            distribution_services.SupersededVersion,
            distribution_services.InvalidPlan,
            distribution_services.NegativeAmount,
        ) as error:
            raise Conflict(str(error)) from error
        return Response(
            s.DistributionSerializer(distribution).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


# --- statements -------------------------------------------------------------------------


@extend_schema(
    tags=["settlement"],
    parameters=[
        MONTH,
        OpenApiParameter("member", OpenApiTypes.INT, required=False),
        OpenApiParameter("versions", OpenApiTypes.STR, enum=["current", "all"], required=False),
    ],
    responses={200: s.StatementSerializer(many=True)},
    description=(
        "Statements you may see: your own, and those of the communities you manage. Newest "
        "month first. Only current versions unless `versions=all`."
    ),
)
class StatementList(ScopedList, generics.ListAPIView):
    access_rule = LOGGED_IN
    scope = money_visibility.statements
    serializer_class = s.StatementSerializer

    def get_queryset(self) -> QuerySet:
        statements = super().get_queryset().select_related("configuration", "distribution")
        month = _month_param(self.request)
        if month is not None:
            statements = statements.filter(month=month)
        member = _member_param(self.request)
        if member is not None:
            statements = statements.filter(member_id=member)
        versions = self.request.query_params.get("versions", "current")
        if versions not in ("current", "all"):
            raise exceptions.ValidationError({"versions": [_("Use current or all.")]})
        if versions == "current":
            # As on the web page: a corrected statement is replaced by its new version.
            statements = statements.filter(status=StatementStatus.CURRENT)
        return statements.order_by("-month", "member_id", "-version", "pk")


class _OneStatement(ScopedDetail):
    access_rule = on_object(Statement, view=VIEW_STATEMENT)
    scope = money_visibility.statements

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("configuration__community", "distribution")


@extend_schema(tags=["settlement"], responses={200: s.StatementDetailSerializer})
class StatementDetail(_OneStatement, generics.RetrieveAPIView):
    serializer_class = s.StatementDetailSerializer

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().prefetch_related("lines")


@extend_schema(
    tags=["settlement"],
    responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    description="The statement as PDF, the same document as in the web app.",
)
class StatementPdf(_OneStatement):
    def get(self, request: Request, pk: int) -> HttpResponse:
        statement = self.get_object()
        content = pdf.statement_pdf(explain.figures(statement))
        return attachment_response(
            content, filename_stem=pdf_file_stem(statement), content_type="application/pdf"
        )


# --- community report -------------------------------------------------------------------


@extend_schema(
    tags=["reports"],
    parameters=[
        OpenApiParameter(
            "year",
            OpenApiTypes.INT,
            required=False,
            description="The calendar year (default: the current one).",
        ),
        OpenApiParameter(
            "format", OpenApiTypes.STR, required=False, enum=list(REPORT_FORMATS), default="csv"
        ),
        OpenApiParameter(
            "dialect",
            OpenApiTypes.STR,
            required=False,
            enum=[d.value for d in CsvDialect],
            default=CsvDialect.PLAIN.value,
            description=(
                "CSV only: plain (comma, decimal point, ISO dates) or excel (Italian Excel: "
                "semicolon, decimal comma, UTF-8 with BOM)."
            ),
        ),
    ],
    responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
        (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY),
    },
    description=(
        "The community report of a year (incentives, valorisation, GSE fees, pots, members' "
        "shares, balance), as in the web app; for the community's managers."
    ),
)
class CommunityReport(ApiView):
    access_rule = on_object(Community, view="communities.view_community", read=VIEW_REPORT)

    def get_queryset(self) -> QuerySet:
        return visibility.communities(self.request.user, today=self.today())

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # DRF reads `?format=` as a renderer choice and answers 404 for csv/pdf/xlsx; here
        # it names the file's format, as in the web app, and the view writes the file itself.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request, pk: int) -> HttpResponse:
        community = self.get_object()
        raw_year = request.query_params.get("year", str(self.today().year))
        if not _YEAR.match(raw_year) or not 2000 <= int(raw_year) <= 2100:
            raise exceptions.ValidationError(
                {"year": [_("Give the year as YYYY, between 2000 and 2100.")]}
            )
        kind = request.query_params.get("format", "csv")
        if kind not in REPORT_FORMATS:
            raise exceptions.ValidationError({"format": [_("Choose csv, pdf or xlsx.")]})
        report = build_report(community=community, period=periods.year(int(raw_year)))
        content: bytes | str
        if kind == "pdf":
            content = report_pdf(report)
        elif kind == "xlsx":
            content = report_xlsx(report)
        else:
            # Programs call the API: plain CSV unless the Italian Excel dialect is asked for.
            try:
                dialect = csv_dialect(request.query_params.get("dialect") or CsvDialect.PLAIN)
            except UnknownDialect as error:
                raise exceptions.ValidationError({"dialect": [str(error)]}) from None
            content = report_csv(report, dialect)
        return attachment_response(
            content,
            filename_stem=f"report-{community.pk}-{raw_year}",
            content_type=REPORT_FORMATS[kind],
        )
