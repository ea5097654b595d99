"""The document archive through the API: list, upload, download, and the first API's alias."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from cer.accounts import tokens
from cer.audit.models import AuditEntry
from cer.communities.models import Community
from cer.documents.models import Document
from tests import factories
from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%verbale assemblea\n" + b"0" * 200


def _pdf(name: str = "verbale.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _new_document(**overrides):
    body = {
        "kind": "MINUTES",
        "title": "Verbale assemblea 30 marzo",
        "document_date": "2025-03-30",
        "file": _pdf(),
    }
    body.update(overrides)
    return body


def test_a_referente_uploads_a_document_and_downloads_the_same_bytes(personas, community):
    client = client_for(personas["referente"])

    created = client.post(
        f"/api/v1/communities/{community.pk}/documents", _new_document(), format="multipart"
    )
    download = client.get(created.json()["download_url"])

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "MINUTES" and body["community"] == community.pk
    assert body["versions"][0]["number"] == 1
    assert body["versions"][0]["content_type"] == "application/pdf"
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="verbale.pdf"' in download["Content-Disposition"]
    assert AuditEntry.objects.filter(code="documents.version.added").count() == 1


def test_an_upload_naming_a_document_adds_a_version(personas, community):
    document = factories.make_document(community)
    client = client_for(personas["administrator"])

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents",
        {"document": document.pk, "file": _pdf(content=PDF + b"v2"), "note": "firmato"},
        format="multipart",
    )
    download = client.get(f"/api/v1/documents/{document.pk}/download")

    assert response.status_code == 201, response.content
    assert [v["number"] for v in response.json()["versions"]] == [2, 1]
    assert b"".join(download.streaming_content) == PDF + b"v2"


def test_a_file_that_is_not_an_accepted_type_is_refused_naming_the_field(personas, community):
    client = client_for(personas["referente"])
    disguised = SimpleUploadedFile("statuto.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents",
        _new_document(file=disguised),
        format="multipart",
    )

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["file"]
    assert Document.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_naming_the_field(personas, community, settings):
    settings.UPLOAD_MAX_BYTES = 100
    client = client_for(personas["referente"])

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents", _new_document(), format="multipart"
    )

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["file"]
    assert Document.objects.count() == 0


def test_a_new_document_without_title_and_date_names_both_fields(personas, community):
    client = client_for(personas["referente"])

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents",
        {"kind": "MINUTES", "file": _pdf()},
        format="multipart",
    )

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"title", "document_date"}


def test_a_json_body_is_refused_as_unsupported(personas, community):
    client = client_for(personas["referente"])

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents", {"title": "x"}, format="json"
    )

    assert_error(response, 415, "unsupported_media_type")


def test_a_member_may_not_upload(personas, community):
    client = client_for(personas["member"])

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents", _new_document(), format="multipart"
    )

    assert_error(response, 403, "permission_denied")
    assert Document.objects.count() == 0


def test_a_member_lists_and_downloads_only_the_kinds_open_to_members(personas, community):
    statute = factories.make_document(community, kind="STATUTE")
    contract = factories.make_document(community, kind="CONTRACT")
    member = client_for(personas["member"])
    referente = client_for(personas["referente"])

    seen_by_member = member.get(f"/api/v1/communities/{community.pk}/documents").json()
    seen_by_referente = referente.get(f"/api/v1/communities/{community.pk}/documents").json()
    hidden = member.get(f"/api/v1/documents/{contract.pk}/download")
    open_ = member.get(f"/api/v1/documents/{statute.pk}/download")

    assert [row["id"] for row in seen_by_member["results"]] == [statute.pk]
    assert {row["id"] for row in seen_by_referente["results"]} == {statute.pk, contract.pk}
    assert_error(hidden, 404, "not_found")
    assert open_.status_code == 200


def test_another_communitys_archive_and_files_are_hidden(personas, community):
    other = Community.objects.get(name="CER Altrove")
    foreign = factories.make_document(other, kind="STATUTE")
    client = client_for(personas["referente"])

    listing = client.get(f"/api/v1/communities/{other.pk}/documents")
    download = client.get(f"/api/v1/documents/{foreign.pk}/download")

    assert_error(listing, 404, "not_found")
    assert_error(download, 404, "not_found")


def test_the_first_apis_alias_takes_the_community_as_a_form_field(personas, community):
    client = client_for(personas["referente"])

    response = client.post(
        "/api/documents", {"community": community.pk, **_new_document()}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert Document.objects.get().community == community


@pytest.mark.parametrize("community_field", ["", "abc", "999999", "9" * 40])
def test_the_alias_refuses_an_unknown_community_naming_the_field(
    personas, community, community_field
):
    client = client_for(personas["referente"])

    response = client.post(
        "/api/documents", {"community": community_field, **_new_document()}, format="multipart"
    )

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["community"]


def test_the_alias_refuses_a_member_of_the_community(personas, community):
    client = client_for(personas["member"])

    response = client.post(
        "/api/documents", {"community": community.pk, **_new_document()}, format="multipart"
    )

    assert_error(response, 403, "permission_denied")


def test_the_type_comes_from_the_content_not_the_name(personas, community):
    client = client_for(personas["referente"])
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)

    response = client.post(
        f"/api/v1/communities/{community.pk}/documents",
        _new_document(kind="OTHER", file=SimpleUploadedFile("foto.pdf", png, "application/pdf")),
        format="multipart",
    )

    assert response.status_code == 201, response.content
    version = response.json()["versions"][0]
    assert version["content_type"] == "image/png"
    stored = Document.objects.get().latest_version
    assert stored.file.name.endswith(".png") and stored.original_name == "foto.pdf"
    with stored.file.open("rb") as handle:
        assert handle.read() == png


def test_a_token_reads_the_archive_with_read_and_uploads_only_with_documents_write(
    personas, community
):
    def token_client(scopes):
        created = tokens.create_token(
            owner=personas["referente"],
            name="archivio",
            scopes=scopes,
            now=timezone.now(),
            expires_at=None,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
        return client

    url = f"/api/v1/communities/{community.pk}/documents"
    reader = token_client(["read"])
    writer = token_client(["documents:write"])

    listed = reader.get(url)
    refused = reader.post(url, _new_document(), format="multipart")
    uploaded = writer.post(url, _new_document(), format="multipart")

    assert listed.status_code == 200
    assert "documents:write" in assert_error(refused, 403, "missing_scope")["message"]
    assert uploaded.status_code == 201, uploaded.content
    assert Document.objects.filter(community=community, title__startswith="Verbale").count() == 1
