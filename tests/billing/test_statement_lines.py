"""Lines added to a month's statements: new versions that carry every earlier line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cer.billing.models import LineKind, Statement, StatementStatus
from cer.billing.statements import NewLine, add_lines
from tests import factories
from tests.factories.billing import NOW, distributed_small

pytestmark = pytest.mark.django_db


def test_added_lines_make_a_new_version_that_keeps_the_old_lines():
    small, distribution = distributed_small()
    before = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    old_lines = [(line.kind, line.amount_eur) for line in before.lines.all()]

    [after] = add_lines(
        distribution=distribution,
        lines={small.household.pk: [NewLine(LineKind.GSE, "GSE balance", Decimal("-0.37"))]},
        reason="GSE balance of June",
        now=NOW,
    )

    before.refresh_from_db()
    assert before.status == StatementStatus.SUPERSEDED
    assert after.version == before.version + 1
    assert after.previous_id == before.pk
    lines = list(after.lines.order_by("position"))
    assert [(line.kind, line.amount_eur) for line in lines[:-1]] == old_lines
    assert (lines[-1].kind, lines[-1].amount_eur) == (LineKind.GSE, Decimal("-0.37"))
    assert after.amount_eur == before.amount_eur - Decimal("0.37")
    assert after.amount_eur == sum(line.amount_eur for line in lines)
    # Carried lines keep their first issue, so what was paid once stays paid.
    assert all(line.origin_id for line in lines[:-1])


def test_a_member_without_a_statement_gets_a_first_version_with_only_the_new_lines():
    _small, distribution = distributed_small()
    newcomer = factories.make_member(first_name="Nuova", last_name="Socia")

    [statement] = add_lines(
        distribution=distribution,
        lines={newcomer.pk: [NewLine(LineKind.YEAR_EXCESS, "Yearly true-up", Decimal("2.50"))]},
        reason="Yearly true-up",
        now=NOW,
    )

    assert (statement.version, statement.amount_eur) == (1, Decimal("2.50"))
    assert statement.member_name == newcomer.display_name
    assert [line.kind for line in statement.lines.all()] == [LineKind.YEAR_EXCESS]
    others = Statement.objects.filter(status=StatementStatus.CURRENT).exclude(member=newcomer)
    assert all(s.version == 1 for s in others)
