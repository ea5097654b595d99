"""Invoices issued by a community: drafts, exact totals, gap-free numbering, issue, credit notes.

The platform does not decide the tax treatment: the user chooses per line the VAT rate or,
at 0 %, the reason (Natura); the platform only checks that the two agree. Totals follow
docs/algorithms/invoices.md: a line total is quantity x unit price rounded half up to the
cent; per (rate, Natura) the taxable amount is the sum of its line totals and the tax is
taxable x rate rounded half up to the cent; the document total is taxable plus tax.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing.models import (
    VAT_RATES,
    DocumentType,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTransmission,
    InvoicingProfile,
    Natura,
)
from cer.billing.totals import LineInput, compute_totals
from cer.communities.models import Community
from cer.core.validators import normalise_code
from cer.members.changes import mask_iban

logger = logging.getLogger(__name__)

MAX_PLACES = 8


class InvoiceError(Exception):
    """An invoice operation that is not possible; `fields` names the inputs at fault."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvoiceAlreadyIssued(InvoiceError):
    """The invoice is no longer a draft: it cannot be changed or issued again."""


# What the managers set on the invoicing settings page; the transmission counter is not.
PROFILE_FIELDS = ("regime_fiscale", "seat_postal_code", "iban")


def save_invoicing_profile(
    *, profile: InvoicingProfile, actor: Any, now: dt.datetime
) -> InvoicingProfile:
    """Save the community's invoicing settings and log what changed, the IBAN masked.

    The IBAN is printed on every invoice as the account to pay: a change moves money.
    """
    with transaction.atomic():
        stored = (
            InvoicingProfile.objects.select_for_update().filter(pk=profile.pk).first()
            if profile.pk
            else None
        )
        if stored is None:
            profile.save()
        else:
            # Never the transmission counter: it moves under its own lock.
            profile.save(update_fields=list(PROFILE_FIELDS))
        changes = {}
        for name in PROFILE_FIELDS:
            old = getattr(stored, name) if stored is not None else ""
            new = getattr(profile, name)
            if old != new:
                changes[name] = [mask_iban(old), mask_iban(new)] if name == "iban" else [old, new]
        if changes:
            record(
                actor=actor,
                code="billing.invoicing_profile.changed",
                now=now,
                target=profile,
                community=profile.community,
                changes=changes,
            )
    return profile


def line_problems(line: LineInput) -> dict[str, list[str]]:
    """Return the problems of one line by field name; empty when the line is acceptable."""
    problems: dict[str, list[str]] = {}
    if not line.description.strip():
        problems["description"] = [_("Describe what is invoiced.")]
    for name, value in (("quantity", line.quantity), ("unit_price_eur", line.unit_price_eur)):
        if not value.is_finite() or -value.as_tuple().exponent > MAX_PLACES:  # type: ignore[operator]
            problems[name] = [_("At most 8 decimals.")]
    if line.quantity.is_finite() and line.quantity <= 0:
        problems["quantity"] = [_("The quantity must be positive.")]
    if line.unit_price_eur.is_finite() and line.unit_price_eur < 0:
        problems["unit_price_eur"] = [
            _("A negative price is not allowed: correct with a credit note.")
        ]
    if line.vat_rate not in VAT_RATES:
        problems["vat_rate"] = [_("Choose 22, 10, 5, 4 or 0 %.")]
    elif line.vat_rate == 0 and line.natura not in Natura.values:
        problems["natura"] = [_("A line at 0 % needs the reason (Natura) you choose.")]
    elif line.vat_rate != 0 and line.natura:
        problems["natura"] = [_("A line with VAT has no Natura.")]
    return problems


def invoice_lines(invoice: Invoice) -> list[LineInput]:
    """The stored lines of an invoice as inputs of compute_totals."""
    return [
        LineInput(
            description=line.description,
            quantity=line.quantity,
            unit_price_eur=line.unit_price_eur,
            vat_rate=line.vat_rate,
            natura=line.natura,
        )
        for line in invoice.lines.all()
    ]


# Drafts ---------------------------------------------------------------------------------


CUSTOMER_FIELDS = (
    "member",
    "customer_name",
    "customer_first_name",
    "customer_last_name",
    "customer_fiscal_code",
    "customer_vat_number",
    "customer_address",
    "customer_postal_code",
    "customer_city",
    "customer_province",
    "customer_country",
    "sdi_code",
    "customer_pec",
)


def customer_from_member(member: Any) -> dict[str, Any]:
    """The customer fields of an invoice to a member, copied from the member's record."""
    natural = member.kind == "NATURAL"
    municipality = member.municipality
    return {
        "member": member,
        "customer_name": member.display_name[:80],
        "customer_first_name": member.first_name[:60] if natural else "",
        "customer_last_name": member.last_name[:60] if natural else "",
        "customer_fiscal_code": normalise_code(member.fiscal_code or ""),
        "customer_vat_number": normalise_code(member.vat_number or "").removeprefix("IT"),
        "customer_address": member.address[:60],
        "customer_city": municipality.name[:60] if municipality else "",
        "customer_province": municipality.province_abbr if municipality else "",
        "customer_pec": member.pec or "",
    }


def customer_problems(customer: dict[str, Any]) -> dict[str, list[str]]:
    """Return the problems of the customer's data by field name."""
    problems: dict[str, list[str]] = {}
    if not (customer.get("customer_fiscal_code") or customer.get("customer_vat_number")):
        problems["customer_fiscal_code"] = [_("Give the customer's tax code or VAT number.")]
    if not str(customer.get("customer_name", "")).strip():
        problems["customer_name"] = [_("Give the customer's name.")]
    sdi_code = customer.get("sdi_code") or "0000000"
    if sdi_code != "0000000" and customer.get("customer_pec"):
        problems["customer_pec"] = [_("Give either a destination code or a PEC address, not both.")]
    return problems


def create_draft(
    *,
    community: Community,
    customer: dict[str, Any],
    lines: Sequence[LineInput],
    actor: Any,
    now: dt.datetime,
) -> Invoice:
    """Write a draft invoice with its lines and totals; record `billing.invoice.created`.

    `customer` holds the customer fields (CUSTOMER_FIELDS); with a `member`, the member's
    record fills whatever is not given. Raises InvoiceError naming the fields at fault
    (`lines[1].vat_rate`).
    """
    values = dict(customer)
    member = values.get("member")
    if member is not None:
        values = {**customer_from_member(member), **{k: v for k, v in values.items() if v}}
    values["sdi_code"] = normalise_code(values.get("sdi_code") or "") or "0000000"
    values["customer_fiscal_code"] = normalise_code(values.get("customer_fiscal_code") or "")
    values["customer_vat_number"] = normalise_code(
        values.get("customer_vat_number") or ""
    ).removeprefix("IT")
    problems = customer_problems(values)
    if not lines:
        problems["lines"] = [_("An invoice needs at least one line.")]
    for index, line in enumerate(lines):
        for name, messages in line_problems(line).items():
            problems[f"lines[{index}].{name}"] = messages
    if problems:
        raise InvoiceError(_("The invoice is not valid; see the fields."), problems)
    totals = compute_totals(lines)
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise InvoiceError(f"unknown customer fields: {sorted(unknown)}")
    with transaction.atomic():
        invoice = Invoice.objects.create(
            community=community,
            created_at=now,
            taxable_eur=totals.taxable_eur,
            tax_eur=totals.tax_eur,
            total_eur=totals.total_eur,
            **values,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price_eur=line.unit_price_eur,
                vat_rate=line.vat_rate,
                natura=line.natura if line.vat_rate == 0 else "",
                total_eur=total,
            )
            for position, (line, total) in enumerate(
                zip(lines, totals.line_totals_eur, strict=True), start=1
            )
        )
        record(
            actor=actor,
            code="billing.invoice.created",
            now=now,
            target=invoice,
            community=community,
            changes={"total_eur": str(totals.total_eur), "lines": len(lines)},
        )
    return invoice


# Issue ----------------------------------------------------------------------------------


def next_number(*, community: Community, year: int) -> int:
    """Allocate the next invoice number of the community's year, without gaps.

    Must run inside the caller's transaction: the counter row stays locked until it
    commits, so a second issue waits and a rolled-back issue gives its number back.
    """
    InvoiceCounter.objects.bulk_create(
        [InvoiceCounter(community=community, year=year)], ignore_conflicts=True
    )
    counter = InvoiceCounter.objects.select_for_update().get(community=community, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def next_transmission(community: Community) -> str:
    """Allocate the community's next file progressive (ProgressivoInvio), under a row lock."""
    InvoicingProfile.objects.bulk_create(
        [InvoicingProfile(community=community)], ignore_conflicts=True
    )
    profile = InvoicingProfile.objects.select_for_update().get(community=community)
    profile.last_transmission += 1
    profile.save(update_fields=["last_transmission"])
    return _base36(profile.last_transmission)


def _base36(value: int) -> str:
    # FatturaPA ProgressivoInvio: 1 to 5 letters or digits; base 36 gives 60 million files.
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while value:
        value, remainder = divmod(value, 36)
        text = digits[remainder] + text
    return text.rjust(5, "0")


def issuer_problems(community: Community, profile: InvoicingProfile | None) -> dict[str, list[str]]:
    """What the community's data lack for issuing an invoice."""
    problems: dict[str, list[str]] = {}
    if not community.vat_number:
        # FatturaPA identifies the issuer by its VAT number (CedentePrestatore/IdFiscaleIVA).
        problems["vat_number"] = [_("The community needs a VAT number to issue invoices.")]
    if profile is None or not profile.seat_postal_code:
        problems["seat_postal_code"] = [
            _("Set the postal code of the registered office in the invoicing settings.")
        ]
    return problems


def issue_invoice(*, invoice: Invoice, actor: Any, now: dt.datetime) -> Invoice:
    """Give a draft its number and date, copy the issuer's data, build its FatturaPA file.

    The number is the next of the community's calendar year (Europe/Rome) under a row
    lock; records `billing.invoice.issued`. A credit note, once issued, marks the invoice
    it credits as cancelled. Raises InvoiceAlreadyIssued for an invoice that is not a
    draft, InvoiceError when the community's invoicing data are incomplete.
    """
    from cer.billing.fatturapa import build_xml, file_name

    with transaction.atomic():
        locked = (
            Invoice.objects.select_for_update()
            .select_related("community__seat_municipality")
            .get(pk=invoice.pk)
        )
        if locked.status != InvoiceStatus.DRAFT:
            raise InvoiceAlreadyIssued(_("This invoice has already been issued."))
        community = locked.community
        profile = InvoicingProfile.objects.filter(community=community).first()
        problems = issuer_problems(community, profile)
        if not locked.lines.exists():
            problems["lines"] = [_("An invoice needs at least one line.")]
        if problems:
            raise InvoiceError(_("The community's invoicing data are incomplete."), problems)
        assert profile is not None
        issue_date = timezone.localdate(now)
        totals = compute_totals(invoice_lines(locked))
        locked.year = issue_date.year
        locked.number = next_number(community=community, year=issue_date.year)
        locked.issue_date = issue_date
        locked.issuer_name = community.name[:80]
        locked.issuer_fiscal_code = community.fiscal_code
        locked.issuer_vat_number = community.vat_number
        locked.issuer_address = community.seat_address[:60]
        locked.issuer_postal_code = profile.seat_postal_code
        locked.issuer_city = community.seat_municipality.name[:60]
        locked.issuer_province = community.seat_municipality.province_abbr
        locked.regime_fiscale = profile.regime_fiscale
        locked.iban = profile.iban
        locked.taxable_eur = totals.taxable_eur
        locked.tax_eur = totals.tax_eur
        locked.total_eur = totals.total_eur
        locked.transmission_number = next_transmission(community)
        locked.file_name = file_name(locked)
        locked.status = InvoiceStatus.ISSUED
        locked.issued_at = now
        locked.xml = build_xml(locked, totals).decode("utf-8")
        # The draft is still DRAFT in the database, so this save passes the immutability check.
        locked.save()
        InvoiceTransmission.objects.create(
            invoice=locked,
            transmission_number=locked.transmission_number,
            file_name=locked.file_name,
            xml=locked.xml,
            created_at=now,
        )
        if locked.document_type == DocumentType.TD04 and locked.original_id:
            original = Invoice.objects.select_for_update().get(pk=locked.original_id)
            original.status = InvoiceStatus.CANCELLED
            original.save(update_fields=["status"])
        record(
            actor=actor,
            code="billing.invoice.issued",
            now=now,
            target=locked,
            community=community,
            changes={"number": locked.display_number, "total_eur": str(locked.total_eur)},
        )
    return locked


def credit_note_for(*, invoice: Invoice, actor: Any, now: dt.datetime) -> Invoice:
    """Write a draft credit note (TD04) that reverses an issued invoice line by line.

    Raises InvoiceError unless the invoice is an issued TD01 without a credit note.
    """
    if invoice.status != InvoiceStatus.ISSUED or invoice.document_type != DocumentType.TD01:
        raise InvoiceError(_("Only an issued invoice can be credited."))
    if invoice.credit_notes.exists():
        raise InvoiceError(_("This invoice already has a credit note."))
    customer = {name: getattr(invoice, name) for name in CUSTOMER_FIELDS}
    customer["member"] = None
    with transaction.atomic():
        note = create_draft(
            community=invoice.community,
            customer=customer,
            lines=invoice_lines(invoice),
            actor=actor,
            now=now,
        )
        note.member = invoice.member
        note.document_type = DocumentType.TD04
        note.original = invoice
        note.save(update_fields=["member", "document_type", "original"])
    return note


def issue_and_send(
    *, invoice: Invoice, actor: Any, now: dt.datetime, transmitter: Any = None
) -> Invoice:
    """Issue a draft, then hand its file to `transmitter` (the outbox by default).

    Sending happens after the issue is saved: a failing channel leaves the invoice issued
    and unsent (logged), to be sent again, and never gives its number back.
    Raises what issue_invoice raises.
    """
    from cer.billing.transmit import OutboxTransmitter, send_invoice

    issued = issue_invoice(invoice=invoice, actor=actor, now=now)
    try:
        send_invoice(invoice=issued, transmitter=transmitter or OutboxTransmitter(now=now))
    except OSError:
        logger.exception("invoice %s issued but not sent", issued.pk)
    return issued
