"""Collections pages: requests, mandates, batches and bank reports for managers; a member's own.

Each view parses its input, calls one service (the same the API calls) and renders; the
clock is read here. Asking every member for a fee, preparing a direct-debit file, voiding
or re-issuing one and revoking a mandate are confirmed first (cer/core/confirm.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.collections import batches as batch_services
from cer.collections import mandates as mandate_services
from cer.collections import requests as request_services
from cer.collections.errors import CollectionError
from cer.collections.forms import (
    BatchForm,
    FeeForm,
    IbanForm,
    MandateForm,
    OwedForm,
    ReasonForm,
    ReissueForm,
    ReportForm,
    RequestForm,
    SettingsForm,
)
from cer.collections.models import (
    COLLECTABLE_STATES,
    CollectionBatch,
    CollectionReport,
    Mandate,
    PaymentRequest,
)
from cer.collections.pagopa import services as pagopa
from cer.collections.reports import import_report
from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import login_only, object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response
from cer.members.models import Member

MANAGE = "collections.manage"


def _add_error(form: forms.Form, error: CollectionError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


def _member_choices(community: Community) -> list[tuple[int, str]]:
    members = Member.objects.filter(memberships__community=community).distinct()
    return [(m.pk, m.display_name) for m in sorted(members, key=lambda m: m.display_name)]


def _member(community: Community, pk: int) -> Member:
    member = Member.objects.filter(pk=pk, memberships__community=community).first()
    if member is None:
        raise CollectionError(_("no such member in this community"), field="member")
    return member


@object_permission(MANAGE, Community)
def requests_page(request: HttpRequest, community: Community) -> HttpResponse:
    """A community's payment requests; one request, a fee for all, balances owed, settings."""
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    data = request.POST if request.method == "POST" else None
    single = RequestForm(data if action == "request" else None, prefix="one")
    fee = FeeForm(data if action == "fee" else None, prefix="fee")
    owed = OwedForm(data if action == "owed" else None, prefix="owed")
    setup = mandate_services.settings_of(community)
    settings_form = SettingsForm(
        data if action == "settings" else None,
        prefix="settings",
        initial={
            "creditor_id": setup.creditor_id,
            "creditor_name": setup.creditor_name or community.name[:70],
            "creditor_iban": setup.creditor_iban,
            "creditor_bic": setup.creditor_bic,
            "prenotification_days": setup.prenotification_days,
            "pagopa_enabled": setup.pagopa_enabled,
            "pagopa_organisation_fiscal_code": setup.pagopa_organisation_fiscal_code,
            "pagopa_iban": setup.pagopa_iban,
        },
    )
    single.fields["member"].widget.choices = _member_choices(community)
    owed.fields["configuration"].widget.choices = [
        (c.pk, str(c)) for c in community.configurations.all()
    ]
    here = reverse("collections:requests", kwargs={"pk": community.pk})
    try:
        if action == "request" and single.is_valid():
            d = single.cleaned_data
            request_services.create_request(
                community=community,
                member=_member(community, d["member"]),
                kind=d["kind"],
                amount_eur=d["amount_eur"],
                due_date=d["due_date"],
                description=d["description"],
                actor=request.user,
                now=now,
            )
            messages.success(request, _("Request created."))
            return redirect(here)
        if action == "fee" and fee.is_valid():
            d = fee.cleaned_data
            plan = request_services.fee_plan(
                community=community,
                amount_eur=d["amount_eur"],
                series=d["series"],
                day=d["due_date"],
            )
            if not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Ask every active member for a fee"),
                    consequences=[
                        _(
                            "%(count)s members will each be asked for %(amount)s, "
                            "%(total)s in all, due on %(date)s (series %(series)s)."
                        )
                        % {
                            "count": len(plan.members),
                            "amount": formatting.eur(plan.amount_eur),
                            "total": formatting.eur(plan.total_eur),
                            "date": formatting.day(d["due_date"]),
                            "series": d["series"],
                        },
                        _(
                            "%(count)s members already have a request of this series "
                            "and are skipped."
                        )
                        % {"count": len(plan.already)},
                    ],
                    action_label=_("Create the requests"),
                    cancel_url=here,
                    danger=False,
                )
            created = request_services.create_fee_for_all(
                community=community,
                kind=d["kind"],
                amount_eur=d["amount_eur"],
                due_date=d["due_date"],
                description=d["description"],
                series=d["series"],
                actor=request.user,
                now=now,
            )
            messages.success(request, _("%(count)s requests created.") % {"count": len(created)})
            return redirect(here)
        if action == "owed" and owed.is_valid():
            configuration = community.configurations.filter(
                pk=owed.cleaned_data["configuration"]
            ).first()
            if configuration is None:
                raise CollectionError(_("no such configuration"), field="configuration")
            created = request_services.create_balances_owed(
                configuration=configuration,
                due_date=owed.cleaned_data["due_date"],
                actor=request.user,
                now=now,
            )
            messages.success(request, _("%(count)s requests created.") % {"count": len(created)})
            return redirect(here)
        if action == "settings" and settings_form.is_valid():
            mandate_services.save_settings(
                community=community, actor=request.user, now=now, **settings_form.cleaned_data
            )
            messages.success(request, _("Collection settings saved."))
            return redirect(here)
    except CollectionError as error:
        form = {"request": single, "fee": fee, "owed": owed, "settings": settings_form}[action]
        _add_error(form, error)
    return render(
        request,
        "collections/requests.html",
        {
            "community": community,
            "requests": community.payment_requests.select_related("member")[:500],
            "single": single,
            "fee": fee,
            "owed": owed,
            "settings_form": settings_form,
            "setup": setup,
        },
    )


@object_permission(MANAGE, PaymentRequest)
def request_detail(request: HttpRequest, payment_request: PaymentRequest) -> HttpResponse:
    """One request: its debits, its pagoPA notices; cancel it or issue a pagoPA notice."""
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    cancel = ReasonForm(request.POST if action == "cancel" else None)
    here = reverse("collections:request", kwargs={"pk": payment_request.pk})
    try:
        if action == "cancel" and cancel.is_valid():
            request_services.cancel_request(
                request=payment_request,
                reason=cancel.cleaned_data["reason"],
                actor=request.user,
                now=now,
            )
            return redirect(here)
        if action == "pagopa":
            notice = pagopa.issue_notice(request=payment_request, actor=request.user, now=now)
            messages.success(
                request, _("pagoPA notice %(number)s published.") % {"number": notice.notice_number}
            )
            return redirect(here)
    except CollectionError as error:
        _add_error(cancel, error)
    return render(
        request,
        "collections/request.html",
        {
            "payment_request": payment_request,
            "items": payment_request.items.select_related("batch"),
            "notices": payment_request.pagopa_notices.all(),
            "cancel": cancel,
            "setup": mandate_services.settings_of(payment_request.community),
        },
    )


@object_permission(MANAGE, Community)
def mandates_page(request: HttpRequest, community: Community) -> HttpResponse:
    """A community's SEPA mandates and a form to record a signed one."""
    form = MandateForm(request.POST if request.method == "POST" else None)
    form.fields["member"].widget.choices = _member_choices(community)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            mandate = mandate_services.create_mandate(
                community=community,
                member=_member(community, d["member"]),
                signed_date=d["signed_date"],
                debtor_name=d["debtor_name"],
                iban=d["iban"],
                bic=d["bic"],
                actor=request.user,
                now=timezone.now(),
            )
            messages.success(
                request, _("Mandate %(reference)s recorded.") % {"reference": mandate.reference}
            )
            return redirect("collections:mandates", pk=community.pk)
        except CollectionError as error:
            _add_error(form, error)
    return render(
        request,
        "collections/mandates.html",
        {
            "community": community,
            "mandates": community.mandates.select_related("member"),
            "form": form,
        },
    )


@object_permission(MANAGE, Mandate)
def mandate_detail(request: HttpRequest, mandate: Mandate) -> HttpResponse:
    """One mandate: its collections; change its IBAN or revoke it."""
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    revoke = ReasonForm(request.POST if action == "revoke" else None, prefix="revoke")
    iban = IbanForm(request.POST if action == "iban" else None, prefix="iban")
    here = reverse("collections:mandate", kwargs={"pk": mandate.pk})
    try:
        if action == "revoke" and revoke.is_valid():
            if not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Revoke the mandate %(reference)s") % {"reference": mandate.reference},
                    consequences=[
                        _(
                            "No later batch will debit %(member)s under this mandate; "
                            "debits already in a file stand."
                        )
                        % {"member": mandate.member.display_name}
                    ],
                    action_label=_("Revoke"),
                    cancel_url=here,
                )
            mandate_services.revoke_mandate(
                mandate=mandate, reason=revoke.cleaned_data["reason"], actor=request.user, now=now
            )
            return redirect(here)
        if action == "iban" and iban.is_valid():
            mandate_services.change_iban(
                mandate=mandate,
                iban=iban.cleaned_data["iban"],
                bic=iban.cleaned_data["bic"],
                actor=request.user,
                now=now,
            )
            messages.success(request, _("IBAN changed: the next collection is sent as first."))
            return redirect(here)
    except CollectionError as error:
        _add_error(revoke if action == "revoke" else iban, error)
    return render(
        request,
        "collections/mandate.html",
        {
            "mandate": mandate,
            "items": mandate.items.select_related("batch", "request"),
            "revoke": revoke,
            "iban": iban,
        },
    )


@object_permission(MANAGE, Community)
def batches_page(request: HttpRequest, community: Community) -> HttpResponse:
    """A community's direct-debit batches and a form to prepare one (confirmed)."""
    now = timezone.now()
    form = BatchForm(
        request.POST if request.method == "POST" else None,
        initial={"collection_date": batch_services.earliest_collection_date(community, now)},
    )
    form.fields["requests"].choices = [  # type: ignore[attr-defined]
        (r.pk, f"{r.reference} {r.member.display_name} {formatting.eur(r.amount_eur)}")
        for r in community.payment_requests.filter(state__in=COLLECTABLE_STATES).select_related(
            "member"
        )
    ]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        ids = d["requests"] or None
        try:
            day = batch_services.check_collection_date(community, d["collection_date"], now)
            if not is_confirmed(request):
                planned = batch_services.plan(community=community, request_ids=ids, day=day)
                refused = [p for p in planned.debits if p.problem] if ids else []
                if refused:
                    raise CollectionError(
                        "; ".join(
                            f"{p.request.reference} ({p.request.member.display_name}): {p.problem}"
                            for p in refused
                        ),
                        field="requests",
                    )
                return confirmation_page(
                    request,
                    title=_("Prepare a direct-debit file"),
                    consequences=[
                        _(
                            "A SEPA direct-debit file (pain.008) collecting %(total)s from "
                            "%(count)s members on %(date)s will be prepared, and each of them "
                            "told by e-mail of the amount and the date."
                        )
                        % {
                            "total": formatting.eur(planned.total_eur),
                            "count": len(planned.ready),
                            "date": formatting.day(day),
                        },
                        *[
                            _("Not collected: %(who)s — %(why)s")
                            % {"who": p.request.member.display_name, "why": p.problem}
                            for p in planned.debits
                            if p.problem
                        ],
                    ],
                    action_label=_("Prepare the file"),
                    cancel_url=reverse("collections:batches", kwargs={"pk": community.pk}),
                )
            batch = batch_services.create_batch(
                community=community,
                collection_date=day,
                request_ids=ids,
                actor=request.user,
                now=now,
            )
            return redirect("collections:batch", pk=batch.pk)
        except CollectionError as error:
            _add_error(form, error)
    return render(
        request,
        "collections/batches.html",
        {
            "community": community,
            "form": form,
            "batches": community.collection_batches.all(),
        },
    )


@object_permission(MANAGE, CollectionBatch)
def batch_detail(request: HttpRequest, batch: CollectionBatch) -> HttpResponse:
    """One batch: its debits and their outcome; void or re-issue it (confirmed)."""
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    void = ReasonForm(request.POST if action == "void" else None, prefix="void")
    reissue = ReissueForm(request.POST if action == "reissue" else None, prefix="reissue")
    here = reverse("collections:batch", kwargs={"pk": batch.pk})
    summary = _("%(count)s debits, %(total)s, to be collected on %(date)s (file %(id)s)") % {
        "count": batch.count,
        "total": formatting.eur(batch.total_eur),
        "date": formatting.day(batch.collection_date),
        "id": batch.message_id,
    }
    try:
        if action == "void" and void.is_valid():
            if not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Void the batch"),
                    consequences=[
                        _("The batch of %(summary)s is voided: its file must not be sent.")
                        % {"summary": summary},
                        _("Its requests open again, to be collected by another batch."),
                    ],
                    action_label=_("Void"),
                    cancel_url=here,
                )
            batch_services.void_batch(
                batch=batch, reason=void.cleaned_data["reason"], actor=request.user, now=now
            )
            return redirect(here)
        if action == "reissue" and reissue.is_valid():
            day = batch_services.check_collection_date(
                batch.community, reissue.cleaned_data["collection_date"], now
            )
            if not is_confirmed(request):
                return confirmation_page(
                    request,
                    title=_("Re-issue the batch"),
                    consequences=[
                        _(
                            "The batch of %(summary)s is voided and a new file of the same "
                            "%(count)s debits, %(total)s, to be collected on %(date)s, is "
                            "prepared with a new message id and new end-to-end ids."
                        )
                        % {
                            "summary": summary,
                            "count": batch.count,
                            "total": formatting.eur(batch.total_eur),
                            "date": formatting.day(day),
                        },
                    ],
                    action_label=_("Re-issue"),
                    cancel_url=here,
                )
            new = batch_services.reissue_batch(
                batch=batch,
                reason=reissue.cleaned_data["reason"],
                collection_date=day,
                actor=request.user,
                now=now,
            )
            return redirect("collections:batch", pk=new.pk)
    except CollectionError as error:
        _add_error(void if action == "void" else reissue, error)
    return render(
        request,
        "collections/batch.html",
        {
            "batch": batch,
            "items": batch.items.select_related("request__member", "mandate"),
            "void": void,
            "reissue": reissue,
        },
    )


@object_permission(MANAGE, CollectionBatch)
def batch_xml(request: HttpRequest, batch: CollectionBatch) -> HttpResponse:
    """The batch's pain.008 file, checked again; the first download issues it."""
    try:
        content = batch_services.batch_file(batch=batch, actor=request.user, now=timezone.now())
    except CollectionError as error:
        messages.error(
            request,
            _("The file is not offered: %(error)s") % {"error": error}
            + (f" ({error.field})" if error.field else ""),
        )
        return redirect("collections:batch", pk=batch.pk)
    stem = f"pain008-{batch.collection_date:%Y%m%d}-{batch.file_token}"
    return attachment_response(content, filename_stem=stem, content_type="application/xml")


@object_permission(MANAGE, Community)
def reports_page(request: HttpRequest, community: Community) -> HttpResponse:
    """Upload a bank report (pain.002, camt.054) on direct debits; the reports imported."""
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = import_report(
                community=community,
                file_name=upload.name,
                content=upload.read(),
                actor=request.user,
                now=timezone.now(),
            )
            if result.already:
                messages.info(request, _("This file was imported before; nothing changed."))
            return redirect("collections:report", pk=result.report.pk)
        except CollectionError as error:
            _add_error(form, error)
    return render(
        request,
        "collections/reports.html",
        {"community": community, "form": form, "reports": community.collection_reports.all()},
    )


@object_permission(MANAGE, CollectionReport)
def report_detail(request: HttpRequest, report: CollectionReport) -> HttpResponse:
    """What a bank report matched and what it refused."""
    return render(request, "collections/report.html", {"report": report})


@login_only
def mine(request: HttpRequest) -> HttpResponse:
    """A member's own payment requests and mandates, in every community."""
    # The reverse one-to-one: None for a user without a member record.
    member = getattr(request.user, "member", None)
    context: dict[str, Any] = {"requests": [], "mandates": []}
    if member is not None:
        context = {
            "requests": member.payment_requests.select_related("community").prefetch_related(
                "pagopa_notices"
            ),
            "mandates": member.mandates.select_related("community"),
        }
    return render(request, "collections/mine.html", context)
