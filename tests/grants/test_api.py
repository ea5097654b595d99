"""The PNRR grant file through the API: open, read, change, check, grant, disburse, and the
same refusals as the pages, each naming its field; writes go through cer.grants' services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.grants.models import ApplicationState, CostItem, GrantApplication, PhaseState
from tests import factories
from tests.api.conftest import assert_error, client_for
from tests.factories.identifiers import valid_vat_number
from tests.grants.helpers import granted_application, small_in_spinea

pytestmark = pytest.mark.django_db


@pytest.fixture
def small():
    return small_in_spinea()


@pytest.fixture
def api_of(small):
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="ref-api")
    return client_for(user)


def _url(name: str, small) -> str:
    return reverse(f"api:{name}", kwargs={"pk": small.plant.pk})


def test_a_file_is_opened_changed_given_cost_items_and_made_ready_through_the_api(api_of, small):
    before = api_of.get(_url("plant-grant", small))
    opened = api_of.post(_url("plant-grant", small), {}, format="json")
    changed = api_of.patch(
        _url("plant-grant", small),
        {
            "works_start_date": "2025-09-01",
            "works_end_date": "2026-03-31",
            "expected_service_date": "2026-05-15",
            "requested_grant_eur": "20000.00",
        },
        format="json",
    )
    for category, description, amount in (
        ("PLANT", "Moduli e inverter", "38000.00"),
        ("CONNECTION", "Allaccio", "4000.00"),
        ("DESIGN", "Progettazione", "8000.00"),
    ):
        added = api_of.post(
            _url("plant-grant-cost-items", small),
            {"category": category, "description": description, "amount_eur": amount},
            format="json",
        )
        assert added.status_code == 201, added.content
    ready = api_of.post(_url("plant-grant-ready", small), {}, format="json")
    read = api_of.get(_url("plant-grant", small)).json()

    assert before.status_code == 200 and before.json()["application"] is None
    assert opened.status_code == 201
    assert changed.status_code == 200, changed.content
    assert changed.json()["application"]["works_end_date"] == "2026-03-31"
    assert ready.status_code == 200, ready.content
    assert read["application"]["state"] == ApplicationState.READY
    assert read["application"]["claimed_eur"] == "50000.00"
    assert read["maximum_grant_eur"] == "20000.00"  # 40 % of 50,000 within the 54,000 cap
    assert {check["field"] for check in read["checks"]} >= {"municipality", "dnsh"}
    codes = set(AuditEntry.objects.values_list("code", flat=True))
    assert {
        "grants.application.opened",
        "grants.application.changed",
        "grants.cost_item.added",
        "grants.application.ready",
    } <= codes


def test_an_amount_with_three_decimals_is_refused_naming_the_field(api_of, small):
    api_of.post(_url("plant-grant", small), {}, format="json")

    response = api_of.patch(
        _url("plant-grant", small), {"requested_grant_eur": "100.125"}, format="json"
    )

    error = assert_error(response, 400)
    assert "requested_grant_eur" in error["fields"]
    assert GrantApplication.objects.get().requested_grant_eur is None


def test_making_an_incomplete_file_ready_is_refused_with_each_field_and_rule(api_of, small):
    api_of.post(_url("plant-grant", small), {}, format="json")

    response = api_of.post(_url("plant-grant-ready", small), {}, format="json")

    error = assert_error(response, 400)
    assert {"works_start_date", "cost_items", "requested_grant_eur"} <= set(error["fields"])
    assert GrantApplication.objects.get().state == ApplicationState.DRAFT


def test_a_cost_item_claimed_by_the_pnrr_file_cannot_be_funded_by_another_grant(api_of, small):
    application = granted_application(small)
    item = application.cost_items.first()

    response = api_of.post(
        _url("plant-other-grants", small),
        {
            "source": "Regione Veneto",
            "amount_eur": "5000.00",
            "grant_date": "2025-09-01",
            "cost_items": [item.pk],
        },
        format="json",
    )

    error = assert_error(response, 400)
    assert list(error["fields"]) == ["cost_items"]
    assert api_of.get(_url("plant-other-grants", small)).json() == []


def test_an_advance_is_requested_sent_and_paid_through_the_api(api_of, small):
    granted_application(small, granted="20000.00")

    created = api_of.post(
        _url("plant-grant-disbursements", small),
        {"kind": "ADVANCE", "requested_eur": "6000.00"},
        format="json",
    )
    phase_id = created.json()["id"]
    too_much = api_of.post(
        _url("plant-grant-disbursements", small),
        {"kind": "INTERMEDIATE", "requested_eur": "15000.00"},
        format="json",
    )
    sent = api_of.post(
        _url("plant-grant-disbursement-state", small),
        {"id": phase_id, "action": "send"},
        format="json",
    )
    paid = api_of.post(
        _url("plant-grant-disbursement-state", small),
        {
            "id": phase_id,
            "action": "paid",
            "received_eur": "6000.00",
            "received_date": "2025-10-10",
        },
        format="json",
    )
    read = api_of.get(_url("plant-grant", small)).json()

    assert created.status_code == 201, created.content
    assert "requested_eur" in assert_error(too_much, 400)["fields"]  # 21,000 > 20,000
    assert sent.json()["state"] == PhaseState.SENT
    assert paid.json()["state"] == PhaseState.PAID
    assert Decimal(read["received_eur"]) == Decimal("6000.00")


def test_an_invoice_counted_twice_is_refused_naming_the_other_request(api_of, small):
    application = granted_application(small)
    item = CostItem.objects.get(application=application, category="PLANT")
    phase = api_of.post(
        _url("plant-grant-disbursements", small),
        {"kind": "INTERMEDIATE", "requested_eur": "4000.00"},
        format="json",
    ).json()
    invoice = {
        "request": phase["id"],
        "cost_item": item.pk,
        "invoice_number": "F-1",
        "sdi_id": "SDI-1",
        "supplier_vat": valid_vat_number(7),
        "invoice_date": "2025-10-01",
        "amount_eur": "10000.00",
        "payment_reference": "CRO-1",
        "payment_date": "2025-10-20",
    }

    first = api_of.post(_url("plant-grant-documents", small), invoice, format="json")
    second = api_of.post(_url("plant-grant-documents", small), invoice, format="json")

    assert first.status_code == 201, first.content
    error = assert_error(second, 400)
    assert list(error["fields"]) == ["sdi_id"]


def test_a_plain_member_does_not_see_the_file_and_another_referente_neither(small):
    member = factories.make_user_with_role(small.community, role="MEMBER", username="socio-api")
    other = factories.make_community(name="Altra CER", fiscal_code="00743110157")
    stranger = factories.make_user_with_role(other, role="REFERENTE", username="ref-altra")

    as_member = client_for(member).post(_url("plant-grant", small), {}, format="json")
    as_stranger = client_for(stranger).get(_url("plant-grant", small))

    assert as_member.status_code in (403, 404)
    assert as_stranger.status_code == 404
    assert not GrantApplication.objects.exists()
