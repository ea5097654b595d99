"""The archive through the API: signed uploads verified like on the page, and the search."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cer.documents import drafting
from cer.documents.models import DocumentVersion, SignatureCheck
from tests import factories
from tests.api.conftest import client_for
from tests.documents import pki as test_pki
from tests.documents.files import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki():
    return test_pki.make_pki()


@pytest.fixture(autouse=True)
def anchors(pki, settings, tmp_path):
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    settings.SIGNATURE_ALLOW_FETCHING = False


@pytest.fixture(scope="module")
def pdf():
    return drafting.to_pdf([drafting.Block("paragraph", "Mandato firmato")], title="Mandato")


def post(client, community, content, name, **fields):
    body = {
        "kind": "CONTRACT",
        "title": "Mandato",
        "document_date": "2026-03-03",
        "file": SimpleUploadedFile(name, content),
        **fields,
    }
    return client.post(f"/api/v1/communities/{community.pk}/documents", body, format="multipart")


def test_a_p7m_uploaded_through_the_api_is_verified_and_shown(referente, community, pki, pdf):
    envelope = test_pki.sign_p7m(pki, pki.signer, pdf)

    response = post(client_for(referente), community, envelope, "mandato.pdf.p7m")

    assert response.status_code == 201, response.content
    version = response.json()["versions"][0]
    assert version["original_name"] == "mandato.pdf"
    assert version["text_status"] == "EXTRACTED"
    [check] = version["signature_checks"]
    assert (check["status"], check["format"], check["tax_code"]) == (
        "VALID",
        "CADES",
        test_pki.TAX_CODE,
    )
    assert check["content_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert "Mario Rossi" in check["summary"]
    stored = SignatureCheck.objects.get()
    assert stored.version.file.read() == pdf and stored.envelope.read() == envelope
    # The signed content's text is searchable.
    assert "Mandato firmato" in DocumentVersion.objects.get().text


def test_signed_mark_and_expected_hash_through_the_api(referente, community, pki, pdf):
    client = client_for(referente)
    signed = test_pki.sign_pdf(pki, pki.signer, pdf)

    unsigned = post(client, community, pdf, "a.pdf", title="A", signed="true")
    other_version = post(client, community, signed, "b.pdf", title="B", expected_sha256="a" * 64)
    bad_hash = post(client, community, signed, "c.pdf", title="C", expected_sha256="zz")

    assert unsigned.status_code == 201
    [check] = unsigned.json()["versions"][0]["signature_checks"]
    assert check["status"] == "INVALID" and check["reasons"][0]["code"] == "no_signature"
    [check] = other_version.json()["versions"][0]["signature_checks"]
    assert check["status"] == "INVALID"
    assert "other_version" in [reason["code"] for reason in check["reasons"]]
    assert bad_hash.status_code == 400 and "expected_sha256" in bad_hash.content.decode()


def test_a_p7m_that_is_not_cms_is_refused_naming_the_file(referente, community):
    response = post(client_for(referente), community, b"not a signature", "x.pdf.p7m")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    assert DocumentVersion.objects.count() == 0


def test_an_unsigned_api_upload_carries_no_check(referente, community, pdf):
    response = post(client_for(referente), community, pdf, "a.pdf")

    assert response.status_code == 201
    assert response.json()["versions"][0]["signature_checks"] == []


def test_api_search_uses_the_same_rules_as_the_page(referente, member_user, community):
    other = factories.make_community(name="CER Altrove", fiscal_code="00743110157")
    other_manager = factories.make_user_with_role(other, role="REFERENTE", username="altro")
    factories.make_document(other, content=pdf_bytes("girasole altrui"))
    statute = factories.make_document(community, kind="STATUTE", content=pdf_bytes("girasole"))
    factories.make_document(community, kind="CONTRACT", content=pdf_bytes("girasole privato"))
    url = f"/api/v1/communities/{community.pk}/documents/search"

    manager_hits = client_for(referente).get(url, {"q": "girasole"})
    member_hits = client_for(member_user).get(url, {"q": "girasole"})
    stranger = client_for(other_manager).get(url, {"q": "girasole"})
    bad = client_for(referente).get(
        url, {"q": "x", "date_from": "2025-02-01", "date_to": "2025-01-01"}
    )

    assert manager_hits.status_code == 200
    assert len(manager_hits.json()) == 2
    assert [hit["id"] for hit in member_hits.json()] == [statute.pk]
    assert "<mark>girasole</mark>" in member_hits.json()[0]["snippet"]
    assert stranger.status_code in (403, 404)
    assert bad.status_code == 400 and "date_to" in bad.json()["error"]["fields"]
