"""The economic report shows the same figures as settlement and distribution, every format."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from cer.billing.models import Statement, StatementLine, StatementStatus
from cer.core.csv_export import CsvDialect
from cer.treasury.report import build_report, report_csv, report_pdf, report_xlsx
from cercalc import periods
from tests.factories.billing import distributed_small
from tests.treasury.helpers import add_expense, certify

pytestmark = pytest.mark.django_db

JUNE = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def june(django_db_setup, django_db_blocker):
    """June 2025 settled and distributed, built once; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield distributed_small()
        transaction.set_rollback(True)


def _statements_total(community) -> Decimal:
    return Statement.objects.filter(
        configuration__community=community, status=StatementStatus.CURRENT
    ).aggregate(total=Sum("amount_eur"))["total"]


def test_gse_income_fees_and_distribution_equal_settlement_and_statements(june):
    small, distribution = june
    run = distribution.run

    report = build_report(community=small.community, period=periods.month(2025, 6))

    assert report.totals.income["GSE"] == run.incentive_eur + run.valorisation_eur
    assert report.totals.expenses["GSE_FEES"] == run.gse_fees_eur
    assert report.totals.distributed == _statements_total(small.community)
    lines = StatementLine.objects.filter(statement__status=StatementStatus.CURRENT).aggregate(
        total=Sum("amount_eur")
    )["total"]
    assert report.totals.distributed == lines > 0
    assert report.totals.balance == (
        report.totals.income_total - report.totals.expense_total - report.totals.distributed
    )
    # What stays with the community is the distribution's pots: the income less the fees
    # less what members received.
    pots = sum((Decimal(pot["amount_eur"]) for pot in distribution.pots), Decimal(0))
    assert report.totals.balance == pots


def test_certified_gse_amounts_replace_our_settlement_in_the_report(june):
    small, distribution = june
    run = distribution.run
    certify(small.configuration, JUNE, "TIP", "999.99")

    with translation.override("en"):
        report = build_report(community=small.community, period=periods.month(2025, 6))

    assert report.totals.income["GSE"] == Decimal("999.99") + run.valorisation_eur
    assert any("certified" in item.description for item in report.income_items)


def test_month_quarter_and_year_agree_and_expenses_count_by_document_date(june):
    small, _distribution = june
    add_expense(small.community, document_date=dt.date(2025, 6, 30))
    add_expense(small.community, document_number="13/2025", document_date=dt.date(2025, 7, 1))

    month = build_report(community=small.community, period=periods.month(2025, 6))
    quarter = build_report(community=small.community, period=periods.quarter(2025, 2))
    year = build_report(community=small.community, period=periods.year(2025))

    assert month.totals.expenses["MANAGEMENT"] == Decimal("1220.00")
    assert quarter.totals.balance == month.totals.balance
    assert year.totals.expenses["MANAGEMENT"] == Decimal("2440.00")
    assert year.totals.balance == month.totals.balance - Decimal("1220.00")
    assert sum((f.balance for _m, f in year.by_month), Decimal(0)) == year.totals.balance
    assert len(year.by_month) == 12


def test_the_csv_is_in_the_italian_dialect_with_decimal_commas(june):
    small, _distribution = june
    add_expense(small.community, taxable_eur="1234.50", vat_eur="271.59")

    text = report_csv(build_report(community=small.community, period=periods.year(2025)))

    assert ";" in text
    assert "1.506,09" in text
    assert "1506.09" not in text
    plain = report_csv(
        build_report(community=small.community, period=periods.year(2025)), CsvDialect.PLAIN
    )
    assert "1506.09" in plain


def test_the_xlsx_holds_exact_decimals_and_the_pdf_is_a_pdf(june):
    small, _distribution = june
    add_expense(small.community, taxable_eur="86.46", vat_eur="19.02")
    report = build_report(community=small.community, period=periods.year(2025))

    content = report_xlsx(report)
    pdf = report_pdf(report)

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )
    assert "<v>105.48</v>" in sheets
    assert "99999" not in sheets
    assert pdf.startswith(b"%PDF")
