"""Invoices through the API: drafts with decimal strings, field paths, issue, file, access."""

from __future__ import annotations

import pytest

from cer.audit.models import AuditEntry
from cer.billing.models import Invoice
from tests.api.conftest import assert_error, client_for
from tests.factories.invoices import ready_to_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _body(**overrides):
    body = {
        "customer_name": "Bottega Verde S.r.l.",
        "customer_vat_number": "01234560279",
        "customer_address": "Via Roma 10",
        "customer_postal_code": "30038",
        "customer_city": "Spinea",
        "customer_province": "VE",
        "sdi_code": "ABC1234",
        "lines": [
            {
                "description": "Quota associativa 2025",
                "quantity": "3",
                "unit_price_eur": "12.50",
                "vat_rate": "22",
            },
            {
                "description": "Monitoraggio impianto [ore]",
                "quantity": "2.5",
                "unit_price_eur": "10.05",
                "vat_rate": "22",
            },
            {
                "description": "Consulenza energetica [ore]",
                "quantity": "1.333",
                "unit_price_eur": "30",
                "vat_rate": "10",
            },
            {
                "description": "Contributo di adesione",
                "quantity": "1",
                "unit_price_eur": "15",
                "vat_rate": "0",
                "natura": "N2.2",
            },
            {
                "description": "Energia [kWh]",
                "quantity": "123.456",
                "unit_price_eur": "0.11823456",
                "vat_rate": "22",
            },
        ],
    }
    body.update(overrides)
    return body


def test_a_manager_writes_a_draft_and_gets_decimal_strings(personas, world):
    client = client_for(personas["referente"])

    response = client.post(
        f"/api/v1/communities/{world.community.pk}/invoices", _body(), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "DRAFT" and data["number"] == ""
    assert (data["taxable_eur"], data["tax_eur"], data["total_eur"]) == (
        "132.22",
        "20.99",
        "153.21",
    )
    assert [line["total_eur"] for line in data["lines"]] == [
        "37.50",
        "25.13",
        "39.99",
        "15.00",
        "14.60",
    ]
    assert data["summary"][0] == {
        "vat_rate": "22.00",
        "natura": "",
        "taxable_eur": "77.23",
        "tax_eur": "16.99",
    }
    assert AuditEntry.objects.filter(code="billing.invoice.created").count() == 1


def test_a_zero_rate_line_without_natura_is_refused_naming_the_line(personas, world):
    client = client_for(personas["referente"])
    body = _body()
    body["lines"][1] = {**body["lines"][1], "vat_rate": "0"}
    body["lines"][2] = {**body["lines"][2], "natura": "N4"}

    response = client.post(
        f"/api/v1/communities/{world.community.pk}/invoices", body, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"lines[1].natura", "lines[2].natura"}
    assert Invoice.objects.count() == 1  # the world's own draft only


def test_unknown_fields_are_refused_even_inside_a_line(personas, world):
    client = client_for(personas["referente"])
    url = f"/api/v1/communities/{world.community.pk}/invoices"
    in_line = _body()
    in_line["lines"][0] = {**in_line["lines"][0], "colour": "red"}

    at_top = client.post(url, _body(discount="10"), format="json")
    inside = client.post(url, in_line, format="json")

    assert set(assert_error(at_top, 400, "invalid")["fields"]) == {"discount"}
    assert set(assert_error(inside, 400, "invalid")["fields"]) == {"lines[0].colour"}


def test_a_member_of_another_community_cannot_be_the_customer(personas, world, other_world):
    client = client_for(personas["referente"])
    body = _body(member=other_world.objects["member"].pk)

    response = client.post(
        f"/api/v1/communities/{world.community.pk}/invoices", body, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert "member" in error["fields"]


def test_issue_numbers_the_invoice_and_the_file_can_be_downloaded(personas, world):
    ready_to_invoice(world.community)
    client = client_for(personas["administrator"])
    created = client.post(
        f"/api/v1/communities/{world.community.pk}/invoices", _body(), format="json"
    ).json()

    before = client.get(f"/api/v1/invoices/{created['id']}/xml")
    issued = client.post(f"/api/v1/invoices/{created['id']}/issue")
    again = client.post(f"/api/v1/invoices/{created['id']}/issue")
    xml = client.get(f"/api/v1/invoices/{created['id']}/xml")

    assert_error(before, 409, "conflict")
    assert issued.status_code == 200, issued.content
    assert issued.json()["status"] == "ISSUED"
    assert issued.json()["number"].startswith("1/")
    assert issued.json()["sent_at"] is not None
    assert_error(again, 409, "conflict")
    assert xml.status_code == 200
    assert xml["Content-Type"] == "application/xml"
    assert issued.json()["file_name"] in xml["Content-Disposition"]
    assert b"<ImportoTotaleDocumento>153.21</ImportoTotaleDocumento>" in xml.content
    assert AuditEntry.objects.filter(code="billing.invoice.issued").count() == 1


def test_issue_without_the_communitys_data_names_what_is_missing(personas, world):
    client = client_for(personas["referente"])
    created = client.post(
        f"/api/v1/communities/{world.community.pk}/invoices", _body(), format="json"
    ).json()

    response = client.post(f"/api/v1/invoices/{created['id']}/issue")

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"vat_number", "seat_postal_code"}


def test_the_seed_path_takes_the_community_in_the_body(personas, world):
    client = client_for(personas["referente"])

    response = client.post("/api/invoices", _body(community=world.community.pk), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["community"] == world.community.pk


@pytest.mark.parametrize(("persona", "status"), [("member", 403), ("outsider", 400)])
def test_the_seed_path_refuses_who_does_not_manage_the_community(personas, world, persona, status):
    client = client_for(personas[persona])

    response = client.post("/api/invoices", _body(community=world.community.pk), format="json")

    assert_error(response, status)
    assert Invoice.objects.count() == 1  # the world's own draft only


def test_members_see_neither_the_list_nor_an_invoice(personas, world):
    client = client_for(personas["member"])
    invoice = world.objects["invoice"]

    listing = client.get(f"/api/v1/communities/{world.community.pk}/invoices")
    detail = client.get(f"/api/v1/invoices/{invoice.pk}")

    assert_error(listing, 403)
    assert_error(detail, 404, "not_found")
