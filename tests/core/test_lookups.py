"""`field__among=[...]` selects what `field__in=[...]` selects, on every database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cer.members.models import Member, Membership
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db


def test_among_selects_what_in_selects():
    distributed_small()
    ids = sorted(Member.objects.values_list("pk", flat=True))
    assert len(ids) >= 3
    wanted = [ids[0], ids[-1], 10**9, None]

    def keys(queryset):
        return sorted(queryset.values_list("pk", flat=True))

    assert keys(Member.objects.filter(pk__among=wanted)) == [ids[0], ids[-1]]
    assert keys(Member.objects.filter(pk__among=wanted)) == keys(
        Member.objects.filter(pk__in=wanted)
    )
    # On a foreign key, by its column and by the relation.
    assert keys(Membership.objects.filter(member_id__among=wanted)) == keys(
        Membership.objects.filter(member_id__in=wanted)
    )
    assert keys(Membership.objects.filter(member__among=wanted)) == keys(
        Membership.objects.filter(member__in=wanted)
    )
    assert keys(Member.objects.filter(pk__among=[])) == []
    assert keys(Member.objects.exclude(pk__among=[ids[0]])) == ids[1:]


def test_a_thousand_ids_are_one_parameter_on_postgresql():
    distributed_small()
    ids = list(range(1, 1001))
    with CaptureQueriesContext(connection) as queries:
        list(Member.objects.filter(pk__among=ids).values_list("pk", flat=True))
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
        assert " IN (" not in sql
    else:
        assert " IN (" in sql
