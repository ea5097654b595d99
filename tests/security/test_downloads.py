"""Personal files download as attachments named by the server, never cached or sniffed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from cer.billing.models import Invoice
from cer.core.downloads import DOCX, XLSX, attachment_response, safe_filename
from cer.documents.models import DocumentVersion
from cer.documents.services import ACCEPTED, create_document
from tests.api.conftest import client_for
from tests.factories.billing import make_payout_batch, make_statement
from tests.factories.invoices import make_draft_invoice
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db

POLYGLOT = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n"
EXTENSIONS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/xml": "xml",
    "application/zip": "zip",
    XLSX: "xlsx",
    DOCX: "docx",
}
ATTACHMENT = re.compile(r'^attachment; filename="([A-Za-z0-9_-]+)\.([a-z]+)"$')


def _web(name: str, *args: object) -> str:
    with translation.override("en"):
        return reverse(name, args=args)


def _assert_safe_download(response, content_type: str) -> str:
    """Assert the three headers and a server-made name; return the file name."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].split(";")[0] == content_type
    match = ATTACHMENT.match(response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    assert match.group(2) == EXTENSIONS[content_type]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    return f"{match.group(1)}.{match.group(2)}"


def _upload_fields(**overrides: object) -> dict[str, object]:
    return {
        "kind": "MINUTES",
        "title": "Verbale assemblea",
        "document_date": "2025-03-30",
        "file": SimpleUploadedFile("polyglot.html", POLYGLOT, content_type="text/html"),
        **overrides,
    }


# --- a PDF named .html ------------------------------------------------------------------


def test_a_pdf_uploaded_as_html_downloads_as_a_pdf_from_the_web_archive(
    client, referente, community
):
    client.force_login(referente)

    uploaded = client.post(_web("documents:upload", community.pk), _upload_fields())
    version = DocumentVersion.objects.get()
    response = client.get(_web("documents:download", version.pk))

    assert uploaded.status_code == 302
    assert _assert_safe_download(response, "application/pdf") == "polyglot.pdf"
    assert b"".join(response.streaming_content) == POLYGLOT


@pytest.mark.parametrize("endpoint", ["/api/v1/communities/{pk}/documents", "/api/documents"])
def test_a_pdf_uploaded_as_html_downloads_as_a_pdf_from_the_api(referente, community, endpoint):
    api = client_for(referente)

    uploaded = api.post(
        endpoint.format(pk=community.pk),
        {"community": community.pk, **_upload_fields()},
        format="multipart",
    )
    response = api.get(f"/api/v1/documents/{uploaded.json()['id']}/download")

    assert uploaded.status_code == 201, uploaded.content
    assert _assert_safe_download(response, "application/pdf") == "polyglot.pdf"
    assert b"".join(response.streaming_content) == POLYGLOT


# --- every personal download ------------------------------------------------------------


@pytest.fixture
def files(community, referente, member_user):
    """One object of each kind that can be downloaded, in the referente's community."""
    drafted = create_document(
        community=community,
        kind="STATUTE",
        title="Statuto",
        document_date=dt.date(2025, 3, 30),
        content=b"PK-not-read-here",
        file_type=ACCEPTED["docx"],
        original_name="statuto.docx",
        actor=None,
        now=timezone.now(),
        pdf_content=b"%PDF-1.4\n%rendering\n",
    )
    configuration = community.configurations.get()
    statement = make_statement(make_settlement_run(configuration), member_user.member)
    invoice = make_draft_invoice(community)
    Invoice.objects.filter(pk=invoice.pk).update(
        xml="<FatturaElettronica/>", file_name="IT01234567890_00001.xml"
    )
    return {
        "community": community.pk,
        "document": drafted.pk,
        "version": drafted.versions.get().pk,
        "statement": statement.pk,
        "member": member_user.member.pk,
        "payout": make_payout_batch(configuration).pk,
        "invoice": invoice.pk,
    }


WEB_DOWNLOADS = [
    ("documents:download", "version", "", DOCX),
    ("documents:download_pdf", "version", "", "application/pdf"),
    ("billing:statement_pdf", "statement", "", "application/pdf"),
    ("billing:statement_csv", "statement", "", "text/csv"),
    ("reports:report", "community", "?period=2025&format=csv", "text/csv"),
    ("reports:report", "community", "?period=2025&format=xlsx", XLSX),
    ("reports:report", "community", "?period=2025&format=pdf", "application/pdf"),
    ("billing:payout_xml", "payout", "", "application/xml"),
    ("billing:year_statement", "member", "?format=csv", "text/csv"),
    ("billing:year_statement", "member", "?format=pdf", "application/pdf"),
    ("billing:invoice_xml", "invoice", "", "application/xml"),
    ("billing:invoice_pdf", "invoice", "", "application/pdf"),
]

API_DOWNLOADS = [
    ("/api/v1/documents/{document}/download", DOCX),
    ("/api/v1/statements/{statement}/pdf", "application/pdf"),
    ("/api/v1/communities/{community}/report?year=2025&format=csv", "text/csv"),
    ("/api/v1/communities/{community}/report?year=2025&format=xlsx", XLSX),
    ("/api/v1/communities/{community}/report?year=2025&format=pdf", "application/pdf"),
    ("/api/v1/communities/{community}/processing-register.csv", "text/csv"),
    ("/api/v1/invoices/{invoice}/xml", "application/xml"),
    ("/api/v1/me/export", "application/zip"),
]


@pytest.mark.parametrize(("name", "key", "query", "content_type"), WEB_DOWNLOADS)
def test_every_web_download_is_a_safe_attachment(
    client, referente, files, name, key, query, content_type
):
    client.force_login(referente)
    args = (files[key], 2025) if name == "billing:year_statement" else (files[key],)

    response = client.get(_web(name, *args) + query)

    _assert_safe_download(response, content_type)


@pytest.mark.parametrize(("url", "content_type"), API_DOWNLOADS)
def test_every_api_download_is_a_safe_attachment(referente, files, url, content_type):
    response = client_for(referente).get(url.format(**files))

    _assert_safe_download(response, content_type)


# --- the helper -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "content_type", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "etc-passwd.pdf"),
        ('verbale"; filename="x.html', "application/pdf", "verbale-filename-x-html.pdf"),
        ("riunione\r\nSet-Cookie: a=b", "text/csv", "riunione-Set-Cookie-a-b.csv"),
        ("verbalè assemblea", "application/pdf", "verbale-assemblea.pdf"),
        ("", "application/zip", "download.zip"),
        (
            "statement-2025-06-v1-IoWoQo3ZFr8uwkL_",
            "application/pdf",
            "statement-2025-06-v1-IoWoQo3ZFr8uwkL_.pdf",
        ),
        ("hours-2025-06--Ab3-", "text/csv", "hours-2025-06--Ab3-.csv"),
        ("-rf ~", "text/csv", "rf.csv"),
        ("nota", "text/html", "nota.bin"),
        ("nota", "application/pdf; charset=binary", "nota.pdf"),
    ],
)
def test_the_file_name_is_made_by_the_server(stem, content_type, expected):
    assert safe_filename(stem, content_type) == expected


def test_an_unknown_type_is_sent_as_plain_bytes():
    response = attachment_response(b"<html>", filename_stem="pagina", content_type="text/html")

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="pagina.bin"'
