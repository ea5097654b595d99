"""The yearly budget by category, and the actual figures against it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.audit.models import AuditEntry
from cer.treasury import budget, ledger
from cer.treasury.models import BudgetLine
from tests import factories
from tests.treasury.helpers import NOW, add_expense

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return factories.make_community(name="CER Bilancio")


def _row(rows, side, category):
    return next(r for r in rows if r.side == side and r.category == category)


def test_actual_against_budget_gives_the_variance(community):
    budget.set_budget(
        community=community,
        year=2025,
        amounts={("EXPENSE", "MANAGEMENT"): "2000.00", ("INCOME", "OTHER"): "50.00"},
        actor=None,
        now=NOW,
    )
    add_expense(community, document_date=dt.date(2025, 3, 3))
    add_expense(community, document_number="99", document_date=dt.date(2025, 9, 3))

    whole = budget.budget_vs_actual(community=community, year=2025)
    to_june = budget.budget_vs_actual(community=community, year=2025, until=dt.date(2025, 6, 30))

    management = _row(whole, "EXPENSE", "MANAGEMENT")
    assert (management.budget, management.actual, management.variance) == (
        Decimal("2000.00"),
        Decimal("2440.00"),
        Decimal("440.00"),
    )
    assert _row(to_june, "EXPENSE", "MANAGEMENT").actual == Decimal("1220.00")
    assert _row(whole, "INCOME", "OTHER").variance == Decimal("-50.00")
    assert AuditEntry.objects.filter(code="treasury.budget.set").count() == 1


def test_a_change_keeps_the_other_lines_and_is_audited_with_old_and_new(community):
    budget.set_budget(
        community=community,
        year=2025,
        amounts={("EXPENSE", "LEGAL"): "300.00", ("EXPENSE", "TECHNICAL"): "100.00"},
        actor=None,
        now=NOW,
    )

    budget.set_budget(
        community=community,
        year=2025,
        amounts={("EXPENSE", "LEGAL"): "350.00"},
        actor=None,
        now=NOW,
    )

    amounts = dict(BudgetLine.objects.values_list("category", "amount_eur"))
    assert amounts == {"LEGAL": Decimal("350.00"), "TECHNICAL": Decimal("100.00")}
    last = AuditEntry.objects.filter(code="treasury.budget.set").order_by("-pk").first()
    assert last.changes["expense_LEGAL"] == ["300.00", "350.00"]


def test_three_decimals_or_a_day_outside_the_year_are_refused_naming_the_field(community):
    with pytest.raises(ledger.EntryRefused) as decimals:
        budget.set_budget(
            community=community,
            year=2025,
            amounts={("EXPENSE", "LEGAL"): "300.00", ("INCOME", "FEES"): "1.005"},
            actor=None,
            now=NOW,
        )
    with pytest.raises(ledger.EntryRefused) as outside:
        budget.budget_vs_actual(community=community, year=2025, until=dt.date(2026, 1, 1))

    assert list(decimals.value.message_dict) == ["income_FEES"]
    assert not BudgetLine.objects.exists()
    assert list(outside.value.message_dict) == ["until"]
