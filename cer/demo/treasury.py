"""The demo community's 2025 accounts: expenses in several categories and a budget.

Stored through the same services as the pages (cer.treasury.ledger and budget), so every
entry passes the ledger's checks. Idempotent: a community that has any 2025 budget line
already keeps what it has. GSE income and fees, and what members received, are not typed
here: the economic report reads them from settlement and distribution.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.communities.models import Community
from cer.demo.roster import numeric_fiscal_code
from cer.treasury import budget, ledger
from cer.treasury.models import BudgetLine

YEAR = 2025

# (supplier, serial of its tax code, category, number, date, taxable, VAT rate, paid on)
EXPENSES: tuple[tuple[str, int, str, str, dt.date, str, str, dt.date | None], ...] = (
    (
        "Studio Commercialista Zanin",
        5101,
        "MANAGEMENT",
        "14/2025",
        dt.date(2025, 3, 31),
        "1200.00",
        "22",
        dt.date(2025, 4, 15),
    ),
    (
        "Studio Commercialista Zanin",
        5101,
        "MANAGEMENT",
        "61/2025",
        dt.date(2025, 9, 30),
        "1200.00",
        "22",
        dt.date(2025, 10, 14),
    ),
    (
        "Termotecnica Veneta Srl",
        5102,
        "TECHNICAL",
        "A-233",
        dt.date(2025, 5, 20),
        "850.00",
        "22",
        dt.date(2025, 6, 3),
    ),
    (
        "Assicurazioni Laguna Spa",
        5103,
        "INSURANCE",
        "POL-2025-118",
        dt.date(2025, 1, 15),
        "640.00",
        "0",
        dt.date(2025, 1, 31),
    ),
    (
        "Avv. Giulia Bortolato",
        5104,
        "LEGAL",
        "7/2025",
        dt.date(2025, 2, 10),
        "900.00",
        "22",
        dt.date(2025, 2, 28),
    ),
    (
        "CerCollettiva Hosting Srl",
        5105,
        "PLATFORM",
        "H-2025-12",
        dt.date(2025, 12, 1),
        "480.00",
        "22",
        None,
    ),
    (
        "Tipografia Spinea",
        5106,
        "OTHER",
        "88",
        dt.date(2025, 4, 2),
        "150.00",
        "22",
        dt.date(2025, 4, 2),
    ),
)

BUDGET: dict[tuple[str, str], str] = {
    ("INCOME", "GSE"): "9000.00",
    ("INCOME", "GRANTS"): "0.00",
    ("INCOME", "FEES"): "1000.00",
    ("INCOME", "OTHER"): "0.00",
    ("EXPENSE", "MANAGEMENT"): "2800.00",
    ("EXPENSE", "TECHNICAL"): "1000.00",
    ("EXPENSE", "INSURANCE"): "640.00",
    ("EXPENSE", "LEGAL"): "500.00",
    ("EXPENSE", "GSE_FEES"): "400.00",
    ("EXPENSE", "PLATFORM"): "600.00",
    ("EXPENSE", "OTHER"): "200.00",
}


def store_accounts(*, community: Community, now: dt.datetime) -> int:
    """Record the demo's 2025 expenses and budget unless present; return the entries added."""
    if BudgetLine.objects.filter(community=community, year=YEAR).exists():
        return 0
    for supplier, serial, category, number, day, taxable, rate, paid in EXPENSES:
        amount = Decimal(taxable)
        ledger.record_expense(
            community=community,
            supplier_name=supplier,
            supplier_code=numeric_fiscal_code(serial),
            document_kind="INVOICE",
            document_number=number,
            document_date=day,
            category=category,
            taxable_eur=amount,
            vat_rate=rate,
            vat_eur=ledger.expected_vat(taxable_eur=amount, vat_rate=Decimal(rate)),
            payment_date=paid,
            payment_method="BANK_TRANSFER" if paid else "",
            actor=None,
            now=now,
        )
    budget.set_budget(community=community, year=YEAR, amounts=BUDGET, actor=None, now=now)
    return len(EXPENSES)
