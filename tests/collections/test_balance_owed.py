"""A clawback owed back is asked of the member; paid, it nets their position to zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.billing.models import LineKind, Statement
from cer.billing.payouts import MemberState, create_payout, preview
from cer.billing.statements import NewLine, add_lines
from cer.collections.models import RequestKind, RequestState
from cer.collections.requests import create_balances_owed, mark_paid
from tests.factories.billing import JUNE, NOW, distributed_small

pytestmark = pytest.mark.django_db


def test_a_balance_owed_is_asked_once_and_its_repayment_nets_the_position():
    small, distribution = distributed_small(final=True)
    first = create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 7, 1),
        debtor_name="CER Piccola ETS",
        debtor_iban="IT60X0542811101000000123456",
        debtor_bic="BPPIITRRXXX",
        execution_date=dt.date(2025, 7, 10),
        actor=None,
        now=NOW,
    )
    paid = first.items.get(member=small.household).amount_eur
    add_lines(
        distribution=distribution,
        lines={small.household.pk: [NewLine(LineKind.VERSION, "Dropped", -paid)]},
        reason="New version",
        now=NOW,
    )

    [request] = create_balances_owed(
        configuration=small.configuration, due_date=dt.date(2025, 8, 31), actor=None, now=NOW
    )
    again = create_balances_owed(
        configuration=small.configuration, due_date=dt.date(2025, 8, 31), actor=None, now=NOW
    )

    assert again == []
    assert (request.member_id, request.kind, request.amount_eur) == (
        small.household.pk,
        RequestKind.BALANCE_OWED,
        paid,
    )
    mark_paid(request, paid_date=dt.date(2025, 9, 2), how="direct debit", actor=None, now=NOW)

    request.refresh_from_db()
    assert request.state == RequestState.PAID
    statement = Statement.objects.get(member=small.household, status="CURRENT")
    assert statement.lines.filter(kind=LineKind.ADJUSTMENT, amount_eur=paid).count() == 1
    standing = preview(configuration=small.configuration, period_end=dt.date.max)
    household = next(m for m in standing.members if m.member_id == small.household.pk)
    assert household.state == MemberState.ZERO
    assert household.amount_eur == Decimal("0.00")
