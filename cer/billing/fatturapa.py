"""The FatturaPA file of an issued invoice (format FPR12, specification v1.2.x) and its name.

Elements follow the order of the official schema (tests/fixtures/fatturapa/ holds it and the
tests validate against it). Amounts are written from Decimals with fixed decimals, never
through a float: two decimals for amounts, two to eight for quantities and unit prices.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from cer.billing.models import DocumentType, Invoice
from cer.billing.totals import Totals
from cercalc.money import format_fixed

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
FORMAT_PRIVATE = "FPR12"
NO_CODE = "0000000"


def file_name(invoice: Invoice) -> str:
    """IT<issuer tax code>_<progressive>.xml, as the specification names a file sent to SdI."""
    return f"IT{invoice.community.fiscal_code}_{invoice.transmission_number}.xml"


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _sede(
    parent: ET.Element, *, address: str, postal_code: str, city: str, province: str, country: str
) -> None:
    sede = _add(parent, "Sede")
    _add(sede, "Indirizzo", address)
    _add(sede, "CAP", postal_code)
    _add(sede, "Comune", city)
    if province and country == "IT":
        _add(sede, "Provincia", province.upper())
    _add(sede, "Nazione", country)


def _header(root: ET.Element, invoice: Invoice) -> None:
    header = _add(root, "FatturaElettronicaHeader")
    transmission = _add(header, "DatiTrasmissione")
    sender = _add(transmission, "IdTrasmittente")
    _add(sender, "IdPaese", "IT")
    _add(sender, "IdCodice", invoice.issuer_fiscal_code)
    _add(transmission, "ProgressivoInvio", invoice.transmission_number)
    _add(transmission, "FormatoTrasmissione", FORMAT_PRIVATE)
    _add(transmission, "CodiceDestinatario", invoice.sdi_code or NO_CODE)
    if (invoice.sdi_code or NO_CODE) == NO_CODE and invoice.customer_pec:
        _add(transmission, "PECDestinatario", invoice.customer_pec)

    issuer = _add(header, "CedentePrestatore")
    registry = _add(issuer, "DatiAnagrafici")
    vat = _add(registry, "IdFiscaleIVA")
    _add(vat, "IdPaese", "IT")
    _add(vat, "IdCodice", invoice.issuer_vat_number)
    _add(registry, "CodiceFiscale", invoice.issuer_fiscal_code)
    _add(_add(registry, "Anagrafica"), "Denominazione", invoice.issuer_name)
    _add(registry, "RegimeFiscale", invoice.regime_fiscale)
    _sede(
        issuer,
        address=invoice.issuer_address,
        postal_code=invoice.issuer_postal_code,
        city=invoice.issuer_city,
        province=invoice.issuer_province,
        country="IT",
    )

    customer = _add(header, "CessionarioCommittente")
    registry = _add(customer, "DatiAnagrafici")
    if invoice.customer_vat_number:
        vat = _add(registry, "IdFiscaleIVA")
        _add(vat, "IdPaese", invoice.customer_country)
        _add(vat, "IdCodice", invoice.customer_vat_number)
    if invoice.customer_fiscal_code:
        _add(registry, "CodiceFiscale", invoice.customer_fiscal_code)
    name = _add(registry, "Anagrafica")
    if invoice.customer_first_name and invoice.customer_last_name:
        _add(name, "Nome", invoice.customer_first_name)
        _add(name, "Cognome", invoice.customer_last_name)
    else:
        _add(name, "Denominazione", invoice.customer_name)
    _sede(
        customer,
        address=invoice.customer_address,
        postal_code=invoice.customer_postal_code,
        city=invoice.customer_city,
        province=invoice.customer_province,
        country=invoice.customer_country,
    )


def _body(root: ET.Element, invoice: Invoice, totals: Totals) -> None:
    body = _add(root, "FatturaElettronicaBody")
    general = _add(body, "DatiGenerali")
    document = _add(general, "DatiGeneraliDocumento")
    _add(document, "TipoDocumento", invoice.document_type)
    _add(document, "Divisa", "EUR")
    assert invoice.issue_date is not None
    _add(document, "Data", invoice.issue_date.isoformat())
    _add(document, "Numero", invoice.display_number)
    _add(document, "ImportoTotaleDocumento", format_fixed(totals.total_eur))
    original = invoice.original
    if invoice.document_type == DocumentType.TD04 and original is not None:
        linked = _add(general, "DatiFattureCollegate")
        _add(linked, "IdDocumento", original.display_number)
        if original.issue_date is not None:
            _add(linked, "Data", original.issue_date.isoformat())

    goods = _add(body, "DatiBeniServizi")
    for position, line in enumerate(invoice.lines.all(), start=1):
        detail = _add(goods, "DettaglioLinee")
        _add(detail, "NumeroLinea", str(position))
        _add(detail, "Descrizione", line.description)
        _add(detail, "Quantita", format_fixed(line.quantity, max_places=8))
        _add(detail, "PrezzoUnitario", format_fixed(line.unit_price_eur, max_places=8))
        _add(detail, "PrezzoTotale", format_fixed(totals.line_totals_eur[position - 1]))
        _add(detail, "AliquotaIVA", format_fixed(line.vat_rate))
        if line.natura:
            _add(detail, "Natura", line.natura)
    for row in totals.summary:
        summary = _add(goods, "DatiRiepilogo")
        _add(summary, "AliquotaIVA", format_fixed(row.vat_rate))
        if row.natura:
            _add(summary, "Natura", row.natura)
        _add(summary, "ImponibileImporto", format_fixed(row.taxable_eur))
        _add(summary, "Imposta", format_fixed(row.tax_eur))
        if not row.natura:
            # Immediate VAT: the usual case; deferred or split payment is not offered.
            _add(summary, "EsigibilitaIVA", "I")

    if invoice.iban and invoice.document_type == DocumentType.TD01:
        payment = _add(body, "DatiPagamento")
        _add(payment, "CondizioniPagamento", "TP02")  # payment in full
        detail = _add(payment, "DettaglioPagamento")
        _add(detail, "ModalitaPagamento", "MP05")  # bank transfer
        _add(detail, "ImportoPagamento", format_fixed(totals.total_eur))
        _add(detail, "IBAN", invoice.iban)


def build_xml(invoice: Invoice, totals: Totals) -> bytes:
    """Return the FatturaPA document of an invoice that has its number and parties' data."""
    ET.register_namespace("p", NAMESPACE)
    ET.register_namespace("ds", DSIG_NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}FatturaElettronica", {"versione": FORMAT_PRIVATE})
    _header(root, invoice)
    _body(root, invoice, totals)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
