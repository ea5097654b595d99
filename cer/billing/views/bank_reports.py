"""Bank report pages: import a pain.002 or camt.054 file, read what it matched.

The view parses the upload, calls payout_lifecycle.import_bank_report and shows the result:
matched transfers, lines that matched nothing, a refused report. The clock is read here.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.billing.bank_reports import MAX_REPORT_BYTES, BankReportError
from cer.billing.models import BankReport
from cer.billing.payout_forms import BankReportForm
from cer.billing.payout_lifecycle import import_bank_report
from cer.communities.models import Configuration
from cer.core.access import object_permission


@object_permission("settlement.manage_payouts", Configuration)
def bank_report_import(request: HttpRequest, configuration: Configuration) -> HttpResponse:
    form = BankReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["report"]
        if upload.size > MAX_REPORT_BYTES:
            form.add_error("report", _("The file is larger than 5 MB."))
        else:
            try:
                outcome = import_bank_report(
                    configuration=configuration,
                    file_name=upload.name,
                    content=upload.read(),
                    actor=request.user,
                    now=timezone.now(),
                )
            except BankReportError as error:
                form.add_error("report", str(error))
            else:
                if outcome.duplicate:
                    messages.info(
                        request,
                        _("This file was imported already on %(at)s: nothing changed.")
                        % {
                            "at": f"{timezone.localtime(outcome.report.imported_at):%Y-%m-%d %H:%M}"
                        },
                    )
                return redirect("billing:bank_report", pk=outcome.report.pk)
    return render(
        request,
        "billing/bank_report_import.html",
        {"configuration": configuration, "form": form},
    )


@object_permission("settlement.manage_payouts", BankReport)
def bank_report_detail(request: HttpRequest, report: BankReport) -> HttpResponse:
    return render(
        request,
        "billing/bank_report.html",
        {"report": report, "configuration": report.configuration, "result": report.result},
    )
