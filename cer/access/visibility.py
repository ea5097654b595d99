"""What each user may see, as querysets: the twins of the rules in cer/access/rules.py.

API list endpoints return these querysets and detail endpoints look objects up in them,
so an object the user may not see is a 404 whether it exists or not; the web pages list
the user's communities with `communities`. The rule and its twin are checked against
each other in tests/api/test_visibility.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from cer.access.rules import MANAGER_ROLES, is_staff_or_back_office, is_staff_or_superuser
from cer.audit.models import AuditEntry
from cer.billing.models import Statement
from cer.communities.models import Community, Configuration
from cer.documents.models import Document, DocumentKind
from cer.members.models import Member, Membership
from cer.metering.models import Device
from cer.plants import visibility as plant_visibility
from cer.settlement.models import SettlementRun


def _member_of(user: Any, today: dt.date) -> QuerySet:
    return (
        Membership.objects.active_on(today).filter(member__user_id=user.pk).values("community_id")
    )


def _managed_by(user: Any, today: dt.date) -> QuerySet:
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
    return Community.objects.filter(pk__in=_member_of(user, today))


def managed_communities(user: Any, *, today: dt.date) -> QuerySet[Community]:
    """communities.manage_community"""
    if not user.is_authenticated:
        return Community.objects.none()
    if is_staff_or_superuser(user):
        return Community.objects.all()
    return Community.objects.filter(pk__in=_managed_by(user, today))


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
        .filter(community_id__in=_managed_by(user, today))
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
        Q(member__user_id=user.pk) | Q(community_id__in=_managed_by(user, today))
    )


# The rules for points and plants are shared with the web pages (cer.plants.visibility).
connection_points = plant_visibility.connection_points_visible_to
points_with_readings = plant_visibility.points_with_readings_visible_to
plants = plant_visibility.plants_visible_to


def devices(user: Any, *, today: dt.date) -> QuerySet[Device]:
    """metering.manage_devices, applied to the device's connection point."""
    if not user.is_authenticated:
        return Device.objects.none()
    if is_staff_or_superuser(user):
        return Device.objects.all()
    return Device.objects.filter(
        connection_point__configuration__community_id__in=_managed_by(user, today)
    )


def audit_entries(user: Any, *, today: dt.date) -> QuerySet[AuditEntry]:
    """audit.view_entries, applied to the entry's community."""
    if not user.is_authenticated:
        return AuditEntry.objects.none()
    if is_staff_or_superuser(user):
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(community_id__in=_managed_by(user, today))


def documents(user: Any, *, today: dt.date) -> QuerySet[Document]:
    """documents.view_document: managers see every kind, members the open ones."""
    if not user.is_authenticated:
        return Document.objects.none()
    if is_staff_or_superuser(user):
        return Document.objects.all()
    return Document.objects.filter(
        Q(community_id__in=_managed_by(user, today))
        | Q(
            community_id__in=_member_of(user, today),
            kind__in=DocumentKind.open_to_members(),
        )
    )


def settlement_runs(user: Any, *, today: dt.date) -> QuerySet[SettlementRun]:
    """settlement.view_run: the community's managers only, as in the web app."""
    if not user.is_authenticated:
        return SettlementRun.objects.none()
    if is_staff_or_superuser(user):
        return SettlementRun.objects.all()
    return SettlementRun.objects.filter(configuration__community_id__in=_managed_by(user, today))


def statements(user: Any, *, today: dt.date) -> QuerySet[Statement]:
    """settlement.view_statement: the member's own statements, the managers' community's."""
    # One rule for the API and the web pages' yearly statement.
    return Statement.objects.visible_to(user, today=today)
