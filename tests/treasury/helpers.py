"""A manager, an entry of the ledger that passes every check, and a GSE amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cer.communities.models import Community
from cer.settlement.models import GseAmount
from cer.treasury import ledger
from tests.factories.identifiers import valid_vat_number

NOW = dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC)


def expense_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "supplier_name": "Studio Rossi",
        "supplier_code": valid_vat_number(77),
        "document_kind": "INVOICE",
        "document_number": "12/2025",
        "document_date": dt.date(2025, 6, 10),
        "category": "MANAGEMENT",
        "taxable_eur": "1000.00",
        "vat_rate": "22",
        "vat_eur": "220.00",
    }
    values.update(overrides)
    return values


def add_expense(community: Community, **overrides: Any):
    return ledger.record_expense(
        community=community, actor=None, now=NOW, **expense_values(**overrides)
    )


def certify(configuration, month: dt.date, kind: str, amount: str) -> GseAmount:
    return GseAmount.objects.create(
        configuration=configuration,
        month=month,
        kind=kind,
        amount_eur=Decimal(amount),
        certified=True,
        reference=f"{kind}-{month:%Y%m}",
        imported_at=NOW,
    )
