"""Invoices: exact totals (the worked example), numbering, FatturaPA file, immutability."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from django.db import connection

from cer.audit.models import AuditEntry
from cer.billing.invoices import (
    InvoiceAlreadyIssued,
    InvoiceError,
    credit_note_for,
    issue_and_send,
    issue_invoice,
    line_problems,
)
from cer.billing.models import Invoice, InvoiceImmutable, InvoiceLine, InvoiceStatus
from cer.billing.totals import LineInput, compute_totals
from cer.billing.transmit import OutboxTransmitter, send_invoice
from tests import factories
from tests.factories.invoices import (
    NOW,
    WORKED_LINES,
    make_draft_invoice,
    ready_to_invoice,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fatturapa"
NS = {"p": "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"}


@pytest.fixture(scope="module")
def fatturapa_schema():
    # The official schema imports xmldsig from the W3C site: point it at the local copy.
    return xmlschema.XMLSchema(
        str(FIXTURES / "FatturaPA_FPR12_v1.2.3.xsd"),
        locations={"http://www.w3.org/2000/09/xmldsig#": str(FIXTURES / "xmldsig-core-schema.xsd")},
    )


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode())  # noqa: S314 (a file we just generated)


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# Totals ---------------------------------------------------------------------------------


def test_the_worked_example_gives_the_documented_totals():
    totals = compute_totals(WORKED_LINES)

    assert totals.line_totals_eur == (
        Decimal("37.50"),
        Decimal("25.13"),
        Decimal("39.99"),
        Decimal("15.00"),
        Decimal("14.60"),
    )
    assert [(r.vat_rate, r.natura, r.taxable_eur, r.tax_eur) for r in totals.summary] == [
        (Decimal("22"), "", Decimal("77.23"), Decimal("16.99")),
        (Decimal("10"), "", Decimal("39.99"), Decimal("4.00")),
        (Decimal("0"), "N2.2", Decimal("15.00"), Decimal("0.00")),
    ]
    assert totals.taxable_eur == Decimal("132.22")
    assert totals.tax_eur == Decimal("20.99")
    assert totals.total_eur == Decimal("153.21")


def test_a_half_cent_rounds_up_not_to_even():
    totals = compute_totals([LineInput("x", Decimal("2.5"), Decimal("10.05"), Decimal("0"), "N4")])

    assert totals.line_totals_eur == (Decimal("25.13"),)


def test_lines_with_the_same_rate_but_different_natura_are_summarised_apart():
    totals = compute_totals(
        [
            LineInput("a", Decimal("1"), Decimal("10"), Decimal("0"), "N4"),
            LineInput("b", Decimal("1"), Decimal("5"), Decimal("0"), "N2.2"),
            LineInput("c", Decimal("1"), Decimal("1"), Decimal("0"), "N4"),
        ]
    )

    assert [(r.natura, r.taxable_eur) for r in totals.summary] == [
        ("N2.2", Decimal("5.00")),
        ("N4", Decimal("11.00")),
    ]


# Rate and Natura ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "natura", "field"),
    [
        ("0", "", "natura"),
        ("0", "N9", "natura"),
        ("22", "N4", "natura"),
        ("21", "", "vat_rate"),
    ],
)
def test_rate_and_natura_must_agree(rate, natura, field):
    problems = line_problems(LineInput("x", Decimal("1"), Decimal("1"), Decimal(rate), natura))

    assert list(problems) == [field]


def test_a_zero_rate_line_with_its_natura_and_a_taxed_line_without_are_accepted():
    assert line_problems(LineInput("x", Decimal("1"), Decimal("1"), Decimal("0"), "N6.8")) == {}
    assert line_problems(LineInput("x", Decimal("1"), Decimal("1"), Decimal("4"))) == {}


def test_a_quantity_with_nine_decimals_is_refused():
    problems = line_problems(LineInput("x", Decimal("0.123456789"), Decimal("1"), Decimal("22")))

    assert "quantity" in problems


def test_a_draft_names_the_line_at_fault(community):
    lines = [WORKED_LINES[0], LineInput("y", Decimal("1"), Decimal("1"), Decimal("0"))]

    with pytest.raises(InvoiceError) as raised:
        make_draft_invoice(community, lines)

    assert list(raised.value.fields) == ["lines[1].natura"]
    assert not Invoice.objects.exists()


# Issue and numbering --------------------------------------------------------------------


def test_a_draft_stores_the_totals_and_records_its_creation(community):
    invoice = make_draft_invoice(community)

    assert (invoice.taxable_eur, invoice.tax_eur, invoice.total_eur) == (
        Decimal("132.22"),
        Decimal("20.99"),
        Decimal("153.21"),
    )
    assert invoice.number is None
    assert AuditEntry.objects.filter(code="billing.invoice.created").count() == 1


def test_issuing_numbers_per_year_and_writes_the_file_to_the_outbox(community, settings):
    ready_to_invoice(community)
    first = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)
    second = issue_and_send(invoice=make_draft_invoice(community), actor=None, now=NOW)
    next_year = issue_and_send(
        invoice=make_draft_invoice(community),
        actor=None,
        now=dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC),  # already 2026 in Rome
    )

    assert [(i.year, i.number) for i in (first, second, next_year)] == [
        (2025, 1),
        (2025, 2),
        (2026, 1),
    ]
    assert next_year.issue_date == dt.date(2026, 1, 1)
    assert first.file_name == f"IT{community.fiscal_code}_00001.xml"
    assert second.file_name == f"IT{community.fiscal_code}_00002.xml"
    outbox = Path(settings.MEDIA_ROOT) / "invoices" / "outbox" / str(community.pk)
    assert (outbox / first.file_name).read_text(encoding="utf-8") == first.xml
    first.refresh_from_db()
    assert first.status == InvoiceStatus.ISSUED
    assert first.sent_at == NOW
    assert AuditEntry.objects.filter(code="billing.invoice.issued").count() == 3


def test_a_community_without_a_vat_number_cannot_issue(community):
    draft = make_draft_invoice(community)

    with pytest.raises(InvoiceError) as raised:
        issue_invoice(invoice=draft, actor=None, now=NOW)

    assert set(raised.value.fields) == {"vat_number", "seat_postal_code"}
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None


def test_an_issued_invoice_cannot_be_issued_again(community):
    ready_to_invoice(community)
    invoice = issue_invoice(invoice=make_draft_invoice(community), actor=None, now=NOW)

    with pytest.raises(InvoiceAlreadyIssued):
        issue_invoice(invoice=invoice, actor=None, now=NOW)


def test_an_issued_invoice_and_its_lines_are_immutable(community):
    ready_to_invoice(community)
    invoice = issue_invoice(invoice=make_draft_invoice(community), actor=None, now=NOW)
    line = invoice.lines.first()

    invoice.customer_name = "Altro"
    with pytest.raises(InvoiceImmutable):
        invoice.save()
    line.description = "Altro"
    with pytest.raises(InvoiceImmutable):
        line.save()
    with pytest.raises(InvoiceImmutable):
        invoice.delete()
    with pytest.raises(InvoiceImmutable):
        InvoiceLine(
            invoice=invoice,
            position=9,
            description="x",
            quantity=1,
            unit_price_eur=1,
            vat_rate=22,
            total_eur=1,
        ).save()

    invoice.refresh_from_db()
    assert invoice.customer_name == "Bottega Verde S.r.l."
    assert invoice.lines.count() == len(WORKED_LINES)


def test_a_credit_note_cancels_the_invoice_it_credits(community, fatturapa_schema):
    ready_to_invoice(community)
    invoice = issue_invoice(invoice=make_draft_invoice(community), actor=None, now=NOW)

    note = credit_note_for(invoice=invoice, actor=None, now=NOW)
    issued_note = issue_invoice(invoice=note, actor=None, now=NOW)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert (issued_note.document_type, issued_note.number) == ("TD04", 2)
    assert issued_note.total_eur == invoice.total_eur
    root = _parse(issued_note.xml)
    assert root.findtext(".//DatiFattureCollegate/IdDocumento") == "1/2025"
    fatturapa_schema.validate(issued_note.xml)
    with pytest.raises(InvoiceError):
        credit_note_for(invoice=invoice, actor=None, now=NOW)


def test_a_failing_channel_leaves_the_invoice_issued_and_unsent(community):
    ready_to_invoice(community)

    class Broken:
        def send(self, invoice, xml_bytes):
            raise OSError("disk full")

    invoice = issue_and_send(
        invoice=make_draft_invoice(community), actor=None, now=NOW, transmitter=Broken()
    )

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number == 1
    assert invoice.sent_at is None
    send_invoice(invoice=invoice, transmitter=OutboxTransmitter(now=NOW))
    invoice.refresh_from_db()
    assert invoice.sent_at == NOW


# FatturaPA ------------------------------------------------------------------------------


def test_the_file_validates_against_the_official_schema(community, fatturapa_schema):
    ready_to_invoice(community)
    invoice = issue_invoice(invoice=make_draft_invoice(community), actor=None, now=NOW)

    fatturapa_schema.validate(invoice.xml)

    root = _parse(invoice.xml)
    assert root.tag == f"{{{NS['p']}}}FatturaElettronica"
    assert root.get("versione") == "FPR12"
    assert root.findtext(".//DatiTrasmissione/IdTrasmittente/IdCodice") == community.fiscal_code
    assert root.findtext(".//DatiTrasmissione/ProgressivoInvio") == "00001"
    assert root.findtext(".//DatiTrasmissione/CodiceDestinatario") == "ABC1234"
    assert root.findtext(".//CedentePrestatore/DatiAnagrafici/RegimeFiscale") == "RF01"
    assert root.findtext(".//DatiGeneraliDocumento/Numero") == "1/2025"
    assert root.findtext(".//DatiGeneraliDocumento/Data") == "2025-03-30"
    assert root.findtext(".//DatiGeneraliDocumento/ImportoTotaleDocumento") == "153.21"
    lines = root.findall(".//DettaglioLinee")
    assert [line.findtext("PrezzoTotale") for line in lines] == [
        "37.50",
        "25.13",
        "39.99",
        "15.00",
        "14.60",
    ]
    assert lines[4].findtext("Quantita") == "123.456"
    assert lines[4].findtext("PrezzoUnitario") == "0.11823456"
    assert lines[3].findtext("Natura") == "N2.2"
    summary = [
        (row.findtext("AliquotaIVA"), row.findtext("Natura"), row.findtext("Imposta"))
        for row in root.findall(".//DatiRiepilogo")
    ]
    assert summary == [("22.00", None, "16.99"), ("10.00", None, "4.00"), ("0.00", "N2.2", "0.00")]
    assert root.findtext(".//DettaglioPagamento/IBAN") == "IT60X0542811101000000123456"


def test_a_member_customer_without_destination_code_gets_the_pec(community, fatturapa_schema):
    ready_to_invoice(community)
    member = factories.make_user_with_role(community, role="MEMBER", username="cliente").member
    member.pec = "mario@pec.example.org"
    member.save(update_fields=["pec"])
    from cer.billing.invoices import create_draft

    draft = create_draft(
        community=community,
        customer={"member": member, "customer_postal_code": "30038"},
        lines=WORKED_LINES[:1],
        actor=None,
        now=NOW,
    )
    invoice = issue_invoice(invoice=draft, actor=None, now=NOW)

    fatturapa_schema.validate(invoice.xml)
    root = _parse(invoice.xml)
    assert root.findtext(".//CodiceDestinatario") == "0000000"
    assert root.findtext(".//PECDestinatario") == "mario@pec.example.org"
    assert root.findtext(".//CessionarioCommittente//CodiceFiscale") == member.fiscal_code
    assert root.findtext(".//CessionarioCommittente//Cognome") == member.last_name


# Concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_issues_get_consecutive_numbers_without_gaps():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    community = ready_to_invoice(factories.make_community())
    drafts = [make_draft_invoice(community, WORKED_LINES[:1]) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def issue(draft: Invoice) -> None:
        try:
            barrier.wait(timeout=10)
            issue_invoice(invoice=draft, actor=None, now=NOW)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    numbers = sorted(Invoice.objects.filter(community=community).values_list("number", flat=True))
    assert numbers == [1, 2]
    progressives = sorted(
        Invoice.objects.filter(community=community).values_list("transmission_number", flat=True)
    )
    assert progressives == ["00001", "00002"]
