"""A file SdI rejected: the rejection kept with its reason, a corrected file with the same
number and date under a new name; and a credit note that refers to the invoice it credits."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.billing.invoices import InvoiceError, credit_note_for, issue_and_send
from cer.billing.models import InvoiceStatus, InvoiceTransmission
from cer.billing.resend import record_rejection, resend_invoice
from tests import factories
from tests.factories.invoices import NOW, make_draft_invoice, ready_to_invoice

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fatturapa"


def _notice(file_name: str, *, code: str = "00305", text: str = "IdCodice non valido") -> bytes:
    """An SdI rejection notice (NotificaScarto) as the intermediary passes it on."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<types:NotificaScarto xmlns:types="http://www.fatturapa.gov.it/sdi/messaggi/v1.0"
    versione="1.0">
  <IdentificativoSdI>111222333</IdentificativoSdI>
  <NomeFile>{file_name}</NomeFile>
  <DataOraRicezione>2025-03-30T11:00:00.000+02:00</DataOraRicezione>
  <ListaErrori>
    <Errore><Codice>{code}</Codice><Descrizione>{text}</Descrizione></Errore>
  </ListaErrori>
  <MessageId>444555</MessageId>
</types:NotificaScarto>""".encode()


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager_client(client, community):
    ready_to_invoice(community)
    client.force_login(factories.make_user_with_role(community, role="REFERENTE", username="r"))
    return client


def test_a_rejected_file_is_recorded_and_sent_again_with_the_same_number_and_date(
    manager_client, community, tmp_path
):
    invoice = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)
    rejected_name = invoice.file_name
    detail = reverse("billing:invoice_detail", kwargs={"pk": invoice.pk})

    upload = SimpleUploadedFile("ns.xml", _notice(rejected_name), content_type="application/xml")
    manager_client.post(
        reverse("billing:invoice_rejected", kwargs={"pk": invoice.pk}), {"notice": upload}
    )
    invoice.refresh_from_db()
    page = manager_client.get(detail).content.decode()
    url = reverse("billing:invoice_resend", kwargs={"pk": invoice.pk})
    data = {
        "customer-customer_name": "Bottega Verde S.r.l.",
        "customer-customer_vat_number": "01234560279",
        "customer-customer_address": "Via Roma 10",
        "customer-customer_postal_code": "30038",
        "customer-customer_city": "Spinea",
        "customer-customer_province": "VE",
        "customer-customer_country": "IT",
        "customer-sdi_code": "XYZ9876",
    }
    asked = manager_client.post(url, data)
    done = manager_client.post(url, {**data, "confirmed": "yes"})

    assert invoice.status == InvoiceStatus.REJECTED
    assert "00305: IdCodice non valido" in page
    assert "Correct and send again" in page
    assert asked.status_code == 200 and "Send the corrected file" in asked.content.decode()
    assert done.status_code == 302
    resent = type(invoice).objects.get(pk=invoice.pk)
    first, second = InvoiceTransmission.objects.filter(invoice=invoice).order_by("pk")
    assert (resent.status, resent.number, resent.issue_date) == (
        InvoiceStatus.ISSUED,
        invoice.number,
        invoice.issue_date,
    )
    assert (first.file_name, first.sdi_identifier) == (rejected_name, "111222333")
    assert first.rejection_reason == "00305: IdCodice non valido"
    assert second.file_name == resent.file_name != rejected_name
    assert second.sent_at is not None
    root = ET.fromstring(resent.xml.encode())  # noqa: S314 (a file we just generated)
    assert root.findtext(".//ProgressivoInvio") == resent.transmission_number
    assert root.findtext(".//CodiceDestinatario") == "XYZ9876"
    assert root.findtext(".//DatiGeneraliDocumento/Numero") == invoice.display_number
    assert root.findtext(".//DatiGeneraliDocumento/Data") == invoice.issue_date.isoformat()
    assert (tmp_path / "invoices" / "outbox" / str(community.pk) / resent.file_name).exists()
    assert set(
        AuditEntry.objects.filter(code__startswith="billing.invoice.r").values_list(
            "code", flat=True
        )
    ) == {"billing.invoice.rejected", "billing.invoice.resent"}


def test_a_notice_about_another_file_or_not_a_rejection_is_refused_and_nothing_changes(
    community,
):
    ready_to_invoice(community)
    invoice = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)

    with pytest.raises(InvoiceError) as other_file:
        record_rejection(invoice=invoice, notice=_notice("IT0_ZZZZZ.xml"), actor=None, now=NOW)
    with pytest.raises(InvoiceError) as not_xml:
        record_rejection(invoice=invoice, notice=b"not xml", actor=None, now=NOW)
    receipt = b"<RicevutaConsegna><NomeFile>x.xml</NomeFile></RicevutaConsegna>"
    with pytest.raises(InvoiceError) as receipt_error:
        record_rejection(invoice=invoice, notice=receipt, actor=None, now=NOW)

    assert "IT0_ZZZZZ.xml" in other_file.value.fields["notice"][0]
    assert "XML" in not_xml.value.fields["notice"][0]
    assert "RicevutaConsegna" in receipt_error.value.fields["notice"][0]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert not InvoiceTransmission.objects.filter(rejected_at__isnull=False).exists()


def test_an_invoice_that_was_not_rejected_cannot_be_sent_again(community):
    ready_to_invoice(community)
    invoice = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)

    with pytest.raises(InvoiceError):
        resend_invoice(invoice=invoice, customer={}, actor=None, now=NOW)

    assert InvoiceTransmission.objects.filter(invoice=invoice).count() == 1


def test_a_rejected_credit_note_restores_its_invoice_until_it_is_sent_again(community):
    ready_to_invoice(community)
    invoice = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)
    note = issue_and_send(
        invoice=credit_note_for(invoice=invoice, actor=None, now=NOW), actor=None, now=NOW
    )

    record_rejection(invoice=note, notice=_notice(note.file_name), actor=None, now=NOW)
    invoice.refresh_from_db()
    restored = invoice.status
    resent = resend_invoice(invoice=note, customer={}, actor=None, now=NOW)
    invoice.refresh_from_db()

    assert restored == InvoiceStatus.ISSUED
    assert invoice.status == InvoiceStatus.CANCELLED
    root = ET.fromstring(resent.xml.encode())  # noqa: S314 (a file we just generated)
    assert root.findtext(".//TipoDocumento") == "TD04"
    assert root.findtext(".//DatiFattureCollegate/IdDocumento") == invoice.display_number
    assert root.findtext(".//DatiFattureCollegate/Data") == invoice.issue_date.isoformat()
    assert root.findtext(".//DatiGeneraliDocumento/Numero") == note.display_number


def test_the_corrected_file_validates_against_the_official_schema(community):
    ready_to_invoice(community)
    invoice = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)
    record_rejection(invoice=invoice, notice=_notice(invoice.file_name), actor=None, now=NOW)

    resent = resend_invoice(
        invoice=invoice,
        customer={"customer_pec": "bottega@pec.example.org", "sdi_code": ""},
        actor=None,
        now=NOW,
    )

    schema = xmlschema.XMLSchema(
        str(FIXTURES / "FatturaPA_FPR12_v1.2.3.xsd"),
        locations={"http://www.w3.org/2000/09/xmldsig#": str(FIXTURES / "xmldsig-core-schema.xsd")},
    )
    schema.validate(resent.xml)
    root = ET.fromstring(resent.xml.encode())  # noqa: S314 (a file we just generated)
    assert root.findtext(".//PECDestinatario") == "bottega@pec.example.org"
