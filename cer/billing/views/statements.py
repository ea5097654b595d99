"""Statement pages: a member's statements, one statement with its files, the yearly statement.

Each view parses its input, calls one service and renders; the clock is read here.
"""

from __future__ import annotations

import io
import secrets
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.billing import explain, pdf, positions
from cer.billing.models import Dispute, Statement, StatementStatus
from cer.billing.payouts import statement_payment
from cer.billing.statements import pdf_file_stem
from cer.core.access import login_only, object_permission
from cer.core.downloads import attachment_response
from cer.core.safe_export import csv_writer
from cer.members.models import Member


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


@object_permission("settlement.view_statement", Statement)
def statement_csv(request: HttpRequest, statement: Statement) -> HttpResponse:
    stem = f"hours-{statement.month:%Y-%m}-{statement.file_token}"
    return attachment_response(
        explain.hourly_csv(statement), filename_stem=stem, content_type="text/csv"
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
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(["month", "community", "line", "kind", "amount_eur", "provisional"])
        for s, rows, _position in months:
            for row in rows:
                writer.writerow(
                    [
                        s.month.strftime("%Y-%m"),
                        s.configuration.community.name,
                        row.line.description,
                        row.line.kind,
                        row.line.amount_eur,
                        s.distribution.run.amounts_provisional,
                    ]
                )
        writer.writerow(["total", "", "", "", total_eur, provisional])
        writer.writerow(["paid", "", "", "", year_position.paid_eur, ""])
        writer.writerow(["to_pay", "", "", "", year_position.to_pay_eur, ""])
        writer.writerow(["owed_back", "", "", "", year_position.owed_eur, ""])
        return attachment_response(
            out.getvalue(), filename_stem=f"statement-{year}", content_type="text/csv"
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
            table += [
                [
                    s.month.strftime("%m/%Y"),
                    s.configuration.community.name,
                    # The kind in words: a description would not fit the page's width.
                    row.kind_label,
                    row.line.amount_eur,
                    row.line.amount_eur if row.paid else "",
                ]
                for row in rows
            ]
            table.append(
                [s.month.strftime("%m/%Y"), "", _("Month total"), s.amount_eur, position.paid_eur]
            )
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
