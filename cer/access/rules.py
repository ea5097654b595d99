"""Object-level permissions, as predicates over a user and an object (django-rules).

Every view and API endpoint asks `user.has_perm(code, obj)`; the rules below are the
single place that says who may do what. An object "belongs" to a community through
`community_of`. Each rule has a queryset twin in cer/access/visibility.py.
"""

from __future__ import annotations

from typing import Any

import rules
from django.utils import timezone

from cer.communities.models import Community, Configuration
from cer.members.models import Member, Membership, MembershipRole

BACK_OFFICE_GROUP = "back-office"
MANAGER_ROLES = (MembershipRole.REFERENTE, MembershipRole.ADMINISTRATOR)


def community_of(obj: Any) -> Community | None:
    """Return the community an object belongs to, following the usual relations."""
    if isinstance(obj, Community):
        return obj
    if isinstance(obj, Configuration):
        return obj.community
    for path in ("community", "configuration", "connection_point"):
        related = getattr(obj, path, None)
        if related is not None:
            return community_of(related)
    return None


def _active_roles(user: Any, community: Community) -> set[str]:
    if not user.is_authenticated:
        return set()
    cache = getattr(user, "_community_roles", None)
    if cache is None:
        cache = {}
        user._community_roles = cache
    if community.pk not in cache:
        cache[community.pk] = set(
            Membership.objects.active_on(timezone.localdate())
            .filter(member__user_id=user.pk, community_id=community.pk)
            .values_list("role", flat=True)
        )
    return cache[community.pk]


@rules.predicate
def is_staff_or_superuser(user: Any) -> bool:
    """True for Django's staff and superusers; the back office is not included."""
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff))


@rules.predicate
def is_back_office(user: Any) -> bool:
    """True for the platform's back office (a group), who see and check but do not manage."""
    return bool(user.is_authenticated and user.groups.filter(name=BACK_OFFICE_GROUP).exists())


# Staff, superusers and the back office see every community.
is_staff_or_back_office = is_staff_or_superuser | is_back_office


@rules.predicate
def is_member_of(user: Any, obj: Any) -> bool:
    community = community_of(obj)
    return community is not None and bool(_active_roles(user, community))


@rules.predicate
def is_manager_of(user: Any, obj: Any) -> bool:
    community = community_of(obj)
    return community is not None and bool(_active_roles(user, community) & set(MANAGER_ROLES))


@rules.predicate
def is_the_member(user: Any, member: Any) -> bool:
    """True when `member` (a Member, or an object with a holder/owner) is the user."""
    person = (
        member
        if isinstance(member, Member)
        else (getattr(member, "holder", None) or getattr(member, "owner", None))
    )
    return bool(user.is_authenticated and person is not None and person.user_id == user.pk)


@rules.predicate
def manages_a_community_of(user: Any, member: Any) -> bool:
    """True when the user manages a community the member currently belongs to."""
    if not (user.is_authenticated and isinstance(member, Member)):
        return False
    today = timezone.localdate()
    communities = Membership.objects.active_on(today).filter(member=member).values("community")
    return (
        Membership.objects.active_on(today)
        .filter(member__user_id=user.pk, community__in=communities, role__in=MANAGER_ROLES)
        .exists()
    )


@rules.predicate
def is_open_to_members(user: Any, obj: Any) -> bool:
    """True for documents every member may read (statute, regulation, minutes)."""
    from cer.documents.models import DocumentKind

    return getattr(obj, "kind", None) in DocumentKind.open_to_members()


rules.add_perm("communities.view_community", is_staff_or_back_office | is_member_of)
rules.add_perm("communities.manage_community", is_staff_or_superuser | is_manager_of)
rules.add_perm(
    "members.view_member_details", is_staff_or_superuser | is_the_member | manages_a_community_of
)
rules.add_perm("plants.view_point_readings", is_staff_or_superuser | is_the_member | is_manager_of)
rules.add_perm("plants.register_plant", is_staff_or_back_office | is_manager_of)


@rules.predicate
def is_own_membership(user: Any, membership: Any) -> bool:
    """True when the membership is the user's own."""
    return bool(
        user.is_authenticated
        and isinstance(membership, Membership)
        and membership.member.user_id == user.pk
    )


# The API applies the same rules; each has a queryset twin in cer.access.visibility, and
# tests/api/test_visibility.py checks that the two agree object by object.
rules.add_perm(
    "members.change_member_details", is_staff_or_superuser | is_the_member | manages_a_community_of
)
rules.add_perm("members.view_membership", is_staff_or_superuser | is_own_membership | is_manager_of)
rules.add_perm("members.change_membership", is_staff_or_superuser | is_manager_of)
rules.add_perm(
    "plants.view_connection_point",
    is_staff_or_back_office | is_the_member | is_manager_of,
)
rules.add_perm("plants.change_connection_point", is_staff_or_back_office | is_manager_of)
rules.add_perm("plants.view_plant", is_staff_or_back_office | is_the_member | is_manager_of)
rules.add_perm("plants.change_plant", is_staff_or_back_office | is_manager_of)
rules.add_perm("metering.add_readings", is_staff_or_superuser | is_manager_of)
rules.add_perm("metering.manage_devices", is_staff_or_superuser | is_manager_of)
rules.add_perm("audit.view_entries", is_staff_or_superuser | is_manager_of)
rules.add_perm("plants.verify_plant", is_staff_or_back_office)
rules.add_perm(
    "documents.view_document",
    is_staff_or_superuser | is_manager_of | (is_member_of & is_open_to_members),
)
