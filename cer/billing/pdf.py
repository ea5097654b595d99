"""PDF documents with reportlab: the member statement, the community report, invoices.

Table cells hold values (Decimal, int, dates, periods) and are written by
cer.core.csv_export.cell_text in the reader's language; every cell wraps within its column,
and a table too wide for a portrait page puts the document in landscape.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from cer.billing.explain import StatementFigures
from cer.core import formatting
from cer.core.csv_export import cell_text
from cercalc.money import format_fixed, format_kwh

_STYLES = getSampleStyleSheet()
_CELL = ParagraphStyle("cell", parent=_STYLES["BodyText"], fontSize=8, leading=10)
_CELL_NUMBER = ParagraphStyle("cell_number", parent=_CELL, alignment=TA_RIGHT)
_CELL_HEAD = ParagraphStyle("cell_head", parent=_CELL, fontName="Helvetica-Bold")
_MARGIN = 18 * mm
# reportlab's default left and right padding of a table cell [pt].
_CELL_PADDING = 6
# A table with more columns than this is laid out on a landscape page: the community
# report's monthly table has nine, which do not fit the 174 mm of a portrait A4 page.
_PORTRAIT_COLUMNS = 5


def _cell(value: object, *, head: bool) -> Paragraph:
    # Every cell is a Paragraph, so a long name or description wraps inside its column
    # instead of running off the page; numbers, dates and months go through cell_text.
    style = (
        _CELL_HEAD
        if head
        else _CELL_NUMBER
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool)
        else _CELL
    )
    return Paragraph(_text(cell_text(value)), style)


def _widths(rows: Sequence[Sequence[object]], available: float) -> list[float]:
    """Share the page's width among the columns.

    Each column first gets room for its longest word (a word is never broken, so a
    narrower column would let it run into its neighbour); what is left goes by the length
    of the column's longest text.
    """
    columns = max((len(row) for row in rows), default=1)
    floor = [0.0] * columns
    weights = [4] * columns
    for index_row, row in enumerate(rows):
        font = "Helvetica-Bold" if index_row == 0 else "Helvetica"
        for index, value in enumerate(row):
            text = cell_text(value)
            longest = max(
                (stringWidth(word, font, _CELL.fontSize) for word in text.split()), default=0
            )
            floor[index] = max(floor[index], longest + 2 * _CELL_PADDING)
            weights[index] = max(weights[index], min(len(text), 40))
    spare = max(available - sum(floor), 0)
    total = sum(weights)
    widths = [low + spare * weight / total for low, weight in zip(floor, weights, strict=True)]
    # Words too long for the page altogether: scale down rather than run off the edge.
    scale = min(1.0, available / sum(widths))
    return [width * scale for width in widths]


def _table(
    rows: Sequence[Sequence[object]],
    widths: Sequence[float] | None = None,
    *,
    available: float = A4[0] - 2 * _MARGIN,
) -> Table:
    columns = max((len(row) for row in rows), default=1)
    cells = [
        [_cell(value, head=index == 0) for value in row] + [""] * (columns - len(row))
        for index, row in enumerate(rows)
    ]
    table = Table(cells, colWidths=widths or _widths(rows, available), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _render(title: str, story: list[Flowable], *, wide: bool = False) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4) if wide else A4,
        title=title,
        author="CerCollettiva",
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
    )
    document.build(story)
    return buffer.getvalue()


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _kwh(energy_wh: int) -> Decimal:
    # kWh with three decimals, exactly; the table writes it in the reader's language.
    return Decimal(format_kwh(energy_wh))


def statement_pdf(data: StatementFigures) -> bytes:
    """Render a member's statement: figures, the arithmetic in words, the lines, the total."""
    statement = data.statement
    community = statement.configuration.community
    story: list[Flowable] = [
        Paragraph(_text(community.name), _STYLES["Title"]),
        Paragraph(
            _text(
                _("Statement for %(month)s — %(member)s (version %(version)s)")
                % {
                    "month": data.month_label,
                    "member": statement.member_name,
                    "version": statement.version,
                }
            ),
            _STYLES["Heading2"],
        ),
    ]
    if statement.distribution.run.amounts_provisional:
        story.append(
            Paragraph(
                _text(
                    _(
                        "PROVISIONAL: the month's settlement is not final yet, so these "
                        "amounts may still change."
                    )
                ),
                _STYLES["Heading3"],
            )
        )
    story += [
        Spacer(1, 4 * mm),
        _table(
            [
                [_("Your energy"), "kWh"],
                [_("Injected into the grid"), _kwh(data.injected_wh)],
                [_("Withdrawn from the grid"), _kwh(data.withdrawn_wh)],
                [_("Your part of the shared energy as a consumer"), _kwh(data.consumer_shared_wh)],
                [_("Shared energy from your plants"), _kwh(data.producer_shared_wh)],
                [_("Shared energy of the whole community"), _kwh(data.community_shared_wh)],
                [
                    _("Hours of membership in the month"),
                    f"{formatting.number(data.active_hours)} / {formatting.number(data.hours)}",
                ],
            ],
            [120 * mm, 50 * mm],
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                [_("Rates"), "EUR/MWh"],
                [_("Incentive tariff, average"), data.average_tariff_eur_per_mwh],
                [_("Valorisation"), data.valorisation_eur_per_mwh],
            ],
            [120 * mm, 50 * mm],
        ),
        Spacer(1, 4 * mm),
    ]
    if data.amount_sources:
        story += [
            _table(
                [[_("Where the month's amount comes from"), "", "EUR"]]
                + [[part, source, amount] for part, source, amount in data.amount_sources],
                [60 * mm, 75 * mm, 35 * mm],
            ),
            Spacer(1, 4 * mm),
        ]
    story.append(Paragraph(_text(_("How your amount was computed")), _STYLES["Heading3"]))
    story += [
        Paragraph(_text(f"{n}. {step}"), _STYLES["BodyText"])
        for n, step in enumerate(data.steps, start=1)
    ]
    ledger = data.ledger
    story += [
        Spacer(1, 4 * mm),
        _table(
            [[_("Kind"), _("Line"), "EUR", _("Position")]]
            + [
                [
                    row.kind_label,
                    row.line.shown_description,
                    row.line.amount_eur,
                    row.running_eur,
                ]
                for row in ledger.rows
            ]
            + [[_("Total"), "", statement.amount_eur, ""]],
            # Widths from the texts, so no heading breaks inside a word ("Saldo
            # progressivo" needs more than a fixed 20 mm in bold).
        ),
        Spacer(1, 2 * mm),
        Paragraph(
            _text(
                _("Paid so far: %(paid)s EUR.")
                % {"paid": formatting.number(ledger.position.paid_eur, 2)}
                + (
                    " "
                    + _("You owe back %(owed)s EUR: it will be netted against your next payouts.")
                    % {"owed": formatting.number(ledger.position.owed_eur, 2)}
                    if ledger.position.owed_eur
                    else ""
                )
            ),
            _STYLES["BodyText"],
        ),
    ]
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            _text(_("Paid by bank transfer to the account on file with the community.")),
            _STYLES["BodyText"],
        )
    )
    return _render(_("Statement"), story)


def table_pdf(title: str, sections: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """Render a titled document made of headed tables (the community report)."""
    wide = any(len(row) > _PORTRAIT_COLUMNS for _heading, rows in sections for row in rows)
    page_width = landscape(A4)[0] if wide else A4[0]
    story: list[Flowable] = [Paragraph(_text(title), _STYLES["Title"])]
    for heading, rows in sections:
        story.append(Paragraph(_text(heading), _STYLES["Heading3"]))
        story.append(_table(rows, available=page_width - 2 * _MARGIN))
        story.append(Spacer(1, 4 * mm))
    return _render(title, story, wide=wide)


def invoice_pdf(invoice: Any, totals: Any) -> bytes:
    """Render a readable copy of an invoice; the FatturaPA file remains the legal document."""
    title = (
        _("Invoice %(number)s of %(date)s")
        % {"number": invoice.display_number, "date": formatting.day(invoice.issue_date)}
        if invoice.number is not None
        else _("Draft invoice")
    )
    if invoice.document_type == "TD04":
        title = _("Credit note %(number)s") % {"number": invoice.display_number or "—"}
    parties = [
        [_("Issuer"), _("Customer")],
        [invoice.issuer_name or invoice.community.name, invoice.customer_name],
        [
            _("VAT number %(code)s")
            % {"code": invoice.issuer_vat_number or invoice.community.vat_number},
            invoice.customer_vat_number or invoice.customer_fiscal_code,
        ],
        [
            f"{invoice.issuer_address} {invoice.issuer_postal_code} {invoice.issuer_city}",
            f"{invoice.customer_address} {invoice.customer_postal_code} {invoice.customer_city}",
        ],
    ]
    lines = [[_("Description"), _("Quantity"), _("Unit price"), _("VAT"), "EUR"]] + [
        [
            line.description,
            Decimal(format_fixed(line.quantity, max_places=8)),
            Decimal(format_fixed(line.unit_price_eur, max_places=8)),
            line.natura or _vat_rate(line.vat_rate),
            line.total_eur,
        ]
        for line in invoice.lines.all()
    ]
    summary = [[_("VAT"), _("Taxable"), _("Tax")]] + [
        [row.natura or _vat_rate(row.vat_rate), row.taxable_eur, row.tax_eur]
        for row in totals.summary
    ]
    summary.append([_("Total"), totals.taxable_eur, totals.tax_eur])
    summary.append([_("Amount due"), "", totals.total_eur])
    sections: list[tuple[str, Sequence[Sequence[object]]]] = [
        (_("Parties"), parties),
        (_("Lines"), lines),
        (_("VAT summary"), summary),
    ]
    if invoice.iban:
        sections.append((_("Payment"), [[_("Bank transfer to"), invoice.iban]]))
    return table_pdf(title, sections)


def _vat_rate(rate: Decimal) -> str:
    """A VAT rate as a percentage, decimals only when it has them: "22 %", "5,5 %"."""
    return formatting.percent(rate, 0 if rate == rate.to_integral_value() else 2)
