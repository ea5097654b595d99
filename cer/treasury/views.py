"""Pages of the community's accounts, for its managers: expenses, income, budget, report.

Every write goes through cer/treasury/ledger.py or budget.py; the forms only parse, and a
refused entry comes back on the form with the field named. Reversing an entry asks for a
confirmation first (cer/core/confirm.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.csv_export import CsvDialect, UnknownDialect, csv_dialect
from cer.core.downloads import attachment_response
from cer.treasury import budget as budgets
from cer.treasury import ledger
from cer.treasury.forms import (
    BudgetForm,
    ExpenseForm,
    IncomeForm,
    PaymentForm,
    ReverseForm,
    UntilForm,
)
from cer.treasury.income import income_items
from cer.treasury.models import Expense, IncomeEntry
from cer.treasury.report import REPORT_FILE_TYPES, build_report, report_file, report_title
from cercalc import periods

PERMISSION = "treasury.manage_accounts"


def _add_errors(form: forms.BaseForm, error: ledger.EntryRefused) -> None:
    for name, sentences in error.message_dict.items():
        for sentence in sentences:
            form.add_error(name if name in form.fields else None, sentence)


def _sentences(error: ledger.EntryRefused) -> str:
    return " ".join(s for sentences in error.message_dict.values() for s in sentences)


def _year_url(name: str, community: Community, year: int) -> str:
    return f"{reverse(name, kwargs={'pk': community.pk})}?year={year}"


@object_permission(PERMISSION, Community)
@require_http_methods(["GET", "HEAD", "POST"])
def expense_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The expense ledger of the community, newest first, and the form to add an entry."""
    form = ExpenseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            ledger.record_expense(
                community=community, actor=request.user, now=timezone.now(), **data
            )
        except ledger.EntryRefused as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The expense was recorded."))
            return redirect("treasury:expenses", pk=community.pk)
    expenses = Expense.objects.filter(community=community).select_related("reverses")
    return render(
        request,
        "treasury/expenses.html",
        {
            "community": community,
            "form": form,
            "expenses": expenses,
            "payment_form": PaymentForm(),
            "reverse_form": ReverseForm(),
        },
    )


@object_permission(PERMISSION, Expense)
@require_POST
def expense_paid(request: HttpRequest, expense: Expense) -> HttpResponse:
    form = PaymentForm(request.POST)
    back = reverse("treasury:expenses", kwargs={"pk": expense.community_id})
    if not form.is_valid():
        for field, sentences in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {' '.join(map(str, sentences))}")
        return redirect(back)
    try:
        ledger.record_payment(
            expense=expense, actor=request.user, now=timezone.now(), **form.cleaned_data
        )
    except ledger.EntryRefused as error:
        messages.error(request, _sentences(error))
    else:
        messages.success(request, _("The payment was recorded."))
    return redirect(back)


@object_permission(PERMISSION, Expense)
@require_POST
def expense_reverse(request: HttpRequest, expense: Expense) -> HttpResponse:
    """Reverse an entry after a confirmation naming the amounts that will be cancelled."""
    form = ReverseForm(request.POST)
    back = reverse("treasury:expenses", kwargs={"pk": expense.community_id})
    if not form.is_valid():
        messages.error(request, _("Say why the entry is reversed."))
        return redirect(back)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Reverse an expense"),
            consequences=[
                _(
                    "A reversing entry of %(total)s will cancel %(supplier)s's document "
                    "%(number)s of %(date)s in the ledger; both stay in the ledger and the "
                    "reversal cannot be undone."
                )
                % {
                    "total": formatting.eur(-expense.total_eur),
                    "supplier": expense.supplier_name,
                    "number": expense.document_number,
                    "date": formatting.day(expense.document_date),
                },
                _("To correct it, record the right entry afterwards."),
            ],
            action_label=_("Reverse the entry"),
            cancel_url=back,
        )
    try:
        ledger.reverse_expense(
            expense=expense,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            now=timezone.now(),
        )
    except ledger.EntryRefused as error:
        messages.error(request, _sentences(error))
    else:
        messages.success(request, _("The entry was reversed."))
    return redirect(back)


# The attachment's type from its stored extension; anything else is sent as a plain download.
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "xml": "application/xml",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


@object_permission(PERMISSION, Expense)
@require_safe
def expense_attachment(request: HttpRequest, expense: Expense) -> HttpResponse:
    """The entry's attachment, for the community's managers only (media is not public)."""
    if not expense.attachment:
        raise Http404(_("This entry has no attachment."))
    extension = expense.attachment.name.rsplit(".", 1)[-1].lower()
    return attachment_response(
        expense.attachment.open("rb"),
        filename_stem=f"expense-{expense.pk}",
        content_type=ATTACHMENT_TYPES.get(extension, "application/octet-stream"),
    )


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or str(timezone.localdate().year)
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404(_("Give the year as YYYY, between 2000 and 2100."))
    return int(raw)


@object_permission(PERMISSION, Community)
@require_http_methods(["GET", "HEAD", "POST"])
def income_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The year's income from every source, and the form to add income typed by hand."""
    year = _year(request)
    form = IncomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ledger.record_income(
                community=community, actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ledger.EntryRefused as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The income was recorded."))
            return redirect(
                f"{reverse('treasury:income', kwargs={'pk': community.pk})}?year={year}"
            )
    period = periods.year(year)
    items = income_items(community_id=community.pk, start=period.start, end=period.end)
    return render(
        request,
        "treasury/income.html",
        {
            "community": community,
            "form": form,
            "items": items,
            "year": year,
            "total": sum((item.amount for item in items), Decimal(0)),
            "manual": IncomeEntry.objects.filter(community=community, received_date__year=year),
        },
    )


@object_permission(PERMISSION, IncomeEntry)
@require_POST
def income_reverse(request: HttpRequest, entry: IncomeEntry) -> HttpResponse:
    form = ReverseForm(request.POST)
    back = reverse("treasury:income", kwargs={"pk": entry.community_id})
    if not form.is_valid():
        messages.error(request, _("Say why the entry is reversed."))
        return redirect(back)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Reverse an income entry"),
            consequences=[
                _(
                    "A reversing entry of %(amount)s will cancel “%(description)s” of "
                    "%(date)s; both stay in the accounts and the reversal cannot be undone."
                )
                % {
                    "amount": formatting.eur(-entry.amount_eur),
                    "description": entry.description,
                    "date": formatting.day(entry.received_date),
                }
            ],
            action_label=_("Reverse the entry"),
            cancel_url=back,
        )
    try:
        ledger.reverse_income(
            entry=entry, reason=form.cleaned_data["reason"], actor=request.user, now=timezone.now()
        )
    except ledger.EntryRefused as error:
        messages.error(request, _sentences(error))
    else:
        messages.success(request, _("The entry was reversed."))
    return redirect(back)


@object_permission(PERMISSION, Community)
@require_http_methods(["GET", "HEAD", "POST"])
def budget(request: HttpRequest, community: Community) -> HttpResponse:
    """The year's budget by category, editable, with the actual figures and the variance."""
    year = _year(request)
    until_form = UntilForm(request.GET or None)
    until = until_form.cleaned_data.get("until") if until_form.is_valid() else None
    rows: list[budgets.BudgetRow] = []
    try:
        rows = budgets.budget_vs_actual(community=community, year=year, until=until)
    except ledger.EntryRefused as error:
        _add_errors(until_form, error)
        rows = budgets.budget_vs_actual(community=community, year=year)
    initial: dict[str, Any] = {row.field_name: row.budget for row in rows}
    form = BudgetForm(request.POST or None, initial_amounts=initial)
    if request.method == "POST" and form.is_valid():
        try:
            budgets.set_budget(
                community=community,
                year=year,
                amounts=form.amounts(),
                actor=request.user,
                now=timezone.now(),
            )
        except ledger.EntryRefused as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The budget was saved."))
            return redirect(
                f"{reverse('treasury:budget', kwargs={'pk': community.pk})}?year={year}"
            )
    return render(
        request,
        "treasury/budget.html",
        {
            "community": community,
            "year": year,
            "rows": rows,
            "form": form,
            "until_form": until_form,
        },
    )


@object_permission(PERMISSION, Community)
@require_safe
def report(request: HttpRequest, community: Community) -> HttpResponse:
    """The economic report of a month, a quarter or a year, as a page or a file."""
    text = request.GET.get("period") or str(timezone.localdate().year)
    try:
        period = periods.parse(text)
    except ValueError:
        raise Http404(_("Write the period as YYYY, YYYY-MM or YYYY-Qn.")) from None
    if not (period.is_year or period.is_quarter or period.is_month):
        raise Http404(_("Write the period as YYYY, YYYY-MM or YYYY-Qn."))
    built = build_report(community=community, period=period)
    kind = request.GET.get("format", "html")
    stem = f"economic-report-{community.pk}-{period.key}"
    if kind in REPORT_FILE_TYPES:
        dialect = CsvDialect.EXCEL
        if kind == "csv":
            try:
                dialect = csv_dialect(request.GET.get("dialect"))
            except UnknownDialect as error:
                raise BadRequest(str(error)) from None
        content, content_type = report_file(built, kind, dialect)
        return attachment_response(content, filename_stem=stem, content_type=content_type)
    return render(
        request,
        "treasury/report.html",
        {"community": community, "report": built, "title": report_title(built)},
    )
