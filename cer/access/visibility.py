"""What each user may see, as querysets: the twins of the rules in cer/access/rules.py.

API list endpoints return these querysets and detail endpoints look objects up in them,
so an object the user may not see is a 404 whether it exists or not; the web pages list
the user's communities with `communities`. The rule and its twin are checked against
each other in tests/api/test_visibility.py.

This module covers the nouns. The twins for devices (cer/access/readings.py) and for
settlement runs and statements (cer/access/money.py) sit beside it in this package but
stand on the floors of what they show (cer/layers.py), so a noun's page may ask this
module without the nouns depending on readings or money.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from cer.access.rules import MANAGER_ROLES, is_staff_or_back_office, is_staff_or_superuser
from cer.audit.models import AuditEntry
from cer.communities.models import Community, Configuration
from cer.documents.models import Document, DocumentKind
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint, Plant


def member_of(user: Any, today: dt.date) -> QuerySet:
    return (
        Membership.objects.active_on(today).filter(member__user_id=user.pk).values("community_id")
    )


def managed_by(user: Any, today: dt.date) -> QuerySet:
    return (
        Membership.objects.active_on(today)
        .filter(member__user_id=user.pk, role__in=MANAGER_ROLES)
        .values("community_id")
    )


def communities(user: Any, *, today: dt.date) -> QuerySet[Community]:
    """communities.view_community: the communities `user` belongs to on `today`, or all."""
    if not user.is_authenticated:
        return Community.objects.none()
    if is_staff_or_back_office(user):
        return Community.objects.all()
    return Community.objects.filter(pk__in=member_of(user, today))


def managed_communities(user: Any, *, today: dt.date) -> QuerySet[Community]:
    """communities.manage_community"""
    if not user.is_authenticated:
        return Community.objects.none()
    if is_staff_or_superuser(user):
        return Community.objects.all()
    return Community.objects.filter(pk__in=managed_by(user, today))


def configurations(user: Any, *, today: dt.date) -> QuerySet[Configuration]:
    """communities.view_community, applied to a configuration."""
    return Configuration.objects.filter(community__in=communities(user, today=today))


def members(user: Any, *, today: dt.date) -> QuerySet[Member]:
    """members.view_member_details"""
    if not user.is_authenticated:
        return Member.objects.none()
    if is_staff_or_superuser(user):
        return Member.objects.all()
    managed_members = (
        Membership.objects.active_on(today)
        .filter(community_id__in=managed_by(user, today))
        .values("member_id")
    )
    return Member.objects.filter(Q(user_id=user.pk) | Q(pk__in=managed_members))


def memberships(user: Any, *, today: dt.date) -> QuerySet[Membership]:
    """members.view_membership"""
    if not user.is_authenticated:
        return Membership.objects.none()
    if is_staff_or_superuser(user):
        return Membership.objects.all()
    return Membership.objects.filter(
        Q(member__user_id=user.pk) | Q(community_id__in=managed_by(user, today))
    )


# Points and plants: the web pages mask the plants outside `plants` (cer.plants.visibility).
def connection_points(user: Any, *, today: dt.date) -> QuerySet[ConnectionPoint]:
    """plants.view_connection_point: the points whose POD and holder the user may see."""
    if not user.is_authenticated:
        return ConnectionPoint.objects.none()
    if is_staff_or_back_office(user):
        return ConnectionPoint.objects.all()
    return ConnectionPoint.objects.filter(
        Q(holder__user_id=user.pk) | Q(configuration__community_id__in=managed_by(user, today))
    )


def points_with_readings(user: Any, *, today: dt.date) -> QuerySet[ConnectionPoint]:
    """plants.view_point_readings: the points whose hourly readings the user may see."""
    if not user.is_authenticated:
        return ConnectionPoint.objects.none()
    if is_staff_or_superuser(user):
        return ConnectionPoint.objects.all()
    return ConnectionPoint.objects.filter(
        Q(holder__user_id=user.pk) | Q(configuration__community_id__in=managed_by(user, today))
    )


def plants(user: Any, *, today: dt.date) -> QuerySet[Plant]:
    """plants.view_plant: the plants whose name, POD and owner the user may see."""
    if not user.is_authenticated:
        return Plant.objects.none()
    if is_staff_or_back_office(user):
        return Plant.objects.all()
    return Plant.objects.filter(
        Q(owner__user_id=user.pk)
        | Q(connection_point__configuration__community_id__in=managed_by(user, today))
    )


def audit_entries(user: Any, *, today: dt.date) -> QuerySet[AuditEntry]:
    """audit.view_entries, applied to the entry's community."""
    if not user.is_authenticated:
        return AuditEntry.objects.none()
    if is_staff_or_superuser(user):
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(community_id__in=managed_by(user, today))


def documents(user: Any, *, today: dt.date) -> QuerySet[Document]:
    """documents.view_document: managers see every kind, members the open ones."""
    if not user.is_authenticated:
        return Document.objects.none()
    if is_staff_or_superuser(user):
        return Document.objects.all()
    return Document.objects.filter(
        Q(community_id__in=managed_by(user, today))
        | Q(
            community_id__in=member_of(user, today),
            kind__in=DocumentKind.open_to_members(),
        )
    )
