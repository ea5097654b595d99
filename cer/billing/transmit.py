"""Handing an issued invoice's FatturaPA file over for delivery to the Sistema di Interscambio.

The SdI channels (SDICoop web service, SFTP, PEC) need an accreditation the platform does not
have, so the one transmitter here writes the file into an outbox folder that an accredited
intermediary collects (docs/invoices.md). Another channel is another InvoiceTransmitter.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import transaction

from cer.billing.models import Invoice, InvoiceStatus, InvoiceTransmission

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What the channel says about a file it took: where it went, and when."""

    reference: str
    sent_at: dt.datetime


class InvoiceTransmitter(Protocol):
    def send(self, invoice: Invoice, xml_bytes: bytes) -> Receipt:
        """Deliver the file (signed or not) of an issued invoice; raise OSError on failure."""
        ...


class OutboxTransmitter:
    """Write the file under MEDIA_ROOT/invoices/outbox/<community id>/ for the intermediary.

    The file is written under a temporary name and renamed, so a collector polling the
    folder never picks up half a file.
    """

    def __init__(self, folder: Path | None = None, *, now: dt.datetime) -> None:
        self.folder = folder or Path(settings.MEDIA_ROOT) / "invoices" / "outbox"
        self.now = now

    def send(self, invoice: Invoice, xml_bytes: bytes) -> Receipt:
        target_dir = self.folder / str(invoice.community_id)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / invoice.file_name
        partial = target.with_suffix(".part")
        partial.write_bytes(xml_bytes)
        partial.replace(target)
        logger.info("invoice %s written to the outbox as %s", invoice.pk, target.name)
        return Receipt(reference=f"outbox:{invoice.community_id}/{target.name}", sent_at=self.now)


class NotIssued(Exception):
    """Only an issued invoice can be sent."""


def send_invoice(*, invoice: Invoice, transmitter: InvoiceTransmitter) -> Invoice:
    """Hand an issued invoice's file to `transmitter` and note the receipt on the invoice.

    Raises NotIssued for a draft or a rejected file, OSError when the channel fails (the
    invoice stays issued and unsent, and can be sent again).
    """
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.REJECTED) or not invoice.xml:
        # A rejected file is never sent again as it was: resend.py builds a corrected one.
        raise NotIssued(f"invoice {invoice.pk} is not issued or its file was rejected")
    receipt = transmitter.send(invoice, invoice.xml.encode("utf-8"))
    with transaction.atomic():
        invoice.sent_at = receipt.sent_at
        invoice.transmission_receipt = receipt.reference
        invoice.save(update_fields=["sent_at", "transmission_receipt"])
        InvoiceTransmission.objects.filter(
            invoice=invoice, file_name=invoice.file_name, sent_at__isnull=True
        ).update(sent_at=receipt.sent_at, receipt=receipt.reference)
    return invoice
