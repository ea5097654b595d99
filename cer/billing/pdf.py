"""PDF documents with reportlab: the member statement, the community report, invoices."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from cer.billing.explain import StatementFigures
from cercalc.money import format_fixed

_STYLES = getSampleStyleSheet()


def _table(rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None) -> Table:
    table = Table([[str(cell) for cell in row] for row in rows], colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _render(title: str, story: list[Flowable]) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="CerCollettiva",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue()


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
                [_("Injected into the grid"), data.injected_kwh],
                [_("Withdrawn from the grid"), data.withdrawn_kwh],
                [_("Your part of the shared energy as a consumer"), data.consumer_shared_kwh],
                [_("Shared energy from your plants"), data.producer_shared_kwh],
                [_("Shared energy of the whole community"), data.community_shared_kwh],
                [_("Hours of membership in the month"), f"{data.active_hours} / {data.hours}"],
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
                    row.line.description,
                    row.line.amount_eur,
                    row.running_eur,
                ]
                for row in ledger.rows
            ]
            + [[_("Total"), "", statement.amount_eur, ""]],
            [45 * mm, 85 * mm, 20 * mm, 20 * mm],
        ),
        Spacer(1, 2 * mm),
        Paragraph(
            _text(
                _("Paid so far: %(paid)s EUR.") % {"paid": ledger.position.paid_eur}
                + (
                    " "
                    + _("You owe back %(owed)s EUR: it will be netted against your next payouts.")
                    % {"owed": ledger.position.owed_eur}
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
    story: list[Flowable] = [Paragraph(_text(title), _STYLES["Title"])]
    for heading, rows in sections:
        story.append(Paragraph(_text(heading), _STYLES["Heading3"]))
        story.append(_table(rows))
        story.append(Spacer(1, 4 * mm))
    return _render(title, story)


def invoice_pdf(invoice: Any, totals: Any) -> bytes:
    """Render a readable copy of an invoice; the FatturaPA file remains the legal document."""
    title = (
        _("Invoice %(number)s of %(date)s")
        % {"number": invoice.display_number, "date": invoice.issue_date}
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
            format_fixed(line.quantity, max_places=8),
            format_fixed(line.unit_price_eur, max_places=8),
            line.natura or f"{line.vat_rate} %",
            line.total_eur,
        ]
        for line in invoice.lines.all()
    ]
    summary = [[_("VAT"), _("Taxable"), _("Tax")]] + [
        [row.natura or f"{row.vat_rate} %", row.taxable_eur, row.tax_eur] for row in totals.summary
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
