"""Exact totals of an invoice: line totals, the VAT summary and the document total [EUR].

docs/algorithms/invoices.md: a line total is quantity x unit price rounded half up to the
cent; per (rate, Natura) the taxable amount is the sum of its line totals and the tax is
taxable x rate rounded half up to the cent; the document total is taxable plus tax. Both the
invoice workflow (invoices.py) and the FatturaPA writer (fatturapa.py) read them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cercalc.money import round_eur

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    """One line as the user typed it: quantity and unit price up to 8 decimals."""

    description: str
    quantity: Decimal
    unit_price_eur: Decimal
    vat_rate: Decimal
    natura: str = ""


@dataclass(frozen=True)
class SummaryRow:
    """One row of the VAT summary (FatturaPA `DatiRiepilogo`)."""

    vat_rate: Decimal
    natura: str
    taxable_eur: Decimal
    tax_eur: Decimal


@dataclass(frozen=True)
class Totals:
    line_totals_eur: tuple[Decimal, ...]
    summary: tuple[SummaryRow, ...]
    taxable_eur: Decimal
    tax_eur: Decimal
    total_eur: Decimal


def compute_totals(lines: Sequence[LineInput]) -> Totals:
    """Compute line totals, the VAT summary and the document totals [EUR], exactly.

    Rounding is half up to the cent, once per line total and once per summary tax
    (docs/algorithms/invoices.md). Decimal arithmetic on values of at most 8 decimals
    is exact here: Fraction-based round_eur does not depend on the Decimal context.
    """
    line_totals = tuple(round_eur(line.quantity * line.unit_price_eur) for line in lines)
    taxable_by_key: dict[tuple[Decimal, str], Decimal] = {}
    for line, total in zip(lines, line_totals, strict=True):
        key = (line.vat_rate, line.natura)
        taxable_by_key[key] = taxable_by_key.get(key, Decimal("0.00")) + total
    summary = tuple(
        SummaryRow(
            vat_rate=rate,
            natura=natura,
            taxable_eur=taxable,
            tax_eur=round_eur(taxable * rate / HUNDRED),
        )
        for (rate, natura), taxable in sorted(
            taxable_by_key.items(), key=lambda item: (-item[0][0], item[0][1])
        )
    )
    taxable_eur = sum((row.taxable_eur for row in summary), Decimal("0.00"))
    tax_eur = sum((row.tax_eur for row in summary), Decimal("0.00"))
    return Totals(
        line_totals_eur=line_totals,
        summary=summary,
        taxable_eur=taxable_eur,
        tax_eur=tax_eur,
        total_eur=taxable_eur + tax_eur,
    )
