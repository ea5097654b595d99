"""Pages of the settlement: runs, the year, GSE amounts and their reconciliation.

Each view parses its input, calls one service and renders; the clock is read here and
passed on as `now`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.communities.models import Configuration
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.distribution import services as distribution_services
from cer.distribution.models import Distribution
from cer.plants.models import Plant
from cer.settlement import confirmations, explanations, readable, reconciliation
from cer.settlement.forms import GseFileForm, RunRequestForm
from cer.settlement.jobs import RunAlreadyInProgress, request_run
from cer.settlement.models import SettlementJob, SettlementRun
from cer.settlement.services import (
    MonthNotOver,
    SettlementError,
    finalise_run,
)
from cer.settlement.year import year_summary

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
        except MonthNotOver as error:
            messages.error(request, month_not_over_message(error.month))
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
    names = {share.member_id: share.member.display_name for share in shares}
    adjustments = [
        (
            adjustment,
            [{**row, "name": names.get(row["member_id"], "")} for row in adjustment.shares],
        )
        for adjustment in (distribution.gse_adjustments.all() if distribution else [])
    ]
    latest = (
        SettlementRun.objects.filter(configuration_id=run.configuration_id, month=run.month)
        .order_by("-version")
        .values_list("pk", "version")
        .first()
    )
    latest_pk, latest_version = latest if latest else (run.pk, run.version)
    plants = run.plant_rows.select_related("plant")
    # The engine names plants by primary key; the reader knows them by name.
    plant_names = {str(row.plant_id): row.plant.name for row in plants}
    return render(
        request,
        "settlement/run_detail.html",
        {
            "run": run,
            "configuration": run.configuration,
            "members": run.member_rows.select_related("member"),
            "plants": plants,
            "explanations": explanations.explain_all(run.warnings, plant_names=plant_names),
            "change_sentences": readable.changes_sentences(run.changes or {}),
            "gaps": [
                {"pod": gap["pod"], "count": gap["count"], "ranges": readable.gap_ranges(gap)}
                for gap in run.gaps
            ],
            "unpriced_ranges": readable.unpriced_ranges(run.unpriced_hours),
            "distribution": distribution,
            "shares": shares,
            "gse_adjustments": adjustments,
            "can_run": request.user.has_perm("settlement.run_settlement", run),
            "latest_version": latest_version,
            "latest_url": reverse("settlement:run_detail", kwargs={"pk": latest_pk}),
            "superseded": latest_version != run.version,
        },
    )


@object_permission("settlement.run_settlement", SettlementRun)
@require_POST
def run_finalise(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    back = reverse("settlement:run_detail", kwargs={"pk": run.pk})
    reason = request.POST.get("override_reason", "").strip()
    if run.provisional and not reason and not run.is_final:
        messages.error(request, override_required_message(run))
        return redirect(back)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Make %(month)s final?") % {"month": confirmations.month_label(run)},
            consequences=confirmations.finalise_consequences(run, override_reason=reason),
            action_label=_("Make it final"),
            cancel_url=back,
        )
    try:
        finalise_run(run=run, actor=request.user, now=timezone.now(), override_reason=reason)
        messages.info(request, _("The run is final."))
    except SettlementError as error:
        messages.error(request, str(error))
    return redirect(back)


@object_permission("settlement.run_settlement", SettlementRun)
@require_POST
def run_distribute(request: HttpRequest, run: SettlementRun) -> HttpResponse:
    back = reverse("settlement:run_detail", kwargs={"pk": run.pk})
    try:
        distribution_services.ensure_latest_version(run)
        if not is_confirmed(request):
            return confirmation_page(
                request,
                title=_("Distribute %(month)s?") % {"month": confirmations.month_label(run)},
                consequences=confirmations.distribute_consequences(run),
                action_label=_("Distribute and issue statements"),
                cancel_url=back,
            )
        distribution_services.distribute_run(run=run, actor=request.user, now=timezone.now())
        messages.info(request, _("The amount was distributed and the statements issued."))
    except distribution_services.NoPolicy:
        messages.error(request, no_policy_message(run))
    except distribution_services.SupersededVersion as error:
        messages.error(request, superseded_message(run, error.current_version))
    except (
        distribution_services.InvalidPlan,
        distribution_services.NegativeAmount,
    ) as error:
        messages.error(request, str(error))
    return redirect(back)


def no_policy_message(run: SettlementRun) -> str:
    """Say that the month has no distribution policy and link to the page that sets one."""
    return format_html(
        '{} <a href="{}">{}</a>',
        _(
            "No distribution policy is valid in %(month)s, so the amount cannot be shared "
            "out. Set the community's policy, valid from %(month)s or earlier, then "
            "distribute again:"
        )
        % {"month": confirmations.month_label(run)},
        reverse("distribution:policy", kwargs={"pk": run.configuration.community_id}),
        _("distribution policy"),
    )


def month_not_over_message(month: dt.date) -> str:
    """Say that the month is still running and from which day it can be settled."""
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return _(
        "%(month)s is not over yet: its readings are complete only after its last day. "
        "Settle it from %(day)s on."
    ) % {"month": formatting.month(month), "day": formatting.day(next_month)}


def override_required_message(run: SettlementRun) -> str:
    """Say why a provisional run is not made final and the two ways forward."""
    return _(
        "%(month)s is provisional: %(gaps)s point(s) have missing readings and %(unpriced)s "
        "hour(s) have no market price. Import the missing data and settle the month again; "
        "or, if they will not come, write in the box why the month should be final anyway "
        "(your reason is recorded with your name) and press the button again."
    ) % {
        "month": confirmations.month_label(run),
        "gaps": len(run.gaps),
        "unpriced": len(run.unpriced_hours),
    }


def superseded_message(run: SettlementRun, current_version: int) -> str:
    """Say that a newer version replaced this one and link to it."""
    latest = (
        SettlementRun.objects.filter(
            configuration_id=run.configuration_id, month=run.month, version=current_version
        )
        .values_list("pk", flat=True)
        .first()
    )
    text = _(
        "Version %(version)s of %(month)s has been replaced by version %(current)s: only the "
        "latest version of a month can be distributed. Open version %(current)s and "
        "distribute it from there:"
    ) % {
        "version": run.version,
        "month": confirmations.month_label(run),
        "current": current_version,
    }
    if latest is None:
        return text
    return format_html(
        '{} <a href="{}">{}</a>',
        text,
        reverse("settlement:run_detail", kwargs={"pk": latest}),
        _("version %(current)s") % {"current": current_version},
    )


@object_permission("settlement.view_run", Configuration)
def year_view(request: HttpRequest, configuration: Configuration, year: int) -> HttpResponse:
    summary = year_summary(configuration=configuration, year=year)
    plant_names = {
        str(pk): name
        for pk, name in Plant.objects.filter(
            connection_point__configuration=configuration
        ).values_list("pk", "name")
    }
    return render(
        request,
        "settlement/year.html",
        {
            "configuration": configuration,
            "summary": summary,
            "year_notes": explanations.explain_all(summary.year_warnings, plant_names=plant_names),
            "year": year,
            "can_true_up": request.user.has_perm("settlement.run_settlement", configuration),
        },
    )


# GSE reconciliation ---------------------------------------------------------------------


@object_permission("settlement.run_settlement", Configuration)
def gse_import(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    form = GseFileForm(request.POST or None, request.FILES or None)
    duplicates: list[reconciliation.Duplicate] = []
    carried: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        try:
            outcome = reconciliation.import_gse_amounts(
                configuration=configuration,
                content=form.cleaned_data["content"],
                source_name=form.cleaned_data["source_name"],
                actor=request.user,
                now=timezone.now(),
                mapping=form.cleaned_data["mapping"],
                second_payments=is_confirmed(request),
            )
            messages.info(
                request,
                _(
                    "%(created)s amounts imported (%(second)s confirmed as second payments), "
                    "%(unchanged)s already known."
                )
                % {
                    "created": outcome.created,
                    "second": outcome.second_payments,
                    "unchanged": outcome.unchanged,
                },
            )
            for month in outcome.adjusted_months:
                messages.info(
                    request,
                    _("%(month)s was distributed already: its statements were adjusted.")
                    % {"month": formatting.month(month)},
                )
            year = min(outcome.months).year if outcome.months else timezone.localdate().year
            return redirect("settlement:reconciliation", pk=configuration.pk, year=year)
        except reconciliation.DuplicatesToConfirm as pending:
            # Shown, not stored: the page asks whether they are second payments and re-posts
            # the file's text, since a browser cannot send the same file again.
            duplicates = pending.duplicates
            carried = {
                "content": form.cleaned_data["content"],
                "source_name": form.cleaned_data["source_name"],
                "mapping": request.POST.get("mapping", ""),
            }
        except reconciliation.GseFileError as error:
            form.add_error("file", str(error))
    return render(
        request,
        "settlement/gse_import.html",
        {
            "configuration": configuration,
            "form": form,
            "duplicates": duplicates,
            "carried": carried,
        },
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
