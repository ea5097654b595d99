"""The community's accounts: expenses (list, record), income, the economic report.

For the community's managers, as in the web app (cer/treasury/permissions.py). Writes go
through cer.treasury.ledger, as the pages' do; a refused entry is a 400 naming the field.
Personal access tokens read income and the report, not the ledger.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import TOKENS_REFUSED, on_object
from cer.api.serializers import treasury as s
from cer.api.views.base import ApiView
from cer.communities.models import Community
from cer.core.csv_export import CsvDialect, UnknownDialect, csv_dialect
from cer.core.downloads import XLSX, attachment_response
from cer.treasury import ledger
from cer.treasury.income import income_items
from cer.treasury.models import Expense, ExpenseCategory, IncomeCategory
from cer.treasury.report import REPORT_FILE_TYPES, build_report, report_file
from cercalc import periods

MANAGE = "treasury.manage_accounts"
PERIOD = OpenApiParameter(
    "period", OpenApiTypes.STR, required=False, description="YYYY, YYYY-Qn or YYYY-MM."
)


class _Accounts(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", read=MANAGE, change=MANAGE
    )

    def get_queryset(self) -> QuerySet:
        return visibility.communities(self.request.user, today=self.today())

    def period(self, request: Request) -> periods.Period:
        text = request.query_params.get("period") or str(self.today().year)
        try:
            period = periods.parse(text)
        except ValueError:
            period = None
        if period is None or not (period.is_year or period.is_quarter or period.is_month):
            raise exceptions.ValidationError(
                {"period": [_("Write the period as YYYY, YYYY-MM or YYYY-Qn.")]}
            )
        return period


class CommunityExpenses(_Accounts):
    # No token scope covers the ledger, and an entry is never undone but by a reversal: a
    # personal access token is refused here; income and the report stay readable with one.
    token_scope = TOKENS_REFUSED
    serializer_class = s.ExpenseSerializer

    @extend_schema(
        tags=["treasury"],
        parameters=[PERIOD],
        responses={200: s.ExpenseSerializer(many=True)},
        description="The expense ledger of a period by document date, reversals included.",
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        period = self.period(request)
        expenses = Expense.objects.filter(
            community=community, document_date__gte=period.start, document_date__lt=period.end
        )
        page = self.paginate_queryset(expenses)
        return self.get_paginated_response(s.ExpenseSerializer(page, many=True).data)

    @extend_schema(
        tags=["treasury"],
        request=s.ExpenseCreateSerializer,
        responses={201: s.ExpenseSerializer},
        description=(
            "Record an expense; the VAT must equal taxable x rate to the cent (one cent either "
            "way), amounts have at most two decimals; GSE fees are refused (they come from "
            "settlement)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        body = s.ExpenseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            expense = ledger.record_expense(
                community=community, actor=request.user, now=self.now(), **body.validated_data
            )
        except ledger.EntryRefused as error:
            raise exceptions.ValidationError(error.message_dict) from error
        return Response(s.ExpenseSerializer(expense).data, status=status.HTTP_201_CREATED)


class CommunityIncome(_Accounts):
    serializer_class = s.IncomeItemSerializer

    @extend_schema(
        tags=["treasury"],
        parameters=[PERIOD],
        responses={200: s.IncomeItemSerializer(many=True)},
        description=(
            "The period's income from every source: GSE (each settled month), grants received, "
            "fees collected, entries typed by hand."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        period = self.period(request)
        items = income_items(community_id=community.pk, start=period.start, end=period.end)
        return Response(s.IncomeItemSerializer(items, many=True).data)


def _report_body(report: Any) -> dict[str, Any]:
    totals = report.totals
    return {
        "period": report.period.key,
        "income": [
            {"code": code, "amount_eur": totals.income.get(code, 0)}
            for code in IncomeCategory.values
        ],
        "expenses": [
            {"code": code, "amount_eur": totals.expenses.get(code, 0)}
            for code in ExpenseCategory.values
        ],
        "income_eur": totals.income_total,
        "expenses_eur": totals.expense_total,
        "distributed_eur": totals.distributed,
        "balance_eur": totals.balance,
        "months": [
            {
                "month": month.key,
                "income_eur": f.income_total,
                "expenses_eur": f.expense_total,
                "distributed_eur": f.distributed,
                "balance_eur": f.balance,
            }
            for month, f in report.by_month
        ],
    }


@extend_schema(
    tags=["treasury"],
    parameters=[
        PERIOD,
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "pdf", "xlsx"]),
        OpenApiParameter("dialect", OpenApiTypes.STR, enum=["plain", "excel"]),
    ],
    responses={
        (200, "application/json"): s.EconomicReportSerializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
        (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY),
    },
    description=(
        "The economic report of a month, quarter or year: income by category, expenses by "
        "category, distributed to members, balance; as JSON or as a file."
    ),
)
class CommunityEconomicReport(_Accounts):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # `?format=` names the file's format here, not a DRF renderer.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request, pk: int) -> HttpResponse:
        community = self.get_object()
        period = self.period(request)
        kind = request.query_params.get("format", "json")
        if kind not in (*REPORT_FILE_TYPES, "json"):
            raise exceptions.ValidationError({"format": [_("Choose json, csv, pdf or xlsx.")]})
        report = build_report(community=community, period=period)
        if kind == "json":
            return Response(s.EconomicReportSerializer(_report_body(report)).data)
        dialect = CsvDialect.PLAIN
        if kind == "csv":
            try:
                dialect = csv_dialect(request.query_params.get("dialect") or CsvDialect.PLAIN)
            except UnknownDialect as error:
                raise exceptions.ValidationError({"dialect": [str(error)]}) from None
        content, content_type = report_file(report, kind, dialect)
        return attachment_response(
            content,
            filename_stem=f"economic-report-{community.pk}-{period.key}",
            content_type=content_type,
        )
