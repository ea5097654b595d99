"""Personal access tokens write documents and invoices with their scopes, as docs/api.md says.

`documents:write` and `invoices:write` are scopes a token can hold: a token with the
scope uploads and writes like its owner; one without it gets 403 `missing_scope`.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from cer.accounts import tokens
from cer.billing.models import Invoice
from cer.documents.models import Document
from tests.api.conftest import assert_error
from tests.factories.invoices import ready_to_invoice

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%statuto\n" + b"0" * 200
INVOICE = {
    "customer_name": "Bottega Verde S.r.l.",
    "customer_vat_number": "01234560279",
    "customer_address": "Via Roma 10",
    "customer_postal_code": "30038",
    "customer_city": "Spinea",
    "lines": [
        {
            "description": "Quota associativa 2025",
            "quantity": "2",
            "unit_price_eur": "12.50",
            "vat_rate": "22",
        }
    ],
}


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _token_client(user, scopes: list[str]) -> APIClient:
    created = tokens.create_token(
        owner=user, name="script", scopes=scopes, now=timezone.now(), expires_at=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    return client


def _document() -> dict:
    return {
        "kind": "STATUTE",
        "title": "Statuto 2025",
        "document_date": "2025-03-30",
        "file": SimpleUploadedFile("statuto.pdf", PDF, content_type="application/pdf"),
    }


@pytest.mark.parametrize("path", ["/api/v1/communities/{id}/documents", "/api/documents"])
def test_a_documents_write_token_uploads_and_a_read_token_is_refused(personas, world, path):
    community = world.community
    url = path.format(id=community.pk)
    extra = {"community": community.pk} if "{id}" not in path else {}
    writer = _token_client(personas["referente"], ["documents:write"])
    reader = _token_client(personas["referente"], ["read"])

    refused = reader.post(url, {**_document(), **extra}, format="multipart")
    uploaded = writer.post(url, {**_document(), **extra}, format="multipart")

    assert "documents:write" in assert_error(refused, 403, "missing_scope")["message"]
    assert uploaded.status_code == 201, uploaded.content
    assert Document.objects.filter(community=community, title="Statuto 2025").count() == 1


@pytest.mark.parametrize("path", ["/api/v1/communities/{id}/invoices", "/api/invoices"])
def test_an_invoices_write_token_writes_a_draft_and_a_read_token_is_refused(personas, world, path):
    community = world.community
    url = path.format(id=community.pk)
    body = INVOICE if "{id}" in path else {**INVOICE, "community": community.pk}
    writer = _token_client(personas["referente"], ["invoices:write"])
    reader = _token_client(personas["referente"], ["read"])
    drafts_before = Invoice.objects.count()

    refused = reader.post(url, body, format="json")
    created = writer.post(url, body, format="json")

    assert "invoices:write" in assert_error(refused, 403, "missing_scope")["message"]
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "DRAFT"
    assert created.json()["customer_province"] == ""  # omitted optional text stays empty
    assert Invoice.objects.count() == drafts_before + 1


def test_an_invoices_write_token_issues_an_invoice(personas, world):
    ready_to_invoice(world.community)
    writer = _token_client(personas["referente"], ["invoices:write", "read"])
    created = writer.post(
        f"/api/v1/communities/{world.community.pk}/invoices", INVOICE, format="json"
    ).json()

    issued = writer.post(f"/api/v1/invoices/{created['id']}/issue")

    assert issued.status_code == 200, issued.content
    assert issued.json()["status"] == "ISSUED"
