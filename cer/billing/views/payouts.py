"""Payout pages: a configuration's SEPA batches, one batch, its pain.001 file.

Each view parses its input, calls one service and renders; the clock is read here.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from cer.billing.forms import PayoutForm
from cer.billing.models import PayoutBatch
from cer.billing.payouts import PayoutError, cancel_payout, create_payout, payable, payout_file
from cer.communities.models import Configuration
from cer.core.access import object_permission
from cer.core.downloads import attachment_response


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
            return redirect("billing:payout", pk=batch.pk)
        except PayoutError as error:
            form.add_error(None, str(error))
            preview = payable(configuration=configuration, period_start=start, period_end=end)
    return render(
        request,
        "billing/payouts.html",
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
        return redirect("billing:payout", pk=batch.pk)
    return render(request, "billing/payout.html", {"batch": batch, "items": batch.items.all()})


@object_permission("settlement.manage_payouts", PayoutBatch)
def payout_xml(request: HttpRequest, batch: PayoutBatch) -> HttpResponse:
    stem = f"pain001-{batch.period_start:%Y%m}-{batch.file_token}"
    content = payout_file(batch=batch, actor=request.user, now=timezone.now())
    return attachment_response(content, filename_stem=stem, content_type="application/xml")
