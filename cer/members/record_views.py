"""The managers' member records: the list with search, filters and export; invitations.

One member's page draws their statements, which live on a higher floor: it is
cer.dashboards.member_record. Every write here goes through a service the API can call.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.table_export import EXPORT_FORMATS, export_response
from cer.members import invitations, records
from cer.members.models import (
    ApplicationStatus,
    Invitation,
    MemberCategory,
    MembershipApplication,
    MembershipRole,
)


@object_permission("communities.manage_community", Community)
@require_safe
def member_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's members, filtered by the query string; `?export=csv|xlsx` downloads."""
    today = timezone.localdate()
    filters = records.MemberFilters.from_query(request.GET, community=community)
    rows = records.member_rows(community=community, filters=filters, today=today)
    kind = request.GET.get("export", "")
    if kind in EXPORT_FORMATS:
        return export_response(
            kind=kind,
            title=_("Members"),
            filename_stem=f"members-{community.pk}-{today:%Y%m%d}",
            header=records.export_header(),
            csv_rows=records.export_rows(rows, for_people=True),
            xlsx_rows=records.export_rows(rows, for_people=False),
        )
    page = Paginator(rows, records.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    context = {
        "community": community,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "categories": MemberCategory.choices,
        "roles": MembershipRole.choices,
        "statuses": records.STATUS_CHOICES,
        "sorts": records.SORT_CHOICES,
        "configurations": community.configurations.order_by("name"),
        "applications": MembershipApplication.objects.filter(
            community=community, status=ApplicationStatus.SUBMITTED
        )
        .select_related("member")
        .order_by("submitted_at"),
    }
    return render(request, "members/member_list.html", context)


def _link_for(request: HttpRequest) -> Callable[[str], str]:
    return lambda token: request.build_absolute_uri(reverse("members:join", args=[token]))


@object_permission("communities.manage_community", Invitation)
@require_POST
def invitation_resend(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    try:
        invitations.resend_invitation(
            invitation=invitation,
            actor=request.user,
            now=timezone.now(),
            url_for_token=_link_for(request),
        )
    except invitations.InvitationClosed:
        messages.error(
            request,
            _("This invitation was already used or revoked: send a new one instead."),
        )
    else:
        messages.success(
            request,
            _("A new link was sent to %(email)s; the previous link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("members:invite", invitation.community_id)


@object_permission("communities.manage_community", Invitation)
@require_POST
def invitation_revoke(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    try:
        invitations.revoke_invitation(invitation=invitation, actor=request.user, now=timezone.now())
    except invitations.InvitationClosed:
        messages.error(request, _("This invitation was already used or revoked."))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s was revoked: its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("members:invite", invitation.community_id)
