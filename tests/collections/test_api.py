"""The API creates requests and mandates through the services the pages call."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cer.audit.models import AuditEntry
from cer.collections.models import Mandate, PaymentRequest
from tests.collections.conftest import DEBTOR_IBAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(place):
    # The refusals are read in English: the client asks for it, as a browser would.
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(place.manager)
    return client


def test_a_request_is_created_and_listed(api, place):
    url = f"/api/v1/communities/{place.community.pk}/payment-requests"
    body = {
        "member": place.members[0].pk,
        "kind": "ENTRY_FEE",
        "amount_eur": "15.50",
        "due_date": "2025-05-31",
        "description": "Quota di ingresso",
    }

    created = api.post(url, body, format="json")
    listed = api.get(url)

    assert created.status_code == 201, created.json()
    assert created.json()["reference"] == f"CERR{created.json()['id']}"
    assert listed.json()["results"][0]["amount_eur"] == "15.50"
    assert AuditEntry.objects.filter(code="collections.request.created").count() == 1


def test_an_amount_with_three_decimals_is_refused_naming_the_field(api, place):
    response = api.post(
        f"/api/v1/communities/{place.community.pk}/payment-requests",
        {
            "member": place.members[0].pk,
            "kind": "ENTRY_FEE",
            "amount_eur": "15.505",
            "due_date": "2025-05-31",
            "description": "Quota di ingresso",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "more than two decimals" in str(response.json()["error"]["fields"]["amount_eur"])
    assert not PaymentRequest.objects.exists()


def test_a_mandate_without_signature_date_is_refused_through_the_api(api, place):
    url = f"/api/v1/communities/{place.community.pk}/mandates"
    body = {"member": place.members[2].pk, "debtor_name": "Mario Rossi", "iban": DEBTOR_IBAN}

    refused = api.post(url, body, format="json")
    created = api.post(url, {**body, "signed_date": "2025-02-01"}, format="json")

    assert refused.status_code == 400
    assert "signature date is required" in str(refused.json()["error"]["fields"]["signed_date"])
    assert created.status_code == 201
    assert created.json()["reference"] == f"CER{place.community.pk}-{place.members[2].pk}-1"
    assert Mandate.objects.filter(member=place.members[2]).count() == 1


def test_a_member_cannot_read_the_communitys_requests(place):
    client = APIClient()
    client.force_authenticate(place.members[0].user)
    response = client.get(f"/api/v1/communities/{place.community.pk}/payment-requests")
    assert response.status_code in (403, 404)
