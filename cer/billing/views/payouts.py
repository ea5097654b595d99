"""Payout pages: a configuration's SEPA batches, one batch and its life, its pain.001 file.

Each view parses its input, calls one service and renders; the clock is read here. Preparing
a file, voiding a batch and rejecting a transfer are confirmed first (cer/core/confirm.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.billing.models import PayoutBatch, PayoutItemStatus
from cer.billing.payout_forms import (
    BankReportForm,
    MinimumTransferForm,
    OutcomeForm,
    PayoutForm,
    SentForm,
    VoidForm,
)
from cer.billing.payout_lifecycle import (
    record_outcome,
    record_sent,
    set_minimum_transfer,
    void_payout,
)
from cer.billing.payouts import (
    PayoutError,
    check_execution_date,
    create_payout,
    default_execution_date,
    minimum_transfer,
    payout_file,
    preview,
)
from cer.communities.models import Configuration
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response
from cer.members.changes import mask_iban


def _month_after(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _add_error(form: forms.Form, error: PayoutError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


@object_permission("settlement.manage_payouts", Configuration)
def payouts(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    now = timezone.now()
    community = configuration.community
    action = request.POST.get("action", "create") if request.method == "POST" else ""
    form = PayoutForm(
        request.POST if action == "create" else None,
        initial={"execution_date": default_execution_date(now)},
    )
    minimum_form = MinimumTransferForm(
        request.POST if action == "minimum" else None,
        initial={"minimum_transfer_eur": minimum_transfer(community.pk)},
    )
    if action == "minimum" and minimum_form.is_valid():
        try:
            set_minimum_transfer(
                community=community,
                amount_eur=minimum_form.cleaned_data["minimum_transfer_eur"],
                actor=request.user,
                now=now,
            )
            messages.success(request, _("Minimum transfer saved."))
            return redirect("billing:payouts", pk=configuration.pk)
        except PayoutError as error:
            _add_error(minimum_form, error)
    plan = None
    if action == "create" and form.is_valid():
        data = form.cleaned_data
        end = _month_after(data["period_end"])
        plan = preview(configuration=configuration, period_end=end)
        execution_date = data["execution_date"] or default_execution_date(now)
        try:
            check_execution_date(execution_date, now=now)
            if not plan.to_pay:
                raise PayoutError(
                    _(
                        "No member has an unpaid amount of at least %(minimum)s EUR "
                        "with a valid IBAN."
                    )
                    % {"minimum": plan.minimum_eur}
                )
            if not is_confirmed(request):
                return _confirm_create(request, configuration, plan, data, execution_date)
            batch = create_payout(
                configuration=configuration,
                period_start=data["period_start"],
                period_end=end,
                debtor_name=data["debtor_name"],
                debtor_iban=data["debtor_iban"],
                debtor_bic=data["debtor_bic"],
                execution_date=execution_date,
                actor=request.user,
                now=now,
            )
            return redirect("billing:payout", pk=batch.pk)
        except PayoutError as error:
            _add_error(form, error)
    standing = preview(configuration=configuration, period_end=dt.date.max)
    return render(
        request,
        "billing/payouts.html",
        {
            "configuration": configuration,
            "form": form,
            "minimum_form": minimum_form,
            "report_form": BankReportForm(),
            "batches": configuration.payout_batches.all(),
            "reports": configuration.bank_reports.all()[:20],
            "preview": plan,
            "standing": standing,
        },
    )


def _confirm_create(
    request: HttpRequest,
    configuration: Configuration,
    plan: Any,
    data: dict[str, Any],
    execution_date: dt.date,
) -> HttpResponse:
    start, end = formatting.month(data["period_start"]), formatting.month(data["period_end"])
    period = start if start == end else f"{start} – {end}"
    consequences = [
        _(
            "A SEPA file (pain.001) paying %(count)s members a total of %(total)s EUR for "
            "%(period)s will be prepared, to be executed on %(date)s from the account %(iban)s."
        )
        % {
            "count": len(plan.to_pay),
            "total": plan.total_eur,
            "period": period,
            "date": formatting.day(execution_date),
            "iban": mask_iban(data["debtor_iban"]),
        },
        _(
            "Its lines count as paid; once its file is downloaded it can only be voided, "
            "with a reason, and a new file gets new identifiers."
        ),
    ]
    carried = [m for m in plan.members if m.problem]
    if carried:
        consequences.append(
            _(
                "%(count)s members are not paid now (below the minimum, owing, or no "
                "IBAN): %(names)s."
            )
            % {
                "count": len(carried),
                "names": "; ".join(f"{m.name}: {m.problem}" for m in carried),
            }
        )
    for held in plan.held_months:
        consequences.append(
            _("%(month)s is not paid: %(reason)s.")
            % {"month": formatting.month(held.month), "reason": held.reason}
        )
    return confirmation_page(
        request,
        title=_("Prepare the payout of %(total)s EUR to %(count)s members for %(period)s?")
        % {"total": plan.total_eur, "count": len(plan.to_pay), "period": period},
        consequences=consequences,
        action_label=_("Prepare the SEPA file"),
        cancel_url=reverse("billing:payouts", args=[configuration.pk]),
    )


@object_permission("settlement.manage_payouts", PayoutBatch)
def payout_detail(request: HttpRequest, batch: PayoutBatch) -> HttpResponse:
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    sent_form = SentForm(
        request.POST if action == "sent" else None, initial={"sent_date": timezone.localdate(now)}
    )
    void_form = VoidForm(request.POST if action == "void" else None)
    outcome_form = OutcomeForm(request.POST if action == "outcome" else None)
    here = reverse("billing:payout", args=[batch.pk])
    try:
        if action == "sent" and sent_form.is_valid():
            record_sent(
                batch=batch,
                sent_date=sent_form.cleaned_data["sent_date"],
                actor=request.user,
                now=now,
            )
            return redirect(here)
        if action == "void" and void_form.is_valid():
            if not is_confirmed(request):
                return _confirm_void(request, batch, void_form.cleaned_data["reason"], here)
            void_payout(
                batch=batch, reason=void_form.cleaned_data["reason"], actor=request.user, now=now
            )
            return redirect(here)
        if action == "outcome" and outcome_form.is_valid():
            data = outcome_form.cleaned_data
            item = get_object_or_404(batch.items, pk=data["item"])
            if data["outcome"] == PayoutItemStatus.REJECTED and not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Record the transfer to %(name)s as rejected?") % {"name": item.name},
                    consequences=[
                        _(
                            "The %(amount)s EUR of this transfer become payable again and go "
                            "into the next payout, with a new EndToEndId; this cannot be undone."
                        )
                        % {"amount": item.amount_eur}
                    ],
                    action_label=_("Record the rejection"),
                    cancel_url=here,
                )
            record_outcome(
                item=item,
                outcome=data["outcome"],
                reason_code=data["reason_code"],
                reason=data["reason"],
                actor=request.user,
                now=now,
            )
            return redirect(here)
    except PayoutError as error:
        form = {"sent": sent_form, "void": void_form}.get(action, outcome_form)
        _add_error(form, error)
    return render(
        request,
        "billing/payout.html",
        {
            "batch": batch,
            "items": batch.items.all(),
            "sent_form": sent_form,
            "void_form": void_form,
            "outcome_form": outcome_form,
        },
    )


def _confirm_void(request: HttpRequest, batch: PayoutBatch, reason: str, here: str) -> HttpResponse:
    consequences = [
        _(
            "The batch %(message_id)s (%(count)s transfers, %(total)s EUR) will be voided: its "
            "file must not be sent, and if the bank has it already, ask the bank to cancel it."
        )
        % {
            "message_id": batch.message_id,
            "count": batch.items.count(),
            "total": batch.total_eur,
        },
        _(
            "Its lines become payable again; a new file will carry a new message id and "
            "new EndToEndIds."
        ),
        _("Reason recorded in the audit log: %(reason)s") % {"reason": reason},
    ]
    return confirmation_page(
        request,
        title=_("Void the payout batch %(message_id)s?") % {"message_id": batch.message_id},
        consequences=consequences,
        action_label=_("Void the batch"),
        cancel_url=here,
    )


@object_permission("settlement.manage_payouts", PayoutBatch)
def payout_xml(request: HttpRequest, batch: PayoutBatch) -> HttpResponse:
    stem = f"pain001-{batch.period_start:%Y%m}-{batch.file_token}"
    try:
        content = payout_file(batch=batch, actor=request.user, now=timezone.now())
    except PayoutError as error:
        messages.error(request, str(error))
        return redirect("billing:payout", pk=batch.pk)
    return attachment_response(content, filename_stem=stem, content_type="application/xml")
