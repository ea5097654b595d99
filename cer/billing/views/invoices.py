"""The invoice pages of a community's managers: list, new draft, settings, issue, files."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
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
from cer.billing.totals import compute_totals
from cer.communities.models import Community
from cer.core.access import object_permission
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
