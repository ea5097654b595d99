"""One member's record for a community's managers: everything about them in one page.

The page is keyed by a membership, so it shows one community's view of the person: the
person's periods in it, their points and plants there, the statements and invoices that
community issued them, their consents, and what was recorded about them there. Another
community's points, money and history stay out. It lives on the read-side floor because
it draws statements and invoices (money); the edits it links to are the nouns' own pages.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from cer.audit.labels import action_label
from cer.audit.models import AuditEntry
from cer.billing.models import Invoice, Statement
from cer.communications.models import CommunicationRecipient
from cer.core.access import object_permission
from cer.members.changes import mask_iban
from cer.members.models import Membership, MembershipApplication
from cer.plants.models import ConnectionPoint, Plant
from cer.privacy.models import Consent

HISTORY_SIZE = 50


@object_permission("members.change_membership", Membership)
@require_safe
def member_record(request: HttpRequest, membership: Membership) -> HttpResponse:
    member = membership.member
    community = membership.community
    today = timezone.localdate()
    memberships = list(
        Membership.objects.filter(member=member, community=community).order_by("valid_from")
    )
    points = list(
        ConnectionPoint.objects.filter(holder=member, configuration__community=community)
        .select_related("configuration")
        .prefetch_related("pod_changes")
    )
    plants = list(
        Plant.objects.filter(owner=member, connection_point__configuration__community=community)
        .select_related("connection_point")
        .order_by("name", "pk")
    )
    statements = (
        Statement.objects.filter(member=member, configuration__community=community)
        .select_related("configuration")
        .order_by("-month", "configuration__name", "-version")
    )
    invoices = Invoice.objects.filter(member=member, community=community).order_by("-pk")
    consents = (
        Consent.objects.filter(user_id=member.user_id).order_by("purpose", "-given_at")
        if member.user_id
        else Consent.objects.none()
    )
    applications = MembershipApplication.objects.filter(member=member, community=community)
    context = {
        "membership": membership,
        "member": member,
        "community": community,
        "today": today,
        "memberships": [(m, mask_iban(m.iban)) for m in memberships],
        "points": points,
        "plants": plants,
        "statements": statements,
        "invoices": invoices,
        "consents": consents,
        "applications": applications,
        "communications": CommunicationRecipient.objects.filter(
            member=member, communication__community=community
        )
        .select_related("communication")
        .order_by("-communication__sent_at", "-pk"),
        "history": _history(
            community_id=community.pk,
            targets={
                "members.member": [member.pk],
                "members.membership": [m.pk for m in memberships],
                "plants.connectionpoint": [p.pk for p in points],
                "plants.plant": [p.pk for p in plants],
                "members.membershipapplication": [a.pk for a in applications],
            },
        ),
    }
    return render(request, "members/member_record.html", context)


def _history(*, community_id: int, targets: dict[str, list[int]]) -> list[dict[str, object]]:
    """Return the community's audit entries about the given objects, newest first."""
    about = Q(pk__in=[])
    for kind, ids in targets.items():
        if ids:
            about |= Q(target_type=kind, target_id__in=[str(pk) for pk in ids])
    entries = AuditEntry.objects.filter(about, community_id=community_id).order_by("-at", "-pk")
    return [
        {"entry": entry, "action": action_label(entry.code)} for entry in entries[:HISTORY_SIZE]
    ]
