"""The evidence PDFs of simple electronic signatures, sealed by the platform when it can.

One PDF per signer, written when they sign; one for the whole request, stored in the
archive as the executed version. Both say "firma elettronica semplice" in their title:
nobody is to mistake them for a qualified signature. Dates and times go through
cer.core.formatting (Italian, the archive's language).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _

from cer.core import formatting
from cer.documents import sealing

LABEL = "Firma elettronica semplice"


def _rows(proof: Any) -> list[tuple[str, str]]:
    return [
        (_("Signer"), f"{proof.name} ({proof.tax_code})"),
        (_("Account"), proof.username),
        (_("Signed at"), formatting.moment(proof.signed_at)),
        (_("Code sent at"), formatting.moment(proof.code_sent_at)),
        (_("Code sent by"), proof.channels.replace(",", ", ")),
        (_("IP address"), proof.ip_address),
        (_("Browser"), proof.user_agent),
        (_("SHA-256 of the document signed"), proof.document_sha256),
    ]


def _document_rows(request: Any) -> list[tuple[str, str]]:
    document = request.document
    return [
        (_("Community"), request.community.name),
        (_("Document"), f"{document.title} ({document.get_kind_display()})"),
        (_("Version"), str(request.version.number)),
        (_("Sent for signature at"), formatting.moment(request.created_at)),
    ]


def _pdf(title: str, sections: list[list[tuple[str, str]]], now: dt.datetime) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    sheet = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph(escape(title), sheet["Title"]),
        Paragraph(
            escape(
                _(
                    "Record of a simple electronic signature (firma elettronica semplice, "
                    "Regulation (EU) 910/2014 art. 3(10); CAD art. 20 c. 1-bis): the signer "
                    "typed a one-time code sent to them. It is not a qualified signature."
                )
            ),
            sheet["BodyText"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    for rows in sections:
        table = Table(
            [
                [Paragraph(escape(k), sheet["BodyText"]), Paragraph(escape(v), sheet["BodyText"])]
                for k, v in rows
            ],
            colWidths=[5 * cm, 11 * cm],
        )
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 0.4 * cm)]
    story.append(
        Paragraph(
            escape(_("Written at %(when)s.") % {"when": formatting.moment(now)}), sheet["Italic"]
        )
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=title, lang="it").build(story)
    return buffer.getvalue()


def _sealed(pdf: bytes, reason: str) -> tuple[bytes, bool]:
    """Seal `pdf` with the platform's key when one is configured; say whether it was."""
    if not sealing.is_configured():
        return pdf, False
    return sealing.seal_pdf(pdf, reason), True


def signer_evidence_pdf(proof: Any, request: Any) -> tuple[bytes, bool]:
    """Write one signer's evidence as a PDF; return it and whether it is sealed."""
    with translation.override("it"):
        title = f"{LABEL} — {proof.name}"
        pdf = _pdf(title, [_document_rows(request), _rows(proof)], proof.signed_at)
    return _sealed(pdf, f"{LABEL}: {proof.tax_code}")


def request_evidence_pdf(request: Any, *, now: dt.datetime) -> bytes:
    """Write the evidence of every signer of `request` as one PDF (sealed when possible)."""
    with translation.override("it"):
        sections = [_document_rows(request)]
        sections += [_rows(s.evidence) for s in request.signers.select_related("evidence")]
        pdf = _pdf(f"{LABEL} — {request.document.title}", sections, now)
    return _sealed(pdf, LABEL)[0]
