"""Who may see and manage a community (the full rule set grows with the web application)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from cer.communities.models import Community
from cer.communities.permissions import BACK_OFFICE_GROUP
from cer.members.models import Membership


def is_platform_staff(user: Any) -> bool:
    """Superusers, staff and the back office see every community."""
    return bool(
        user.is_authenticated
        and (
            user.is_superuser
            or user.is_staff
            or user.groups.filter(name=BACK_OFFICE_GROUP).exists()
        )
    )


def communities_visible_to(user: Any, *, today: dt.date) -> QuerySet[Community]:
    """Return the communities `user` belongs to on `today`, or all of them for staff."""
    if not user.is_authenticated:
        return Community.objects.none()
    if is_platform_staff(user):
        return Community.objects.all()
    return Community.objects.filter(
        memberships__in=Membership.objects.active_on(today).filter(member__user=user)
    ).distinct()


def role_in(user: Any, community: Community, *, today: dt.date) -> str | None:
    """Return the user's role code in `community` on `today`, or None for an outsider."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.active_on(today)
        .filter(member__user=user, community=community)
        .order_by("role")
        .first()
    )
    return membership.role if membership else None
