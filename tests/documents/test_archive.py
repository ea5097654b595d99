"""The document archive: uploads checked by content and size, versions, guarded downloads."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry
from cer.documents import drafting
from cer.documents.models import Document, DocumentVersion
from cer.documents.services import draft_founding_documents, sniff_type
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def upload(client, community, content, name, **fields):
    data = {
        "kind": "MINUTES",
        "title": "Verbale assemblea",
        "document_date": "2025-03-30",
        "file": SimpleUploadedFile(name, content),
        **fields,
    }
    return client.post(reverse("documents:upload", args=[community.pk]), data)


def test_sniffing_reads_the_content_not_the_name():
    assert sniff_type(PDF).extension == "pdf"
    assert sniff_type(PNG).extension == "png"
    assert sniff_type(b"\xff\xd8\xff\xe0" + b"\x00" * 8).extension == "jpg"
    assert sniff_type(odt_bytes()).extension == "odt"
    assert sniff_type(drafting.to_docx([drafting.Block("paragraph", "x")])).extension == "docx"
    assert sniff_type(b"MZ\x90\x00 an executable") is None
    assert sniff_type(b"PK\x03\x04 not really a zip") is None


def test_a_referente_uploads_a_pdf_stored_under_a_random_name(client, referente, community):
    client.force_login(referente)

    response = upload(client, community, PDF, "verbale.pdf")

    assert response.status_code == 302
    version = DocumentVersion.objects.get()
    assert version.number == 1
    assert version.content_type == "application/pdf"
    assert version.original_name == "verbale.pdf"
    assert "verbale" not in version.file.name
    assert version.file.name.startswith("documents/")
    assert AuditEntry.objects.filter(code="documents.version.added").exists()


def test_an_executable_named_pdf_is_refused(client, referente, community):
    client.force_login(referente)

    response = upload(client, community, b"MZ\x90\x00\x03", "statuto.pdf")

    assert response.status_code == 400
    assert "file" in response.context["form"].errors
    assert not DocumentVersion.objects.exists()


def test_a_file_above_the_size_limit_is_refused(client, referente, community, settings):
    settings.UPLOAD_MAX_BYTES = 100
    client.force_login(referente)

    response = upload(client, community, PDF + b"0" * 200, "grande.pdf")

    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_an_upload_to_an_existing_document_adds_a_version(client, referente, community):
    document = factories.make_document(community)
    client.force_login(referente)

    upload(client, community, odt_bytes(), "statuto-firmato.odt", document=document.pk)

    assert list(document.versions.values_list("number", flat=True)) == [2, 1]


def test_a_member_may_not_upload(client, member_user, community):
    client.force_login(member_user)

    response = upload(client, community, PDF, "verbale.pdf")

    assert response.status_code == 403


def test_a_member_downloads_the_statute_but_not_a_membership_form(client, member_user, community):
    statute = factories.make_document(community, content=PDF).versions.get()
    form = factories.make_document(community, kind="MEMBERSHIP_FORM").versions.get()
    client.force_login(member_user)

    allowed = client.get(reverse("documents:download", args=[statute.pk]))
    refused = client.get(reverse("documents:download", args=[form.pk]))
    archive = client.get(reverse("documents:archive", args=[community.pk]))

    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == PDF
    assert 'filename="statuto.pdf"' in allowed["Content-Disposition"]
    assert refused.status_code == 403
    assert list(archive.context["documents"]) == [statute.document]


def test_a_member_of_another_community_cannot_download(client, outsider, community):
    version = factories.make_document(community).versions.get()
    client.force_login(outsider)

    response = client.get(reverse("documents:download", args=[version.pk]))

    assert response.status_code == 403


def test_the_drafted_statute_carries_the_communitys_data_in_docx_and_pdf(referente, community):
    factories.make_member(first_name="Giulia", last_name="Bianchi")
    now = timezone.now()

    statute, regulation = draft_founding_documents(
        community=community,
        kinds=["STATUTE", "REGULATION"],
        actor=referente,
        now=now,
        today=now.date(),
    )

    version = statute.versions.get()
    with version.file.open("rb") as stored:
        text = zipfile.ZipFile(stored).read("word/document.xml").decode()
    assert community.name in text
    assert community.fiscal_code in text
    assert referente.member.display_name in text
    assert "art. 31" in text
    with version.pdf_file.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
    assert regulation.kind == "REGULATION"
    assert Document.objects.filter(community=community).count() == 2


def test_the_pdf_download_of_a_drafted_document(client, referente, community):
    now = timezone.now()
    (statute,) = draft_founding_documents(
        community=community, kinds=["STATUTE"], actor=referente, now=now, today=now.date()
    )
    client.force_login(referente)

    response = client.get(reverse("documents:download_pdf", args=[statute.versions.get().pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_stored_files_are_not_served_directly(client, referente, community):
    version = factories.make_document(community).versions.get()
    client.force_login(referente)

    response = client.get(f"/media/{version.file.name}")

    assert response.status_code == 404
