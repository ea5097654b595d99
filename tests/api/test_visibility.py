"""The API's querysets and the permission rules agree, object by object, persona by persona."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cer.access import money as money_visibility
from cer.access import readings as readings_visibility
from cer.access import visibility

pytestmark = pytest.mark.django_db

TWINS = [
    ("community", visibility.communities, "communities.view_community"),
    ("community", visibility.managed_communities, "communities.manage_community"),
    ("configuration", visibility.configurations, "communities.view_community"),
    ("member", visibility.members, "members.view_member_details"),
    ("membership", visibility.memberships, "members.view_membership"),
    ("connection_point", visibility.connection_points, "plants.view_connection_point"),
    ("connection_point", visibility.points_with_readings, "plants.view_point_readings"),
    ("plant", visibility.plants, "plants.view_plant"),
    ("device", readings_visibility.devices, "metering.manage_devices"),
    ("audit_entry", visibility.audit_entries, "audit.view_entries"),
    ("document", visibility.documents, "documents.view_document"),
    ("settlement_run", money_visibility.settlement_runs, "settlement.view_run"),
    ("statement", money_visibility.statements, "settlement.view_statement"),
]


@pytest.mark.parametrize(("key", "scope", "permission"), TWINS)
def test_each_queryset_shows_exactly_what_its_rule_allows(
    personas, world, other_world, key, scope, permission
):
    users = [*(u for u in personas.values() if u is not None), world.objects["holder_user"]]
    disagreements = []
    for user in users:
        visible = scope(user, today=timezone.localdate())
        for place in (world, other_world):
            obj = place.objects[key]
            if visible.filter(pk=obj.pk).exists() != user.has_perm(permission, obj):
                disagreements.append(f"{user.username} / {key} {obj.pk}")

    assert disagreements == []
