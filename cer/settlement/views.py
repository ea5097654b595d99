"""Pages of the money path: runs, the year, the policy, statements, disputes, reports, payouts.

Each view parses its input, calls one service and renders; the clock is read here and
passed on as `now`.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.billing import explain, pdf
from cer.billing.models import (
    Dispute,
    PayoutBatch,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.billing.services import (
    DisputeError,
    PayoutError,
    act_on_dispute,
    cancel_payout,
    create_payout,
    eligible_mediators,
    open_dispute,
    payable,
    payout_file,
)
from cer.communities.models import Community, Configuration
from cer.core.access import login_only, object_permission
from cer.core.downloads import XLSX, attachment_response
from cer.core.safe_export import csv_writer
from cer.distribution import services as distribution_services
from cer.distribution.models import Distribution
from cer.members.models import Member
from cer.reports.builders import (
    BadPeriod,
    build_report,
    parse_period,
    report_csv,
    report_pdf,
    report_xlsx,
)
from cer.settlement import reconciliation
from cer.settlement.forms import (
    ComponentFormSet,
    DisputeActionForm,
    DisputeOpenForm,
    GseFileForm,
    PayoutForm,
    PolicyForm,
    PotFormSet,
    RunRequestForm,
)
from cer.settlement.models import SettlementJob, SettlementRun
from cer.settlement.services import (
    RunAlreadyInProgress,
    SettlementError,
    finalise_run,
    request_run,
    year_summary,
)

# Runs -----------------------------------------------------------------------------------


@object_permission("settlement.run_settlement", Configuration)
def configuration_runs(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    form = RunRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_run(
                configuration=configuration,
                month=form.cleaned_data["month"],
                actor=request.user,
                now=timezone.now(),
            )
            messages.info(request, _("The settlement was queued; refresh in a few seconds."))
        except RunAlreadyInProgress:
            messages.error(request, _("A settlement of that month is already in progress."))
        return redirect("settlement:configuration_runs", pk=configuration.pk)
    runs = SettlementRun.objects.filter(configuration=configuration).order_by("-month", "-version")
    jobs = SettlementJob.objects.filter(configuration=configuration)[:10]
    today = timezone.localdate()
    return render(
        request,
        "settlement/runs.html",
        {
            "configuration": configuration,
            "runs": runs,
            "jobs": jobs,
            "form": form,
            "year": today.year,
        },
    )


@object_permission("settlement.view_run", SettlementRun)
def run_detail(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    distribution = Distribution.objects.filter(run=run).first()
    shares = distribution.shares.select_related("member") if distribution else []
    return render(
        request,
        "settlement/run_detail.html",
        {
            "run": run,
            "configuration": run.configuration,
            "members": run.member_rows.select_related("member"),
            "plants": run.plant_rows.select_related("plant"),
            "distribution": distribution,
            "shares": shares,
            "can_run": request.user.has_perm("settlement.run_settlement", run),
        },
    )


@object_permission("settlement.run_settlement", SettlementRun)
@require_POST
def run_finalise(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    try:
        finalise_run(run=run, actor=request.user, now=timezone.now())
        messages.info(request, _("The run is final."))
    except SettlementError as error:
        messages.error(request, str(error))
    return redirect("settlement:run_detail", pk=run.pk)


@object_permission("settlement.run_settlement", SettlementRun)
@require_POST
def run_distribute(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    try:
        distribution_services.distribute_run(run=run, actor=request.user, now=timezone.now())
        messages.info(request, _("The amount was distributed and the statements issued."))
    except distribution_services.ExcessCeilingExceeded as error:
        messages.error(
            request,
            _(
                "Refused: enterprises would receive %(enterprise)s EUR, above the ceiling of "
                "%(ceiling)s EUR (excess %(excess)s EUR)."
            )
            % {
                "enterprise": error.enterprise_eur,
                "ceiling": error.ceiling_eur,
                "excess": error.excess_eur,
            },
        )
    except (
        distribution_services.InvalidPlan,
        distribution_services.NoPolicy,
        distribution_services.NegativeAmount,
    ) as error:
        messages.error(request, str(error))
    return redirect("settlement:run_detail", pk=run.pk)


@object_permission("settlement.view_run", Configuration)
def year_view(request: HttpRequest, configuration: Configuration, year: int) -> HttpResponse:
    summary = year_summary(configuration=configuration, year=year)
    return render(
        request,
        "settlement/year.html",
        {"configuration": configuration, "summary": summary, "year": year},
    )


# Distribution policy --------------------------------------------------------------------


@object_permission("settlement.manage_distribution", Community)
def policy_edit(request: HttpRequest, community: Community) -> HttpResponse:
    form = PolicyForm(request.POST or None, community=community)
    pots = PotFormSet(request.POST or None, prefix="pots")
    components = ComponentFormSet(request.POST or None, prefix="components")
    if request.method == "POST" and form.is_valid() and pots.is_valid() and components.is_valid():
        pot_rows = [
            {key: value for key, value in p.items() if value not in (None, "")}
            for p in pots.cleaned_data
            if p.get("code")
        ]
        component_rows = [c for c in components.cleaned_data if c.get("basis")]
        try:
            distribution_services.set_policy(
                community=community,
                valid_from=form.cleaned_data["valid_from"],
                pots=pot_rows,
                components=component_rows,
                custom_weights=form.cleaned_data["custom_weights"],
                excess_policy=form.cleaned_data["excess_policy"],
                excess_to_social_percent=form.cleaned_data["excess_to_social_percent"],
                missing_data=form.cleaned_data["missing_data"],
                actor=request.user,
                now=timezone.now(),
            )
            messages.info(request, _("The distribution policy was saved."))
            return redirect("settlement:policy", pk=community.pk)
        except distribution_services.InvalidPlan as error:
            if error.field in form.fields:
                form.add_error(error.field, error.problem)
            else:
                form.add_error(None, f"{error.field}: {error.problem}")
        except distribution_services.PolicyConflict as error:
            form.add_error("valid_from", str(error))
    policies = community.distribution_policies.prefetch_related("pots", "components")
    return render(
        request,
        "settlement/policy.html",
        {
            "community": community,
            "form": form,
            "pots": pots,
            "components": components,
            "policies": policies,
        },
    )


# Statements -----------------------------------------------------------------------------


@login_only
def my_statements(request: HttpRequest) -> HttpResponse:
    statements = (
        Statement.objects.filter(
            member__user_id=request.user.pk or 0, status=StatementStatus.CURRENT
        )
        .select_related("configuration__community")
        .order_by("-month")
    )
    return render(request, "settlement/my_statements.html", {"statements": statements})


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
        "settlement/statement.html",
        {
            "statement": statement,
            "data": data,
            "versions": versions,
            "lines": statement.lines.all(),
            "can_contest": request.user.has_perm("settlement.contest_line", statement)
            and statement.status == StatementStatus.CURRENT,
            "disputes": Dispute.objects.filter(line__statement=statement),
        },
    )


@object_permission("settlement.view_statement", Statement)
def statement_pdf(request: HttpRequest, statement: Statement) -> HttpResponse:
    content = pdf.statement_pdf(explain.figures(statement))
    stem = f"statement-{statement.month:%Y-%m}-v{statement.version}-{statement.file_token}"
    return attachment_response(content, filename_stem=stem, content_type="application/pdf")


@object_permission("settlement.view_statement", Statement)
def statement_csv(request: HttpRequest, statement: Statement) -> HttpResponse:
    stem = f"hours-{statement.month:%Y-%m}-{statement.file_token}"
    return attachment_response(
        explain.hourly_csv(statement), filename_stem=stem, content_type="text/csv"
    )


# Disputes -------------------------------------------------------------------------------


@object_permission("settlement.contest_line", StatementLine)
def dispute_open(request: HttpRequest, line: StatementLine) -> HttpResponse:
    form = DisputeOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = open_dispute(
                line=line,
                actor=request.user,
                message=form.cleaned_data["message"],
                now=timezone.now(),
            )
            return redirect("settlement:dispute", pk=dispute.pk)
        except DisputeError as error:
            form.add_error(None, str(error))
    return render(request, "settlement/dispute_open.html", {"line": line, "form": form})


@object_permission("settlement.view_dispute", Dispute)
def dispute_detail(request: HttpRequest, dispute: Dispute) -> HttpResponse:
    can_answer = request.user.has_perm("settlement.answer_dispute", dispute)
    is_member = request.user.pk == dispute.member.user_id
    form = DisputeActionForm(
        request.POST or None,
        mediators=eligible_mediators(dispute, today=timezone.localdate()),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        member_actions = {"escalate", "reopen"}
        if not (can_answer or (is_member and action in member_actions)):
            raise PermissionDenied
        mediator = form.cleaned_data["mediator"] if action == "escalate" else None
        amount = form.cleaned_data.get("amount_eur") or Decimal(0)
        if action == "resolve" and amount and request.user.pk == dispute.mediator_id:
            # A mediator recommends; the community's managers decide on money.
            raise PermissionDenied
        try:
            act_on_dispute(
                dispute=dispute,
                action=action,
                actor=request.user,
                message=form.cleaned_data["message"],
                now=timezone.now(),
                mediator=mediator,
                amount_eur=amount,
            )
        except DisputeError as error:
            messages.error(request, str(error))
        return redirect("settlement:dispute", pk=dispute.pk)
    if request.method == "POST":
        status = 400
    return render(
        request,
        "settlement/dispute.html",
        {
            "dispute": dispute,
            "events": dispute.events.select_related("actor"),
            "form": form,
            "can_answer": can_answer,
            "is_member": is_member,
        },
        status=status,
    )


@login_only
def dispute_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    from cer.communities.permissions import MANAGER_ROLES
    from cer.members.models import Membership

    managed = (
        Membership.objects.active_on(today)
        .filter(member__user_id=request.user.pk or 0, role__in=MANAGER_ROLES)
        .values("community_id")
    )
    disputes = Dispute.objects.filter(
        Q(member__user_id=request.user.pk or 0)
        | Q(mediator_id=request.user.pk)
        | Q(line__statement__configuration__community_id__in=managed)
    ).select_related("member", "line__statement")
    return render(request, "settlement/dispute_list.html", {"disputes": disputes})


# Community report -----------------------------------------------------------------------


@object_permission("settlement.view_report", Community)
def community_report(request: HttpRequest, community: Community) -> HttpResponse:
    text = request.GET.get("period") or str(timezone.localdate().year)
    try:
        period = parse_period(text)
    except BadPeriod:
        raise Http404(_("Write the period as YYYY, YYYY-MM or YYYY-Qn.")) from None
    report = build_report(community=community, period=period)
    kind = request.GET.get("format", "html")
    stem = f"report-{community.pk}-{period.label}"
    if kind == "csv":
        return attachment_response(report_csv(report), filename_stem=stem, content_type="text/csv")
    if kind == "xlsx":
        return attachment_response(report_xlsx(report), filename_stem=stem, content_type=XLSX)
    if kind == "pdf":
        return attachment_response(
            report_pdf(report), filename_stem=stem, content_type="application/pdf"
        )
    return render(request, "settlement/report.html", {"report": report, "community": community})


# GSE reconciliation ---------------------------------------------------------------------


@object_permission("settlement.run_settlement", Configuration)
def gse_import(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    form = GseFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            outcome = reconciliation.import_gse_amounts(
                configuration=configuration,
                content=upload.read().decode("utf-8-sig"),
                source_name=upload.name,
                actor=request.user,
                now=timezone.now(),
                mapping=form.cleaned_data["mapping"],
            )
            messages.info(
                request,
                _("%(created)s amounts imported, %(unchanged)s already known.")
                % {"created": outcome.created, "unchanged": outcome.unchanged},
            )
            return redirect(
                "settlement:reconciliation", pk=configuration.pk, year=timezone.localdate().year
            )
        except (reconciliation.GseFileError, UnicodeDecodeError) as error:
            form.add_error("file", str(error))
    return render(
        request, "settlement/gse_import.html", {"configuration": configuration, "form": form}
    )


@object_permission("settlement.view_run", Configuration)
def reconciliation_view(
    request: HttpRequest, configuration: Configuration, year: int
) -> HttpResponse:
    lines = reconciliation.reconcile(configuration=configuration, year=year)
    return render(
        request,
        "settlement/reconciliation.html",
        {
            "configuration": configuration,
            "year": year,
            "lines": lines,
            "flagged": sum(1 for line in lines if line.flagged),
        },
    )


# Payouts --------------------------------------------------------------------------------


@object_permission("settlement.manage_payouts", Configuration)
def payouts(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    form = PayoutForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        start = form.cleaned_data["period_start"]
        last = form.cleaned_data["period_end"]
        end = dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)
        try:
            batch = create_payout(
                configuration=configuration,
                period_start=start,
                period_end=end,
                debtor_name=form.cleaned_data["debtor_name"],
                debtor_iban=form.cleaned_data["debtor_iban"],
                debtor_bic=form.cleaned_data["debtor_bic"],
                execution_date=form.cleaned_data["execution_date"],
                actor=request.user,
                now=timezone.now(),
            )
            return redirect("settlement:payout", pk=batch.pk)
        except PayoutError as error:
            form.add_error(None, str(error))
            preview = payable(configuration=configuration, period_start=start, period_end=end)
    return render(
        request,
        "settlement/payouts.html",
        {
            "configuration": configuration,
            "form": form,
            "batches": configuration.payout_batches.all(),
            "preview": preview,
        },
    )


@object_permission("settlement.manage_payouts", PayoutBatch)
def payout_detail(request: HttpRequest, batch: PayoutBatch) -> HttpResponse:
    if request.method == "POST" and request.POST.get("action") == "cancel":
        try:
            cancel_payout(batch=batch, actor=request.user, now=timezone.now())
        except PayoutError as error:
            messages.error(request, str(error))
        return redirect("settlement:payout", pk=batch.pk)
    return render(request, "settlement/payout.html", {"batch": batch, "items": batch.items.all()})


@object_permission("settlement.manage_payouts", PayoutBatch)
def payout_xml(request: HttpRequest, batch: PayoutBatch) -> HttpResponse:
    stem = f"pain001-{batch.period_start:%Y%m}-{batch.file_token}"
    content = payout_file(batch=batch, actor=request.user, now=timezone.now())
    return attachment_response(content, filename_stem=stem, content_type="application/xml")


@object_permission("members.view_member_details", Member)
def year_statement(request: HttpRequest, member: Member, year: int) -> HttpResponse:
    """A member's yearly statement: the current monthly amounts of `year` and their total."""
    # Only what the viewer may see: a manager of one community never sees what another
    # community pays a member they share (the API's rule, Statement.objects.visible_to).
    visible = Statement.objects.visible_to(request.user, today=timezone.localdate())
    statements = list(
        visible.filter(member=member, status=StatementStatus.CURRENT, month__year=year)
        .select_related("configuration__community")
        .order_by("configuration_id", "month")
    )
    # Each monthly amount is already rounded to the cent on its statement: the year is
    # their sum, so the yearly figure always matches the monthly documents.
    total_eur = sum((s.amount_eur for s in statements), Decimal("0.00"))
    provisional = any(s.provisional for s in statements)
    wanted = request.GET.get("format")
    if wanted == "csv":
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(["month", "community", "amount_eur", "provisional"])
        for s in statements:
            writer.writerow(
                [
                    s.month.strftime("%Y-%m"),
                    s.configuration.community.name,
                    s.amount_eur,
                    s.provisional,
                ]
            )
        writer.writerow(["total", "", total_eur, provisional])
        return attachment_response(
            out.getvalue(), filename_stem=f"statement-{year}", content_type="text/csv"
        )
    if wanted == "pdf":
        title = _("Yearly statement %(year)s: %(name)s") % {
            "year": year,
            "name": member.display_name,
        }
        rows: list[list[object]] = [[_("Month"), _("Community"), _("Amount [EUR]")]]
        rows += [
            [s.month.strftime("%m/%Y"), s.configuration.community.name, s.amount_eur]
            for s in statements
        ]
        rows.append([_("Total for the year"), "", total_eur])
        # A random token in the name, as for every document with personal data.
        return attachment_response(
            pdf.table_pdf(title, [(_("Monthly amounts"), rows)]),
            filename_stem=f"statement-{year}-{secrets.token_hex(4)}",
            content_type="application/pdf",
        )
    return render(
        request,
        "settlement/year_statement.html",
        {
            "member": member,
            "year": year,
            "statements": statements,
            "total_eur": total_eur,
            "provisional": provisional,
        },
    )
