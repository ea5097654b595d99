"""The invoice pages of a community's managers: list, new draft, settings, issue, files."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.billing import pdf
from cer.billing.forms import CustomerForm, InvoicingProfileForm, LineFormSet
from cer.billing.invoices import (
    InvoiceError,
    create_draft,
    credit_note_for,
    invoice_lines,
    issue_and_send,
    save_invoicing_profile,
)
from cer.billing.models import Invoice, InvoiceStatus, InvoicingProfile
from cer.billing.resend import record_rejection, resend_invoice
from cer.billing.totals import compute_totals
from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response

MANAGE = "communities.manage_community"


@object_permission(MANAGE, Community)
def invoice_list(request: HttpRequest, community: Community) -> HttpResponse:
    invoices = Invoice.objects.filter(community=community).order_by("status", "-year", "-number")
    return render(
        request, "billing/invoice_list.html", {"community": community, "invoices": invoices}
    )


@object_permission(MANAGE, Community)
def invoicing_settings(request: HttpRequest, community: Community) -> HttpResponse:
    profile = InvoicingProfile.objects.filter(community=community).first() or InvoicingProfile(
        community=community
    )
    form = InvoicingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        save_invoicing_profile(
            profile=form.save(commit=False), actor=request.user, now=timezone.now()
        )
        messages.success(request, _("Invoicing settings saved."))
        return redirect("billing:invoice_list", pk=community.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "billing/invoicing_settings.html",
        {"community": community, "form": form},
        status=status,
    )


@object_permission(MANAGE, Community)
def invoice_create(request: HttpRequest, community: Community) -> HttpResponse:
    data: QueryDict | None = request.POST.copy() if request.method == "POST" else None
    if data is not None and data.get("action") == "add_row":
        rows = data.get("line-TOTAL_FORMS") or "1"
        data["line-TOTAL_FORMS"] = str(int(rows) + 1 if rows.isdigit() else 1)
    customer_form = CustomerForm(data, community=community, prefix="customer")
    formset = LineFormSet(data, prefix="line")
    status = 200
    if request.method == "POST" and request.POST.get("action") != "add_row":
        if customer_form.is_valid() and formset.is_valid():
            lines = [form.as_line() for form in formset.forms if form.cleaned_data]
            try:
                invoice = create_draft(
                    community=community,
                    customer=customer_form.customer(),
                    lines=lines,
                    actor=request.user,
                    now=timezone.now(),
                )
            except InvoiceError as error:
                customer_form.add_error(None, error.message)
                for name, problems in error.fields.items():
                    if name in customer_form.fields:
                        customer_form.add_error(name, problems)
            else:
                messages.success(request, _("Draft invoice saved."))
                return redirect("billing:invoice_detail", pk=invoice.pk)
        status = 400
    return render(
        request,
        "billing/invoice_form.html",
        {"community": community, "customer_form": customer_form, "formset": formset},
        status=status,
    )


@object_permission(MANAGE, Invoice)
def invoice_detail(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    totals = compute_totals(invoice_lines(invoice))
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "community": invoice.community,
            "lines": invoice.lines.all(),
            "summary": totals.summary,
            "can_credit": invoice.status == InvoiceStatus.ISSUED
            and invoice.document_type == "TD01"
            and not invoice.credit_notes.exists(),
            "transmissions": invoice.transmissions.order_by("created_at", "pk"),
        },
    )


@object_permission(MANAGE, Invoice)
@require_POST
def invoice_issue(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    try:
        issued = issue_and_send(invoice=invoice, actor=request.user, now=timezone.now())
    except InvoiceError as error:
        problems = [error.message, *(p for ps in error.fields.values() for p in ps)]
        messages.error(request, " ".join(problems))
    else:
        messages.success(
            request, _("Invoice %(number)s issued.") % {"number": issued.display_number}
        )
    return redirect("billing:invoice_detail", pk=invoice.pk)


@object_permission(MANAGE, Invoice)
@require_POST
def invoice_credit(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    try:
        note = credit_note_for(invoice=invoice, actor=request.user, now=timezone.now())
    except InvoiceError as error:
        messages.error(request, error.message)
        return redirect("billing:invoice_detail", pk=invoice.pk)
    messages.success(request, _("Draft credit note saved: issue it to cancel the invoice."))
    return redirect("billing:invoice_detail", pk=note.pk)


@object_permission(MANAGE, Invoice)
def invoice_xml(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    if not invoice.xml:
        messages.error(request, _("A draft has no FatturaPA file yet: issue it first."))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return attachment_response(
        invoice.xml.encode("utf-8"),
        filename_stem=invoice.file_name.rsplit(".", 1)[0],
        content_type="application/xml",
    )


@object_permission(MANAGE, Invoice)
def invoice_pdf(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    content = pdf.invoice_pdf(invoice, compute_totals(invoice_lines(invoice)))
    label = invoice.display_number.replace("/", "-") or f"draft-{invoice.pk}"
    return attachment_response(
        content,
        filename_stem=f"invoice-{label}-{invoice.file_token}",
        content_type="application/pdf",
    )


@object_permission(MANAGE, Invoice)
@require_POST
def invoice_rejected(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """Record SdI's rejection notice (NS) of the invoice's current file."""
    notice = request.FILES.get("notice")
    if notice is None:
        messages.error(request, _("Choose the rejection notice (NS) to upload."))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    try:
        sent = record_rejection(
            invoice=invoice, notice=notice.read(), actor=request.user, now=timezone.now()
        )
    except InvoiceError as error:
        problems = [error.message, *(p for ps in error.fields.values() for p in ps)]
        messages.error(request, " ".join(problems))
    else:
        messages.warning(
            request,
            _("SdI rejected %(file)s: correct the invoice and send it again.")
            % {"file": sent.file_name},
        )
    return redirect("billing:invoice_detail", pk=invoice.pk)


@object_permission(MANAGE, Invoice)
def invoice_resend(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    """Correct a rejected invoice's customer data and send it again, same number and date."""
    if invoice.status != InvoiceStatus.REJECTED:
        messages.error(request, _("Only an invoice whose file SdI rejected can be sent again."))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    form = CustomerForm(
        request.POST or None, instance=invoice, community=invoice.community, prefix="customer"
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Send invoice %(number)s again") % {"number": invoice.display_number},
                    consequences=[
                        _(
                            "A corrected FatturaPA file of invoice %(number)s dated %(date)s, "
                            "for %(total)s EUR, will be built under a new file name and sent "
                            "to the outbox; the rejected file %(file)s stays on record."
                        )
                        % {
                            "number": invoice.display_number,
                            "date": invoice.issue_date,
                            "total": invoice.total_eur,
                            "file": invoice.file_name,
                        }
                    ],
                    action_label=_("Send the corrected file"),
                    cancel_url=reverse("billing:invoice_detail", kwargs={"pk": invoice.pk}),
                )
            try:
                sent = resend_invoice(
                    invoice=invoice,
                    customer=form.customer(),
                    actor=request.user,
                    now=timezone.now(),
                )
            except InvoiceError as error:
                form.add_error(None, error.message)
                for name, problems in error.fields.items():
                    if name in form.fields:
                        form.add_error(name, problems)
            else:
                messages.success(
                    request,
                    _("Invoice %(number)s sent again as %(file)s.")
                    % {"number": sent.display_number, "file": sent.file_name},
                )
                return redirect("billing:invoice_detail", pk=invoice.pk)
        status = 400
    return render(
        request,
        "billing/invoice_resend.html",
        {"invoice": invoice, "community": invoice.community, "form": form},
        status=status,
    )
