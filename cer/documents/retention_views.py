"""Retention pages for a community's managers: the periods per type, and the review list.

The review list shows the documents past their retention period; each can be kept until a
date (with a reason) or deleted after a confirmation that names it. Both are audited
(cer.documents.retention).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.documents import retention
from cer.documents.forms import KeepForm, RetentionForm
from cer.documents.models import Document


@require_http_methods(["GET", "POST"])
@object_permission("communities.manage_community", Community)
def periods(request: HttpRequest, community: Community) -> HttpResponse:
    """The retention period of each document type, editable."""
    form = RetentionForm(request.POST or None, years=retention.periods(community))
    if request.method == "POST" and form.is_valid():
        retention.set_periods(
            community=community, years=form.years(), actor=request.user, now=timezone.now()
        )
        messages.success(request, _("The retention periods were saved."))
        return redirect("documents:retention", community.pk)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"community": community, "form": form, "defaults": retention.DEFAULT_YEARS}
    return render(request, "documents/retention.html", context, status=status)


@object_permission("communities.manage_community", Community)
def review(request: HttpRequest, community: Community) -> HttpResponse:
    """The documents past their retention period, each with "keep until" and "delete"."""
    return _review_page(request, community)


def _review_page(
    request: HttpRequest,
    community: Community,
    *,
    failed: tuple[int, KeepForm] | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    rows = [
        (due, failed[1] if failed and failed[0] == due.document.pk else _keep_form(due.document))
        for due in retention.due_for_review(community=community, today=today)
    ]
    context = {"community": community, "rows": rows, "today": today}
    return render(request, "documents/review.html", context, status=400 if failed else 200)


def _keep_form(document: Document, data: Any = None) -> KeepForm:
    # One form per listed document: the prefix keeps their field ids apart.
    return KeepForm(data, prefix=f"keep{document.pk}")


@object_permission("communities.manage_community", Document)
@require_POST
def keep(request: HttpRequest, document: Document) -> HttpResponse:
    """Keep a document past its retention until a date, for a reason."""
    form = _keep_form(document, request.POST)
    if form.is_valid():
        try:
            retention.keep(
                document=document,
                until=form.cleaned_data["keep_until"],
                reason=form.cleaned_data["keep_reason"],
                actor=request.user,
                now=timezone.now(),
                today=timezone.localdate(),
            )
        except retention.RetentionRefused as refusal:
            form.add_error(refusal.field, refusal.message)
        else:
            messages.success(
                request,
                _("“%(title)s” is kept until %(date)s.")
                % {
                    "title": document.title,
                    "date": formatting.day(form.cleaned_data["keep_until"]),
                },
            )
            return redirect("documents:review", document.community_id)
    return _review_page(request, document.community, failed=(document.pk, form))


@object_permission("communities.manage_community", Document)
@require_POST
def delete(request: HttpRequest, document: Document) -> HttpResponse:
    """Delete a document past retention, after a confirmation naming it."""
    versions = document.versions.count()
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Delete “%(title)s”") % {"title": document.title},
            consequences=[
                _(
                    "The document “%(title)s” (%(kind)s of %(date)s) and its %(count)s "
                    "version(s), with their files and signature checks, will be deleted "
                    "for good."
                )
                % {
                    "title": document.title,
                    "kind": document.get_kind_display(),
                    "date": formatting.day(document.document_date),
                    "count": versions,
                },
                _("The audit log keeps a record of the deletion, not the document."),
            ],
            action_label=_("Delete the document"),
            cancel_url=reverse("documents:review", args=[document.community_id]),
        )
    community_id, title = document.community_id, document.title
    try:
        retention.delete_document(document=document, actor=request.user, now=timezone.now())
    except retention.RetentionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("“%(title)s” was deleted.") % {"title": title})
    return redirect("documents:review", community_id)
