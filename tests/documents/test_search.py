"""Archive search: text read at upload, words found in DOCX, ODT and PDF, never across
communities, filters, snippets, the re-extraction command, and the PostgreSQL path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry
from cer.documents import extraction
from cer.documents.models import Document, DocumentVersion, SignatureCheck, TextStatus
from cer.documents.search import UNSIGNED, Filters, search_documents, snippet
from tests import factories
from tests.documents.files import docx_bytes, odt_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


def upload(client, community, content, name, *, kind="MINUTES", title="Verbale", day="2025-03-30"):
    data = {
        "kind": kind,
        "title": title,
        "document_date": day,
        "file": SimpleUploadedFile(name, content),
    }
    response = client.post(reverse("documents:upload", args=[community.pk]), data)
    assert response.status_code == 302, response.content
    return Document.objects.get(community=community, title=title)


def search_page(client, community, **params):
    return client.get(reverse("documents:archive", args=[community.pk]), params)


def found_ids(response) -> set[int]:
    hits = response.context["hits"]
    assert hits is not None
    return {hit.document.pk for hit in hits}


# -- Extraction --------------------------------------------------------------------------


def test_docx_text_comes_from_paragraphs_and_tables():
    result = extraction.extract(
        docx_bytes("Assemblea dei soci", "inverter ibrido"), extraction.DOCX
    )

    assert result.status == TextStatus.EXTRACTED
    assert "Assemblea dei soci" in result.text and "inverter ibrido" in result.text


def test_odt_text_comes_from_headings_spans_and_tables():
    result = extraction.extract(
        odt_bytes("Regolamento", "Fotovoltaico sul tetto", "cella accumulo"), extraction.ODT
    )

    assert result.text.split("\n") == ["Regolamento", "Fotovoltaico sul tetto", "cella accumulo"]


def test_pdf_and_plain_text_are_read():
    assert (
        "fornitura"
        in extraction.extract(pdf_bytes("contratto di fornitura"), "application/pdf").text
    )
    assert extraction.extract("perché così".encode("latin-1"), "text/plain").text == "perché così"


def test_failures_are_recorded_not_raised():
    broken = extraction.extract(b"%PDF-1.4 nothing else", "application/pdf")
    image = extraction.extract(b"\x89PNG\r\n\x1a\n", "image/png")
    empty = extraction.extract(docx_bytes(""), extraction.DOCX)

    assert broken.status == TextStatus.FAILED and broken.text == "" and broken.problem
    assert image.status == TextStatus.UNSUPPORTED
    assert empty.status == TextStatus.EMPTY


def test_text_is_cut_at_the_size_cap(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_TEXT_CHARS", 10)

    result = extraction.extract(b"abcdefghijklmnopqrstuvwxyz", "text/plain")

    assert (result.text, result.status) == ("abcdefghij", TextStatus.TRUNCATED)


def test_a_broken_file_is_stored_with_its_failure(client, referente, community):
    client.force_login(referente)

    upload(client, community, b"%PDF-1.4 not really", "rotto.pdf")

    version = DocumentVersion.objects.get()
    assert version.text_status == TextStatus.FAILED and version.text_problem


def test_the_command_reads_old_versions_once(community):
    document = factories.make_document(community, content=pdf_bytes("manutenzione annuale"))
    DocumentVersion.objects.update(text="", text_status="")

    call_command("extract_document_text")
    version = document.versions.get()
    assert version.text_status == TextStatus.EXTRACTED and "manutenzione" in version.text
    DocumentVersion.objects.update(text="changed by hand")
    call_command("extract_document_text")

    # A second run leaves read versions alone; --all reads them again.
    assert document.versions.get().text == "changed by hand"
    call_command("extract_document_text", "--all")
    assert "manutenzione" in document.versions.get().text


# -- Search through the archive page -----------------------------------------------------


def test_a_word_inside_an_uploaded_docx_odt_and_pdf_is_found(client, referente, community):
    client.force_login(referente)
    in_docx = upload(
        client, community, docx_bytes("Premessa", "tabella girasole"), "a.docx", title="A"
    )
    in_odt = upload(client, community, odt_bytes("Titolo", "campo girasole"), "b.odt", title="B")
    in_pdf = upload(client, community, pdf_bytes("prato di girasole"), "c.pdf", title="C")
    upload(client, community, pdf_bytes("prato di margherite"), "d.pdf", title="D")

    response = search_page(client, community, q="girasole")

    assert response.status_code == 200
    assert found_ids(response) == {in_docx.pk, in_odt.pk, in_pdf.pk}
    assert "<mark>girasole</mark>" in response.content.decode()


def test_another_communitys_document_is_never_found(client, referente, community):
    other = factories.make_community(name="CER Altrove", fiscal_code="00743110157")
    other_manager = factories.make_user_with_role(other, role="REFERENTE", username="altro")
    theirs = factories.make_document(other, kind="STATUTE", content=pdf_bytes("segreto girasole"))
    client.force_login(referente)
    ours = upload(client, community, pdf_bytes("nostro girasole"), "n.pdf", kind="STATUTE")

    assert found_ids(search_page(client, community, q="girasole")) == {ours.pk}
    # The other community's manager, on their own archive, sees only theirs...
    client.force_login(other_manager)
    assert found_ids(search_page(client, other, q="girasole")) == {theirs.pk}
    # ...and may not open ours at all.
    assert search_page(client, community, q="girasole").status_code == 403
    hits = search_documents(other_manager, community, "girasole", today=timezone.localdate())
    assert hits == []


def test_a_member_finds_only_the_types_open_to_members(client, referente, member_user, community):
    client.force_login(referente)
    statute = upload(client, community, pdf_bytes("girasole comune"), "s.pdf", kind="STATUTE")
    upload(client, community, pdf_bytes("girasole privato"), "c.pdf", kind="CONTRACT", title="K")
    client.force_login(member_user)

    response = search_page(client, community, q="girasole")

    assert found_ids(response) == {statute.pk}
    assert "member" not in response.context["search_form"].fields


def test_every_word_must_match_in_title_or_text(client, referente, community):
    client.force_login(referente)
    both = upload(client, community, pdf_bytes("impianto eolico"), "a.pdf", title="Girasole A")
    upload(client, community, pdf_bytes("impianto solare"), "b.pdf", title="Girasole B")

    assert found_ids(search_page(client, community, q="girasole EOLICO")) == {both.pk}


def test_filters_by_type_date_member_plant_and_signature(client, referente, community):
    client.force_login(referente)
    owner = factories.make_member()
    community.memberships.create(
        member=owner, role="MEMBER", valid_from=dt.date(2024, 1, 1), iban=factories.IBAN
    )
    plant = factories.make_plant(factories.make_connection_point(community, owner))
    old = upload(client, community, pdf_bytes("girasole"), "a.pdf", title="Old", day="2020-01-10")
    new = upload(client, community, pdf_bytes("girasole"), "b.pdf", kind="CONTRACT", title="New")
    page = client.post(
        reverse("documents:document", args=[new.pk]), {"member": owner.pk, "plant": plant.pk}
    )
    assert page.status_code == 302
    assert AuditEntry.objects.filter(code="documents.document.linked").exists()
    SignatureCheck.objects.create(
        version=old.versions.get(),
        format="PADES",
        status="VALID",
        content_sha256="0" * 64,
        checked_at=timezone.now(),
    )

    def ids(**params):
        return found_ids(search_page(client, community, q="girasole", **params))

    assert ids() == {old.pk, new.pk}
    assert ids(kind="CONTRACT") == {new.pk}
    assert ids(date_from="2021-01-01") == {new.pk}
    assert ids(date_to="2020-12-31") == {old.pk}
    assert ids(member=owner.pk) == {new.pk}
    assert ids(plant=plant.pk) == {new.pk}
    assert ids(signature="VALID") == {old.pk}
    assert ids(signature=UNSIGNED) == {new.pk}
    assert ids(signature="INVALID") == set()
    # No words: the filtered documents, newest first.
    listed = search_page(client, community, kind="MINUTES").context["hits"]
    assert [hit.document.pk for hit in listed] == [old.pk]


def test_a_bad_filter_names_the_field(client, referente, community):
    client.force_login(referente)

    response = search_page(client, community, date_from="2025-02-01", date_to="2025-01-01")

    assert response.status_code == 400
    assert "date_to" in response.context["search_form"].errors


def test_links_only_to_the_communitys_members_and_plants(client, referente, community):
    stranger = factories.make_member()
    document = factories.make_document(community)
    client.force_login(referente)

    response = client.post(
        reverse("documents:document", args=[document.pk]), {"member": stranger.pk}
    )

    assert response.status_code == 400
    assert "member" in response.context["form"].errors
    document.refresh_from_db()
    assert document.member_id is None


def test_a_member_cannot_change_links(client, member_user, community):
    document = factories.make_document(community, kind="STATUTE")
    client.force_login(member_user)

    assert client.get(reverse("documents:document", args=[document.pk])).status_code == 200
    assert client.post(reverse("documents:document", args=[document.pk]), {}).status_code == 403


def test_the_snippet_is_escaped_with_the_words_marked():
    html = snippet("prima <script>alert(1)</script> poi i Contratti firmati", ["contratto"])

    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<mark>Contratti</mark>" in html


def test_search_filters_as_a_function(community):
    document = factories.make_document(community, kind="STATUTE", content=pdf_bytes("girasole"))
    admin = factories.make_user_with_role(community, role="REFERENTE", username="capo")
    today = timezone.localdate()

    assert [h.document for h in search_documents(admin, community, "girasole", today=today)] == [
        document
    ]
    assert search_documents(admin, community, "girasole", Filters(kind="OTHER"), today=today) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Italian full-text needs PostgreSQL")
def test_postgres_stems_italian_words_and_uses_the_index(client, referente, community):
    client.force_login(referente)
    document = upload(client, community, docx_bytes("Il contratto di fornitura"), "c.docx")
    upload(client, community, docx_bytes("Il verbale della riunione"), "v.docx", title="V")

    response = search_page(client, community, q="contratti")

    assert found_ids(response) == {document.pk}
    assert "<mark>contratto</mark>" in response.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'documents_version_text_italian'"
        )
        assert "gin" in cursor.fetchone()[0].lower()
