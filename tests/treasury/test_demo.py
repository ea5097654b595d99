"""The demo community's 2025 economic report reconciles with its settlements, distributions,
expenses and fees: GSE income is the settled months' tariff and valorisation, the GSE fees
are their fee provisions, the distributed amount is the statements' total, and the balance is
income - expenses - distributed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from cer.billing.models import Statement, StatementStatus
from cer.collections.income import collected
from cer.demo.loader import load_demo
from cer.demo.treasury import EXPENSES, store_accounts
from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month
from cer.treasury.budget import budget_vs_actual
from cer.treasury.models import BudgetLine, Expense
from cer.treasury.report import build_report
from cercalc import periods

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOW = dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo_year(django_db_setup, django_db_blocker):
    """The demo loaded, settled and distributed for every month of 2025, built once."""
    with django_db_blocker.unblock(), transaction.atomic():
        community = load_demo(now=NOW).community
        set_policy(
            community=community,
            valid_from=dt.date(2025, 1, 1),
            pots=[
                {
                    "code": "social",
                    "label": "Fondo sociale",
                    "percent": Decimal("5"),
                    "social": True,
                }
            ],
            components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
            actor=None,
            now=NOW,
        )
        runs = []
        for configuration in community.configurations.all():
            for number in range(1, 13):
                month = dt.date(2025, number, 1)
                run = compute_month(configuration=configuration, month=month, now=NOW).run
                distribute_run(run=run, actor=None, now=NOW)
                runs.append(run)
        yield community, runs
        transaction.set_rollback(True)


def _year_2025() -> tuple[dt.date, dt.date]:
    return dt.date(2025, 1, 1), dt.date(2026, 1, 1)


def test_the_2025_report_reconciles_with_settlement_distribution_and_the_ledger(demo_year):
    community, runs = demo_year

    report = build_report(community=community, period=periods.year(2025))

    totals = report.totals
    assert totals.income["GSE"] == sum((r.incentive_eur + r.valorisation_eur for r in runs), 0)
    assert totals.expenses["GSE_FEES"] == sum((r.gse_fees_eur for r in runs), 0)
    statements = Statement.objects.filter(
        configuration__community=community, status=StatementStatus.CURRENT, month__year=2025
    ).aggregate(total=Sum("amount_eur"))["total"]
    assert totals.distributed == statements > 0
    ledger = Expense.objects.filter(community=community).aggregate(total=Sum("total_eur"))
    assert totals.expense_total == ledger["total"] + totals.expenses["GSE_FEES"]
    assert len({code for code in totals.expenses if code != "GSE_FEES"}) >= 5
    assert totals.balance == totals.income_total - totals.expense_total - totals.distributed
    assert sum((f.balance for _m, f in report.by_month), Decimal(0)) == totals.balance
    # What the community keeps of GSE's money is the pots of each month's distribution.
    pots = sum(
        (Decimal(pot["amount_eur"]) for r in runs for pot in r.distribution.pots), Decimal(0)
    )
    # ...plus the fees the members paid (cer.collections: the demo's 2025 fee, one debit
    # returned), less the expenses of the ledger.
    fees = sum((c.amount_eur for c in collected(community.pk, *_year_2025())), Decimal(0))
    assert totals.income["FEES"] == fees > 0
    assert totals.balance == pots + fees - ledger["total"]


def test_the_budget_shows_the_actual_figures_against_the_plan(demo_year):
    community, _runs = demo_year

    rows = {(r.side, r.category): r for r in budget_vs_actual(community=community, year=2025)}

    assert rows[("EXPENSE", "MANAGEMENT")].budget == Decimal("2800.00")
    assert rows[("EXPENSE", "MANAGEMENT")].actual == Decimal("2928.00")
    assert rows[("EXPENSE", "MANAGEMENT")].variance == Decimal("128.00")
    assert rows[("INCOME", "GSE")].actual > 0


def test_loading_again_adds_no_entry(demo_year):
    community, _runs = demo_year
    counts = (Expense.objects.count(), BudgetLine.objects.count())

    again = load_demo(now=NOW)
    added = store_accounts(community=community, now=NOW)

    assert not again.created and added == 0
    assert (Expense.objects.count(), BudgetLine.objects.count()) == counts == (len(EXPENSES), 11)
