"""Files rejected by the Sistema di Interscambio: record the rejection, correct, send again.

When SdI refuses a file (notifica di scarto, NS) the invoice counts as never issued, and the
issuer sends a corrected file for the same document: the same number and date, under a new
progressive file name (SdI refuses a name it has already received). Specifiche tecniche
FatturaPA v1.9, §2 "Il processo di trasmissione" (notifica di scarto) and the Agenzia delle
Entrate FAQ on re-sending a rejected invoice with its original number and date.

Here: `record_rejection` reads the NS notice the intermediary passes on, checks it names the
invoice's current file, keeps its errors on that file's transmission and marks the invoice
REJECTED; `resend_invoice` corrects the customer's data, builds the new file and hands it
over. A credit note that SdI rejects has not cancelled its invoice: the invoice is issued
again until the corrected credit note is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from xml.etree import ElementTree as ET

from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing.invoices import (
    CUSTOMER_FIELDS,
    InvoiceError,
    customer_problems,
    invoice_lines,
    next_transmission,
)
from cer.billing.models import (
    DocumentType,
    Invoice,
    InvoiceStatus,
    InvoiceTransmission,
)
from cer.billing.totals import compute_totals
from cer.core.validators import normalise_code

logger = logging.getLogger(__name__)

MAX_NOTICE_BYTES = 1_000_000


class NotRejected(InvoiceError):
    """Only an invoice whose file SdI rejected can be sent again."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ET.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def parse_rejection(notice: bytes) -> tuple[str, str, list[str]]:
    """Return (file name, SdI identifier, errors "code: description") of an NS notice.

    Raises InvoiceError naming the field `notice` for a file that is not an SdI rejection.
    """
    if len(notice) > MAX_NOTICE_BYTES or b"<!DOCTYPE" in notice or b"<!ENTITY" in notice:
        raise InvoiceError(
            _("The notice is not an SdI rejection notice."),
            {"notice": [_("Upload the rejection notice (NS) as SdI sent it, an XML file.")]},
        )
    try:
        root = ET.fromstring(notice)  # noqa: S314 (no DTD or entity: refused above)
    except ET.ParseError as error:
        raise InvoiceError(
            _("The notice is not an SdI rejection notice."),
            {"notice": [_("Not readable as XML: %(error)s.") % {"error": error}]},
        ) from None
    if _local(root.tag) != "NotificaScarto":
        raise InvoiceError(
            _("The notice is not an SdI rejection notice."),
            {"notice": [_("It is a %(kind)s, not a NotificaScarto.") % {"kind": _local(root.tag)}]},
        )
    errors = []
    for element in root.iter():
        if _local(element.tag) == "Errore":
            code = _child_text(element, "Codice")
            description = _child_text(element, "Descrizione")
            errors.append(f"{code}: {description}".strip(": "))
    file_name = _child_text(root, "NomeFile")
    if not file_name:
        raise InvoiceError(
            _("The notice is not an SdI rejection notice."),
            {"notice": [_("It names no file (NomeFile).")]},
        )
    return file_name, _child_text(root, "IdentificativoSdI"), errors


def current_transmission(invoice: Invoice) -> InvoiceTransmission | None:
    """Return the invoice's latest file handed over for SdI, or None for a draft."""
    return invoice.transmissions.order_by("-created_at", "-pk").first()


def record_rejection(
    *, invoice: Invoice, notice: bytes, actor: Any, now: dt.datetime
) -> InvoiceTransmission:
    """Record SdI's rejection of the invoice's current file, with the reasons of the notice.

    Marks the invoice REJECTED (a credit note's invoice is issued again) and records
    `billing.invoice.rejected`. Raises InvoiceError (field `notice`) for a notice that is not
    an NS, that names another file, or an invoice whose current file is not pending.
    """
    file_name, sdi_identifier, errors = parse_rejection(notice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        sent = current_transmission(locked)
        if locked.status != InvoiceStatus.ISSUED or sent is None:
            raise InvoiceError(
                _("Only an issued invoice's file can be rejected."),
                {"notice": [_("This invoice has no file awaiting SdI's answer.")]},
            )
        if sent.file_name != file_name:
            raise InvoiceError(
                _("The notice is about another file."),
                {
                    "notice": [
                        _("It rejects %(named)s; this invoice's current file is %(file)s.")
                        % {"named": file_name, "file": sent.file_name}
                    ]
                },
            )
        sent.rejected_at = now
        sent.sdi_identifier = sdi_identifier[:50]
        sent.rejection_reason = "\n".join(errors) or _("No reason given in the notice.")
        sent.save(update_fields=["rejected_at", "sdi_identifier", "rejection_reason"])
        locked.status = InvoiceStatus.REJECTED
        locked.save(update_fields=["status"])
        if locked.document_type == DocumentType.TD04 and locked.original_id:
            Invoice.objects.filter(pk=locked.original_id, status=InvoiceStatus.CANCELLED).update(
                status=InvoiceStatus.ISSUED
            )
        record(
            actor=actor,
            code="billing.invoice.rejected",
            now=now,
            target=locked,
            community=locked.community,
            changes={"file": file_name, "sdi": sdi_identifier, "errors": errors},
        )
    return sent


def correct_and_rebuild(
    *, invoice: Invoice, customer: dict[str, Any], actor: Any, now: dt.datetime
) -> Invoice:
    """Correct a rejected invoice's customer data and build its new file, same number and date.

    The new file has the next progressive of the community (a new file name); the invoice is
    ISSUED again (a credit note cancels its invoice again) and `billing.invoice.resent` is
    recorded. Raises NotRejected unless SdI rejected the invoice's file, InvoiceError naming
    the customer fields at fault.
    """
    from cer.billing.fatturapa import build_xml, file_name

    # Only what is given is corrected; codes are normalised as when the draft was written.
    values = {name: customer[name] for name in CUSTOMER_FIELDS if name in customer}
    if "sdi_code" in values:
        values["sdi_code"] = normalise_code(values["sdi_code"] or "") or "0000000"
    if "customer_fiscal_code" in values:
        values["customer_fiscal_code"] = normalise_code(values["customer_fiscal_code"] or "")
    if "customer_vat_number" in values:
        values["customer_vat_number"] = normalise_code(
            values["customer_vat_number"] or ""
        ).removeprefix("IT")
    for name, value in values.items():
        if value is None and name != "member":
            values[name] = ""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.REJECTED:
            raise NotRejected(_("Only an invoice whose file SdI rejected can be sent again."))
        merged = {name: getattr(locked, name) for name in CUSTOMER_FIELDS} | values
        problems = customer_problems(merged)
        if problems:
            raise InvoiceError(_("The customer's data are not valid; see the fields."), problems)
        previous = current_transmission(locked)
        changed = sorted(name for name in values if getattr(locked, name) != values[name])
        for name, value in values.items():
            setattr(locked, name, value)
        locked.transmission_number = next_transmission(locked.community)
        locked.file_name = file_name(locked)
        # Same number, date, issuer and lines: only the customer and the file are new.
        locked.xml = build_xml(locked, compute_totals(invoice_lines(locked))).decode("utf-8")
        locked.status = InvoiceStatus.ISSUED
        locked.sent_at = None
        locked.transmission_receipt = ""
        locked.save(
            update_fields=[
                *values,
                "transmission_number",
                "file_name",
                "xml",
                "status",
                "sent_at",
                "transmission_receipt",
            ]
        )
        InvoiceTransmission.objects.create(
            invoice=locked,
            transmission_number=locked.transmission_number,
            file_name=locked.file_name,
            xml=locked.xml,
            created_at=now,
        )
        if locked.document_type == DocumentType.TD04 and locked.original_id:
            Invoice.objects.filter(pk=locked.original_id).update(status=InvoiceStatus.CANCELLED)
        record(
            actor=actor,
            code="billing.invoice.resent",
            now=now,
            target=locked,
            community=locked.community,
            changes={
                "number": locked.display_number,
                "rejected_file": previous.file_name if previous else "",
                "file": locked.file_name,
                "corrected": changed,
            },
        )
    return locked


def resend_invoice(
    *,
    invoice: Invoice,
    customer: dict[str, Any],
    actor: Any,
    now: dt.datetime,
    transmitter: Any = None,
) -> Invoice:
    """Correct a rejected invoice, build its new file and hand it to `transmitter` (the outbox).

    As issue_and_send: a failing channel leaves the new file built and unsent (logged).
    Raises what correct_and_rebuild raises.
    """
    from cer.billing.transmit import OutboxTransmitter, send_invoice

    rebuilt = correct_and_rebuild(invoice=invoice, customer=customer, actor=actor, now=now)
    try:
        send_invoice(invoice=rebuilt, transmitter=transmitter or OutboxTransmitter(now=now))
    except OSError:
        logger.exception("invoice %s rebuilt but not sent", rebuilt.pk)
    return rebuilt
