"""The worked example of docs/algorithms/invoices.md and small invoice builders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.billing.invoices import create_draft
from cer.billing.models import Invoice, InvoicingProfile
from cer.billing.totals import LineInput
from cer.communities.models import Community

NOW = dt.datetime(2025, 3, 30, 9, 0, tzinfo=dt.UTC)

# docs/algorithms/invoices.md, table 1.
WORKED_LINES = [
    LineInput("Quota associativa 2025", Decimal("3"), Decimal("12.50"), Decimal("22")),
    LineInput("Monitoraggio impianto [ore]", Decimal("2.5"), Decimal("10.05"), Decimal("22")),
    LineInput("Consulenza energetica [ore]", Decimal("1.333"), Decimal("30"), Decimal("10")),
    LineInput("Contributo di adesione", Decimal("1"), Decimal("15"), Decimal("0"), "N2.2"),
    LineInput("Energia [kWh]", Decimal("123.456"), Decimal("0.11823456"), Decimal("22")),
]

THIRD_PARTY = {
    "member": None,
    "customer_name": "Bottega Verde S.r.l.",
    "customer_first_name": "",
    "customer_last_name": "",
    "customer_fiscal_code": "",
    "customer_vat_number": "01234560279",
    "customer_address": "Via Roma 10",
    "customer_postal_code": "30038",
    "customer_city": "Spinea",
    "customer_province": "VE",
    "customer_country": "IT",
    "sdi_code": "ABC1234",
    "customer_pec": "",
}


def ready_to_invoice(community: Community) -> Community:
    """Give the community what issuing needs: a VAT number and a postal code."""
    community.vat_number = community.fiscal_code
    community.save(update_fields=["vat_number"])
    InvoicingProfile.objects.update_or_create(
        community=community,
        defaults={"seat_postal_code": "30038", "iban": "IT60X0542811101000000123456"},
    )
    return community


def make_draft_invoice(community: Community, lines: list[LineInput] | None = None) -> Invoice:
    return create_draft(
        community=community,
        customer=dict(THIRD_PARTY),
        lines=lines or WORKED_LINES,
        actor=None,
        now=NOW,
    )


def bare_draft(community: Community) -> Invoice:
    """A draft without lines or audit entry: a target for the access tests."""
    fields = {k: v for k, v in THIRD_PARTY.items() if k != "member"}
    return Invoice.objects.create(community=community, created_at=NOW, **fields)
