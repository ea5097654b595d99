"""Statement pages: a member's statements, one statement with its files, the yearly statement.

Each view parses its input, calls one service and renders; the clock is read here.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.billing import explain, pdf, positions, tasks
from cer.billing.models import Dispute, Statement, StatementStatus
from cer.billing.payouts import statement_payment
from cer.billing.statements import pdf_file_stem
from cer.core import formatting
from cer.core.access import login_only, object_permission
from cer.core.csv_export import CsvDialect, DialectCsv, UnknownDialect, csv_dialect
from cer.core.downloads import attachment_response
from cer.core.models import TaskRecord
from cer.distribution.models import Distribution
from cer.members.models import Member
from cer.settlement.models import SettlementRun
from cercalc import periods


@login_only
def my_statements(request: HttpRequest) -> HttpResponse:
    statements = (
        Statement.objects.filter(
            member__user_id=request.user.pk or 0, status=StatementStatus.CURRENT
        )
        .select_related("configuration__community", "distribution__run")
        .order_by("-month")
    )
    return render(request, "billing/my_statements.html", {"statements": statements})


@object_permission("settlement.view_statement", Statement)
def statement_detail(request: HttpRequest, statement: Statement) -> HttpResponse:
    data = explain.figures(statement)
    versions = Statement.objects.filter(
        member_id=statement.member_id,
        configuration_id=statement.configuration_id,
        month=statement.month,
    ).order_by("version")
    return render(
        request,
        "billing/statement.html",
        {
            "statement": statement,
            "data": data,
            "versions": versions,
            "ledger": positions.statement_ledger(statement),
            "lines": statement.lines.all(),
            "can_contest": request.user.has_perm("settlement.contest_line", statement)
            and statement.status == StatementStatus.CURRENT,
            "disputes": Dispute.objects.filter(line__statement=statement),
            "payment": statement_payment(statement),
        },
    )


@object_permission("settlement.view_statement", Statement)
def statement_pdf(request: HttpRequest, statement: Statement) -> HttpResponse:
    content = pdf.statement_pdf(explain.figures(statement))
    return attachment_response(
        content, filename_stem=pdf_file_stem(statement), content_type="application/pdf"
    )


def _dialect(request: HttpRequest) -> CsvDialect:
    try:
        return csv_dialect(request.GET.get("dialect"))
    except UnknownDialect as error:
        raise BadRequest(str(error)) from None


@object_permission("settlement.view_statement", Statement)
def statement_csv(request: HttpRequest, statement: Statement) -> HttpResponse:
    stem = f"hours-{statement.month:%Y-%m}-{statement.file_token}"
    return attachment_response(
        explain.hourly_csv(statement, _dialect(request)),
        filename_stem=stem,
        content_type="text/csv",
    )


@object_permission("members.view_member_details", Member)
def year_statement(request: HttpRequest, member: Member, year: int) -> HttpResponse:
    """A member's yearly statement: the current monthly amounts of `year` and their total."""
    # Only what the viewer may see: a manager of one community never sees what another
    # community pays a member they share (the API's rule, Statement.objects.visible_to).
    visible = Statement.objects.visible_to(request.user, today=timezone.localdate())
    statements = list(
        visible.filter(member=member, status=StatementStatus.CURRENT, month__year=year)
        .select_related("configuration__community", "distribution__run")
        .prefetch_related("lines")
        .order_by("configuration_id", "month")
    )
    # Each monthly amount is already rounded to the cent on its statement: the year is
    # their sum, so the yearly figure always matches the monthly documents.
    total_eur = sum((s.amount_eur for s in statements), Decimal("0.00"))
    # Provisional until the month's run is final (SettlementRun.amounts_provisional).
    provisional = any(s.distribution.run.amounts_provisional for s in statements)
    # Every line of every month with what was paid: a month whose share was withdrawn by a
    # new settlement version shows its negative line, and the year what is owed back.
    ledgers = positions.ledgers(statements)
    months = [(s, *ledgers[s.pk]) for s in statements]
    year_position = sum(
        (p for _s, _rows, p in months), positions.Position(Decimal("0.00"), Decimal("0.00"))
    )
    wanted = request.GET.get("format")
    if wanted == "csv":
        dialect = _dialect(request)
        human = dialect == CsvDialect.EXCEL
        out = DialectCsv(dialect)
        out.header(
            ["month", "community", "line", "kind", "amount_eur", "provisional"],
            [_("Month"), _("Community"), _("Line"), _("Kind"), _("Amount [EUR]"), _("Provisional")],
        )
        for s, rows, _position in months:
            for row in rows:
                out.writerow(
                    [
                        periods.month(s.month.year, s.month.month),
                        s.configuration.community.name,
                        row.line.shown_description,
                        # People read the kind in words, programs its stable code.
                        row.kind_label if human else row.line.kind,
                        row.line.amount_eur,
                        s.distribution.run.amounts_provisional,
                    ]
                )
        # The closing rows: a code for programs, words for people.
        closing = [
            ("total", _("Total for the year"), total_eur, provisional),
            ("paid", _("Paid"), year_position.paid_eur, None),
            ("to_pay", _("Still to pay to you"), year_position.to_pay_eur, None),
            ("owed_back", _("You owe back"), year_position.owed_eur, None),
        ]
        for code, label, amount, flag in closing:
            out.writerow([label if human else code, "", "", "", amount, flag])
        return attachment_response(
            out.content(), filename_stem=f"statement-{year}", content_type="text/csv"
        )
    if wanted == "pdf":
        title = _("Yearly statement %(year)s: %(name)s") % {
            "year": year,
            "name": member.display_name,
        }
        table: list[list[object]] = [
            [_("Month"), _("Community"), _("Line"), _("Amount [EUR]"), _("Paid [EUR]")]
        ]
        for s, rows, position in months:
            month = formatting.month(s.month)
            table += [
                [
                    month,
                    s.configuration.community.name,
                    # The kind in words: a description would not fit the page's width.
                    row.kind_label,
                    row.line.amount_eur,
                    row.line.amount_eur if row.paid else "",
                ]
                for row in rows
            ]
            table.append([month, "", _("Month total"), s.amount_eur, position.paid_eur])
        table.append([_("Total for the year"), "", "", total_eur, year_position.paid_eur])
        balance: list[list[object]] = [
            [_("Position for the year"), total_eur],
            [_("Paid"), year_position.paid_eur],
            [_("Still to pay to you"), year_position.to_pay_eur],
            [_("You owe back"), year_position.owed_eur],
        ]
        # A random token in the name, as for every document with personal data.
        return attachment_response(
            pdf.table_pdf(title, [(_("Monthly amounts"), table), (_("Balance"), balance)]),
            filename_stem=f"statement-{year}-{secrets.token_hex(4)}",
            content_type="application/pdf",
        )
    return render(
        request,
        "billing/year_statement.html",
        {
            "member": member,
            "year": year,
            "statements": statements,
            "months": months,
            "position": year_position,
            "total_eur": total_eur,
            "provisional": provisional,
        },
    )


@object_permission("settlement.view_run", SettlementRun)
def run_statement_pdfs(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    """Every current statement of the run's distribution as PDFs in one ZIP; with workers,
    built in the background and offered on the task's page."""
    distribution = get_object_or_404(Distribution.objects.select_related("run"), run=run)
    outcome = tasks.request_statement_pdfs(
        distribution=distribution, actor=request.user, now=timezone.now()
    )
    if isinstance(outcome, TaskRecord):
        return redirect("tasks:task", record_id=outcome.pk)
    return attachment_response(
        outcome, filename_stem=tasks.bundle_name(distribution), content_type="application/zip"
    )
