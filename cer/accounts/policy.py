"""Who must use a second factor, and what a session's privileges are.

Anyone who can move money or change other people's data must: platform staff and
superusers, and the referenti and administrators of a community (a current
membership with one of those roles). A plain member may add one of their own accord.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django_otp import devices_for_user

MANAGING_ROLES = ("REFERENTE", "ADMINISTRATOR")
_ROLES_ATTRIBUTE = "_accounts_current_roles"


def current_roles(user: Any) -> list[tuple[int, str]]:
    """(community id, role) of the user's current memberships, sorted; once per request."""
    from cer.members.models import Membership

    cached = getattr(user, _ROLES_ATTRIBUTE, None)
    if cached is None:
        cached = sorted(
            Membership.objects.active_on(timezone.localdate())
            .filter(member__user_id=user.pk)
            .values_list("community_id", "role")
        )
        setattr(user, _ROLES_ATTRIBUTE, cached)
    return cached


def second_factor_required(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    if not getattr(settings, "SECOND_FACTOR_REQUIRED_FOR_MANAGERS", True):
        return False
    return any(role in MANAGING_ROLES for _community, role in current_roles(user))


def has_second_factor(user: Any) -> bool:
    """Whether the user has a confirmed authenticator app (recovery codes alone do not count)."""
    return any(
        device.persistent_id.startswith("otp_totp.")
        for device in devices_for_user(user, confirmed=True)
    )


def privilege_fingerprint(user: Any) -> str:
    """A short text that changes whenever the user's privileges change (roles, staff)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    roles = ",".join(f"{community}:{role}" for community, role in current_roles(user))
    return f"{int(user.is_staff)}{int(user.is_superuser)}|{roles}"
