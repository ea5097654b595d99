"""Who may do what, object by object: the personas against the permission rules."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from cer.access.rules import BACK_OFFICE_GROUP
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def back_office(db):
    user = User.objects.create_user("backoffice", password="prova-password-2025")
    user.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    return user


@pytest.fixture
def administrator(community):
    return factories.make_user_with_role(community, role="ADMINISTRATOR", username="admin1")


@pytest.mark.parametrize(
    ("persona", "view", "manage", "register_plant"),
    [
        ("referente", True, True, True),
        ("administrator", True, True, True),
        ("member_user", True, False, False),
        ("outsider", False, False, False),
        ("back_office", True, False, True),
        ("anonymous", False, False, False),
    ],
)
def test_community_permissions_by_persona(
    request, community, persona, view, manage, register_plant
):
    user = AnonymousUser() if persona == "anonymous" else request.getfixturevalue(persona)

    assert user.has_perm("communities.view_community", community) is view
    assert user.has_perm("communities.manage_community", community) is manage
    assert user.has_perm("plants.register_plant", community) is register_plant


def test_a_member_sees_their_own_details_and_readings_but_not_a_neighbours(
    community, member_user, referente
):
    own = member_user.member
    neighbour = factories.make_member()
    own_point = factories.make_connection_point(community, own)
    neighbour_point = factories.make_connection_point(community, neighbour)
    factories.make_user_with_role(community, role="MEMBER", username="vicino")

    assert member_user.has_perm("members.view_member_details", own)
    assert not member_user.has_perm("members.view_member_details", neighbour)
    assert member_user.has_perm("plants.view_point_readings", own_point)
    assert not member_user.has_perm("plants.view_point_readings", neighbour_point)
    assert referente.has_perm("plants.view_point_readings", neighbour_point)


def test_a_referente_sees_details_of_members_of_their_community_only(
    community, referente, outsider
):
    inside = factories.make_user_with_role(community, role="MEMBER", username="dentro").member

    assert referente.has_perm("members.view_member_details", inside)
    assert not referente.has_perm("members.view_member_details", outsider.member)
