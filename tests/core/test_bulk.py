"""bulk_insert: the rows bulk_create would store, with primary keys, on every database.

On PostgreSQL it writes with COPY (run the tests with DATABASE_URL pointing at PostgreSQL
to exercise that path); elsewhere it is bulk_create itself.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cer.billing.models import LineKind, Statement, StatementLine
from cer.core.bulk import bulk_insert, insert_rows
from cer.distribution.models import MemberShare
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db


def test_every_field_is_stored_and_each_instance_gets_its_key():
    small, distribution = distributed_small()
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    text = 'Tab\there, a "quote", a back\\slash and\na new line'
    shares = [
        MemberShare(
            distribution=distribution,
            member_id=small.sme.pk,
            amount_eur=Decimal("1.23"),
            exact_eur="1.2345",
            parts=[{"basis": "EQUAL", "weight": "1", "note": text}],
        )
    ]
    MemberShare.objects.filter(member=small.sme, distribution=distribution).delete()
    lines = [
        StatementLine(
            statement=statement,
            position=position,
            kind=LineKind.ADJUSTMENT,
            description=text,
            amount_eur=Decimal("-0.07"),
            origin_id=None,
        )
        for position in (7, 8)
    ]

    bulk_insert(MemberShare, shares)
    bulk_insert(StatementLine, lines)

    stored = MemberShare.objects.get(pk=shares[0].pk)
    assert (stored.amount_eur, stored.exact_eur, stored.correction_eur) == (
        Decimal("1.23"),
        "1.2345",
        Decimal("0.00"),  # the model's default
    )
    assert stored.parts == [{"basis": "EQUAL", "weight": "1", "note": text}]
    assert None not in {line.pk for line in lines} and len({line.pk for line in lines}) == 2
    assert list(
        StatementLine.objects.filter(pk__in=[line.pk for line in lines]).values_list(
            "statement_id", "position", "description", "amount_eur"
        )
    ) == [(statement.pk, 7, text, Decimal("-0.07")), (statement.pk, 8, text, Decimal("-0.07"))]
    assert not lines[0]._state.adding


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk_insert(StatementLine, []) == []


def test_plain_rows_are_stored_with_the_keys_returned_in_row_order():
    small, distribution = distributed_small()
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    text = 'Tab\there, a "quote", a back\\slash and\na new line'
    MemberShare.objects.filter(member=small.sme, distribution=distribution).delete()
    columns = ("distribution_id", "member_id", "amount_eur", "exact_eur", "correction_eur", "parts")

    [share_id] = insert_rows(
        MemberShare,
        columns,
        [(distribution.pk, small.sme.pk, Decimal("1.23"), "1.2345", Decimal("-0.10"), [{"n": 1}])],
    )
    line_ids = insert_rows(
        StatementLine,
        ("statement_id", "position", "kind", "description", "amount_eur", "origin_id"),
        [
            (statement.pk, 9, LineKind.ADJUSTMENT, text, Decimal("-0.07"), None),
            (statement.pk, 8, LineKind.ADJUSTMENT, "second", Decimal("0.05"), None),
        ],
    )

    stored = MemberShare.objects.get(pk=share_id)
    assert (stored.member_id, stored.amount_eur, stored.correction_eur, stored.parts) == (
        small.sme.pk,
        Decimal("1.23"),
        Decimal("-0.10"),
        [{"n": 1}],
    )
    assert [
        StatementLine.objects.values_list("position", "description", "amount_eur").get(pk=pk)
        for pk in line_ids
    ] == [(9, text, Decimal("-0.07")), (8, "second", Decimal("0.05"))]


def test_plain_rows_must_name_every_field():
    with pytest.raises(ValueError, match="columns must be"):
        insert_rows(StatementLine, ("statement_id", "position"), [(1, 1)])
