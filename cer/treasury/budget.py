"""The yearly budget by category, and the year's actual figures against it.

A budget line is a plan: a manager may change it during the year; each change is audited
with the old and the new amount (`treasury.budget.set`). The actual figures are the economic
report's (cer/treasury/report.py) from 1 January to a day of the same year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Community
from cer.treasury.ledger import EntryRefused, checked_amount
from cer.treasury.models import BudgetLine, BudgetSide, ExpenseCategory, IncomeCategory
from cer.treasury.report import ZERO, actual_figures

CATEGORIES: dict[str, type[IncomeCategory] | type[ExpenseCategory]] = {
    BudgetSide.INCOME: IncomeCategory,
    BudgetSide.EXPENSE: ExpenseCategory,
}


def budget_field(side: str, category: str) -> str:
    """The name of a budget amount in forms and API bodies: `income_GSE`, `expense_LEGAL`."""
    return f"{side.lower()}_{category}"


def _checked_year(year: Any) -> int:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise EntryRefused({"year": [_("Give the year as YYYY, between 2000 and 2100.")]})
    return year


@transaction.atomic
def set_budget(
    *,
    community: Community,
    year: int,
    amounts: Mapping[tuple[str, str], Any],
    actor: Any,
    now: dt.datetime,
) -> list[BudgetLine]:
    """Store the year's budget amounts [EUR] keyed by (side, category); audited.

    A category left out keeps its amount. Raises EntryRefused naming the field
    (`income_GSE`...) for an unknown category or an amount with more than two decimals;
    then nothing is stored.
    """
    year = _checked_year(year)
    checked: dict[tuple[str, str], Decimal] = {}
    for (side, category), value in amounts.items():
        name = budget_field(side, category)
        if side not in CATEGORIES or category not in CATEGORIES[side].values:
            raise EntryRefused({name: [_("No such budget category.")]})
        checked[(side, category)] = checked_amount(value, field=name)
    changes: dict[str, list[str | None]] = {}
    for (side, category), amount in checked.items():
        line = BudgetLine.objects.filter(
            community=community, year=year, side=side, category=category
        ).first()
        old = line.amount_eur if line else None
        if old == amount:
            continue
        if line is None:
            BudgetLine.objects.create(
                community=community,
                year=year,
                side=side,
                category=category,
                amount_eur=amount,
                updated_at=now,
            )
        else:
            line.amount_eur = amount
            line.updated_at = now
            line.save(update_fields=["amount_eur", "updated_at"])
        changes[budget_field(side, category)] = [None if old is None else str(old), str(amount)]
    if changes:
        record(
            actor=actor,
            code="treasury.budget.set",
            now=now,
            community=community,
            changes={"year": year, **changes},
        )
    return list(BudgetLine.objects.filter(community=community, year=year))


@dataclass(frozen=True)
class BudgetRow:
    side: str
    category: str
    label: str
    budget: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        """Actual minus budget [EUR]: above zero, more income or more spending than planned."""
        return self.actual - self.budget

    @property
    def field_name(self) -> str:
        return budget_field(self.side, self.category)


def budget_vs_actual(
    *, community: Community, year: int, until: dt.date | None = None
) -> list[BudgetRow]:
    """Each category's budget and actual figure of `year`, up to the day `until` included.

    Raises EntryRefused naming `until` when it lies outside the budget's year.
    """
    year = _checked_year(year)
    start = dt.date(year, 1, 1)
    end = dt.date(year + 1, 1, 1)
    if until is not None:
        if not start <= until < end:
            raise EntryRefused(
                {"until": [_("The day must lie in the budget's year, %(year)s.") % {"year": year}]}
            )
        end = until + dt.timedelta(days=1)
    planned = {
        (line.side, line.category): line.amount_eur
        for line in BudgetLine.objects.filter(community=community, year=year)
    }
    actual = actual_figures(community=community, start=start, end=end)
    rows = []
    for side, choices in CATEGORIES.items():
        figures = actual.income if side == BudgetSide.INCOME else actual.expenses
        for code in choices.values:
            rows.append(
                BudgetRow(
                    side=side,
                    category=code,
                    label=str(choices(code).label),
                    budget=planned.get((side, code), ZERO),
                    actual=figures.get(code, ZERO),
                )
            )
    return rows
