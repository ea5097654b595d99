"""The economic report of a community for a month, a quarter or a year.

Income by category (GSE incentives and contributions, grants, fees, other: every registered
income source, cer/treasury/income.py), expenses by category (the ledger by document date,
plus each settled month's GSE fees, REGULATION.md §7), what was distributed to members (the
signed lines of the current version of every statement of the period's months) and the
balance = income - expenses - distributed. GSE income, GSE fees and distributions are dated
by the month they belong to (the settlement month), grants and manual income by the day
received, expenses by the document date. The same rows feed the page, the CSV (Italian or
plain dialect), the XLSX (exact decimals) and the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from cer.billing.models import StatementLine, StatementStatus
from cer.billing.pdf import table_pdf
from cer.communities.models import Community
from cer.core.csv_export import CsvDialect, DialectCsv, period_text
from cer.core.downloads import XLSX
from cer.core.xlsx import workbook_bytes
from cer.treasury.income import IncomeItem, income_items, settled_months
from cer.treasury.models import Expense, ExpenseCategory, IncomeCategory
from cercalc import periods
from cercalc.periods import Period

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ExpenseItem:
    """One expense of the report: a ledger entry or a settled month's GSE fees [EUR]."""

    day: dt.date
    category: str
    supplier: str
    document: str
    taxable: Decimal
    vat: Decimal
    total: Decimal
    payment_date: dt.date | None
    reference: str


@dataclass(frozen=True)
class DistributedItem:
    """The signed lines of a configuration's current statements for one month [EUR]."""

    month: dt.date
    configuration: str
    statements: int
    amount: Decimal


@dataclass
class Figures:
    """Income, expenses and distribution of some days, by category [EUR]."""

    income: dict[str, Decimal] = field(default_factory=dict)
    expenses: dict[str, Decimal] = field(default_factory=dict)
    distributed: Decimal = ZERO

    @property
    def income_total(self) -> Decimal:
        return sum(self.income.values(), ZERO)

    @property
    def expense_total(self) -> Decimal:
        return sum(self.expenses.values(), ZERO)

    @property
    def balance(self) -> Decimal:
        return self.income_total - self.expense_total - self.distributed


@dataclass(frozen=True)
class EconomicReport:
    community: Community
    period: Period
    totals: Figures
    by_month: list[tuple[Period, Figures]]
    income_items: list[IncomeItem]
    expense_items: list[ExpenseItem]
    distributed_items: list[DistributedItem]

    def summary_rows(self) -> list[list[object]]:
        totals = self.totals
        rows: list[list[object]] = [[_("Item"), _("Amount [EUR]")]]
        rows += [
            [IncomeCategory(code).label, totals.income.get(code, ZERO)]
            for code in IncomeCategory.values
        ]
        rows.append([_("Total income"), totals.income_total])
        rows += [
            [ExpenseCategory(code).label, -totals.expenses.get(code, ZERO)]
            for code in ExpenseCategory.values
        ]
        rows.append([_("Total expenses"), -totals.expense_total])
        rows.append([_("Distributed to members"), -totals.distributed])
        rows.append([_("Balance (income − expenses − distributed)"), totals.balance])
        return rows

    def month_rows(self) -> list[list[object]]:
        rows: list[list[object]] = [
            [
                _("Month"),
                _("Income [EUR]"),
                _("Expenses [EUR]"),
                _("Distributed [EUR]"),
                _("Balance [EUR]"),
            ]
        ]
        rows += [
            [month, f.income_total, f.expense_total, f.distributed, f.balance]
            for month, f in self.by_month
        ]
        return rows

    def income_rows(self) -> list[list[object]]:
        rows: list[list[object]] = [
            [_("Day"), _("Category"), _("Description"), _("Amount [EUR]"), _("Reference")]
        ]
        rows += [
            [i.day, _category_label(i.category), i.description, i.amount, i.reference]
            for i in self.income_items
        ]
        return rows

    def expense_rows(self) -> list[list[object]]:
        rows: list[list[object]] = [
            [
                _("Date"),
                _("Category"),
                _("Supplier"),
                _("Document"),
                _("Taxable [EUR]"),
                _("VAT [EUR]"),
                _("Total [EUR]"),
                _("Paid on"),
            ]
        ]
        rows += [
            [
                e.day,
                ExpenseCategory(e.category).label,
                e.supplier,
                e.document,
                e.taxable,
                e.vat,
                e.total,
                e.payment_date,
            ]
            for e in self.expense_items
        ]
        return rows

    def distributed_rows(self) -> list[list[object]]:
        rows: list[list[object]] = [
            [_("Month"), _("Configuration"), _("Statements"), _("Amount [EUR]")]
        ]
        rows += [
            [periods.month(d.month.year, d.month.month), d.configuration, d.statements, d.amount]
            for d in self.distributed_items
        ]
        return rows

    def sections(self) -> list[tuple[str, list[list[object]]]]:
        return [
            (_("Summary"), self.summary_rows()),
            (_("Months"), self.month_rows()),
            (_("Income"), self.income_rows()),
            (_("Expenses"), self.expense_rows()),
            (_("Distributed to members"), self.distributed_rows()),
        ]


def _category_label(code: str) -> str:
    return str(IncomeCategory(code).label) if code in IncomeCategory.values else code


def expense_items(*, community_id: int, start: dt.date, end: dt.date) -> list[ExpenseItem]:
    """The ledger's entries dated in [start, end) and the settled months' GSE fees."""
    items = [
        ExpenseItem(
            day=e.document_date,
            category=e.category,
            supplier=e.supplier_name,
            document=f"{e.get_document_kind_display()} {e.document_number}"
            + (f" ({_('reversal')})" if e.reverses_id else ""),
            taxable=e.taxable_eur,
            vat=e.vat_eur,
            total=e.total_eur,
            payment_date=e.payment_date,
            reference=f"expense:{e.pk}",
        )
        for e in Expense.objects.filter(
            community_id=community_id, document_date__gte=start, document_date__lt=end
        )
    ]
    for settled in settled_months(community_id=community_id, start=start, end=end):
        _source, fees = settled.fees
        if fees == 0:
            continue
        items.append(
            ExpenseItem(
                day=settled.month,
                category=ExpenseCategory.GSE_FEES,
                supplier="GSE",
                document=_("GSE fees, %(configuration)s")
                % {"configuration": settled.run.configuration.name},
                taxable=fees,
                vat=ZERO,
                total=fees,
                payment_date=None,
                reference=f"run:{settled.run.pk}:FEES",
            )
        )
    return sorted(items, key=lambda item: (item.day, item.category, item.reference))


def distributed_items(*, community_id: int, start: dt.date, end: dt.date) -> list[DistributedItem]:
    """Per month and configuration, the sum of the signed lines of the current statements."""
    rows = (
        StatementLine.objects.filter(
            statement__configuration__community_id=community_id,
            statement__status=StatementStatus.CURRENT,
            statement__month__gte=start,
            statement__month__lt=end,
        )
        .values("statement__month", "statement__configuration__name")
        .annotate(amount=Sum("amount_eur"))
        .order_by("statement__month", "statement__configuration__name")
    )
    counts: dict[tuple[dt.date, str], int] = defaultdict(int)
    for month, name, _pk in (
        StatementLine.objects.filter(
            statement__configuration__community_id=community_id,
            statement__status=StatementStatus.CURRENT,
            statement__month__gte=start,
            statement__month__lt=end,
        )
        .values_list("statement__month", "statement__configuration__name", "statement_id")
        .distinct()
    ):
        counts[(month, name)] += 1
    return [
        DistributedItem(
            month=row["statement__month"],
            configuration=row["statement__configuration__name"],
            statements=counts[(row["statement__month"], row["statement__configuration__name"])],
            amount=row["amount"] or ZERO,
        )
        for row in rows
    ]


def _figures(
    income: list[IncomeItem], expenses: list[ExpenseItem], distributed: list[DistributedItem]
) -> Figures:
    figures = Figures()
    for item in income:
        figures.income[item.category] = figures.income.get(item.category, ZERO) + item.amount
    for expense in expenses:
        figures.expenses[expense.category] = (
            figures.expenses.get(expense.category, ZERO) + expense.total
        )
    figures.distributed = sum((d.amount for d in distributed), ZERO)
    return figures


def build_report(*, community: Community, period: Period) -> EconomicReport:
    """Collect the period's income, expenses, distribution and balance, month by month."""
    start, end = period.start, period.end
    income = income_items(community_id=community.pk, start=start, end=end)
    expenses = expense_items(community_id=community.pk, start=start, end=end)
    distributed = distributed_items(community_id=community.pk, start=start, end=end)
    by_month = [
        (
            month,
            _figures(
                [i for i in income if i.day in month],
                [e for e in expenses if e.day in month],
                [d for d in distributed if d.month in month],
            ),
        )
        for month in period.months()
    ]
    return EconomicReport(
        community=community,
        period=period,
        totals=_figures(income, expenses, distributed),
        by_month=by_month,
        income_items=income,
        expense_items=expenses,
        distributed_items=distributed,
    )


def actual_figures(*, community: Community, start: dt.date, end: dt.date) -> Figures:
    """The income, expenses and distribution of the days [start, end), by category."""
    return _figures(
        income_items(community_id=community.pk, start=start, end=end),
        expense_items(community_id=community.pk, start=start, end=end),
        distributed_items(community_id=community.pk, start=start, end=end),
    )


def report_title(report: EconomicReport) -> str:
    """The report's title in the reader's language: "CER Bari — economic report 2025"."""
    return _("%(community)s — economic report %(period)s") % {
        "community": report.community.name,
        "period": period_text(report.period),
    }


def report_csv(report: EconomicReport, dialect: CsvDialect = CsvDialect.EXCEL) -> str:
    """Write the report as CSV in `dialect` (Italian Excel: `;` and decimal comma)."""
    out = DialectCsv(dialect)
    for heading, rows in report.sections():
        out.writerow([heading])
        out.writerows(rows)
        out.writerow([])
    return out.content()


def report_xlsx(report: EconomicReport) -> bytes:
    """Write the report as XLSX: amounts exact decimal numbers in a money format."""
    sections = [
        (heading, [[_xlsx_cell(cell) for cell in row] for row in rows])
        for heading, rows in report.sections()
    ]
    return workbook_bytes(sections)


def _xlsx_cell(value: object) -> object:
    # A spreadsheet sorts months by their key ("2025-06"), not by their name in words.
    return value.key if isinstance(value, Period) else value


def report_pdf(report: EconomicReport) -> bytes:
    return table_pdf(report_title(report), report.sections())


# The report's file formats and their content types (web page and API alike).
REPORT_FILE_TYPES = {"csv": "text/csv", "pdf": "application/pdf", "xlsx": XLSX}


def report_file(
    report: EconomicReport, kind: str, dialect: CsvDialect = CsvDialect.EXCEL
) -> tuple[bytes | str, str]:
    """Return the report as a file of `kind` (a key of REPORT_FILE_TYPES) and its type."""
    if kind == "pdf":
        return report_pdf(report), REPORT_FILE_TYPES[kind]
    if kind == "xlsx":
        return report_xlsx(report), REPORT_FILE_TYPES[kind]
    if kind == "csv":
        return report_csv(report, dialect), REPORT_FILE_TYPES[kind]
    raise ValueError(f"unknown report format {kind!r}")
