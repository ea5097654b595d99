"""The referente's pages: a file from draft to granted, then advance, instalment and balance
paid, all through the web client; bad input comes back naming the field."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.grants import phases
from cer.grants.models import ApplicationState, GrantApplication, PhaseState
from tests import factories
from tests.factories.identifiers import SPINEA, valid_vat_number
from tests.grants.helpers import NOW, filled_application, granted_application, small_in_spinea

pytestmark = pytest.mark.django_db


@pytest.fixture
def small():
    return small_in_spinea()


@pytest.fixture
def client_of(client, small):
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="ref-pnrr")
    client.force_login(user)
    return client


def _url(name, small):
    return reverse(f"grants:{name}", kwargs={"pk": small.plant.pk})


def _post(client, name, small, data, **extra):
    response = client.post(_url(name, small), data, **extra)
    assert response.status_code in (200, 302), response.content[:2000]
    return response


def _confirmed(client, name, small, data):
    first = client.post(_url(name, small), data)
    assert first.status_code == 200
    assert b'name="confirmed"' in first.content
    return _post(client, name, small, {**data, "confirmed": "yes"})


def _invoice(number, amount, request_id, item_id):
    return {
        "request": request_id,
        "cost_item": item_id,
        "invoice_number": number,
        "sdi_id": f"SDI{number}",
        "supplier_vat": valid_vat_number(11),
        "invoice_date": "2025-11-03",
        "amount_eur": amount,
        "payment_reference": f"TRN{number}",
        "payment_date": "2025-11-20",
        "file": SimpleUploadedFile(f"fattura-{number}.pdf", b"%PDF-1.4 fattura " + number.encode()),
    }


def _phase(client, small, kind, requested, documents, **extra):
    application = GrantApplication.objects.get(plant=small.plant)
    _post(client, "phase_create", small, {"kind": kind, "requested_eur": requested, **extra})
    phase = application.disbursements.latest("pk")
    for number, amount, item in documents:
        _post(client, "document_add", small, _invoice(number, amount, phase.pk, item.pk))
    _confirmed(client, "phase_state", small, {"request": phase.pk, "action": "send"})
    phase.refresh_from_db()
    assert phase.state == PhaseState.SENT
    _post(
        client,
        "phase_state",
        small,
        {
            "request": phase.pk,
            "action": "paid",
            "received_eur": requested,
            "received_date": "2026-02-10",
        },
    )
    phase.refresh_from_db()
    assert phase.state == PhaseState.PAID
    return phase


def test_a_file_goes_from_draft_to_granted_and_its_three_phases_are_paid(client_of, small):
    client = client_of
    _post(client, "file", small, {})
    _post(
        client,
        "edit",
        small,
        {
            "applicant": "COMMUNITY",
            "municipality_code": SPINEA,
            "works_start_date": "2025-09-01",
            "works_end_date": "2026-03-31",
            "expected_service_date": "2026-05-15",
            "requested_grant_eur": "20000.00",
        },
    )
    for category, description, amount in (
        ("PLANT", "Moduli e inverter", "38000.00"),
        ("CONNECTION", "Allaccio", "4000.00"),
        ("DESIGN", "Progettazione", "8000.00"),
    ):
        _post(
            client,
            "cost_items",
            small,
            {
                "category": category,
                "description": description,
                "amount_eur": amount,
                "claimed": "on",
            },
        )
    _post(client, "ready", small, {})
    application = GrantApplication.objects.get(plant=small.plant)
    assert application.state == ApplicationState.READY

    _confirmed(client, "submit", small, {"gse_reference": "CACER-PNRR-0001"})
    _confirmed(client, "decision", small, {"granted_eur": "20000.00"})

    application.refresh_from_db()
    small.plant.refresh_from_db()
    assert application.state == ApplicationState.GRANTED
    assert application.granted_eur == Decimal("20000.00")
    assert small.plant.capital_grant_pct == Decimal("40.00")  # 20,000 of 50,000
    items = {item.category: item for item in application.cost_items.all()}

    _phase(
        client,
        small,
        "ADVANCE",
        "6000.00",
        [],
        guarantee_issuer="Banca Prova",
        guarantee_reference="FID-1",
        guarantee_amount_eur="6000.00",
    )
    _phase(
        client,
        small,
        "INTERMEDIATE",
        "4000.00",
        [("1", "10000.00", items["PLANT"])],
        progress_report=SimpleUploadedFile("sal.pdf", b"%PDF-1.4 SAL"),
    )
    _phase(
        client,
        small,
        "BALANCE",
        "10000.00",
        [
            ("2", "28000.00", items["PLANT"]),
            ("3", "4000.00", items["CONNECTION"]),
            ("4", "8000.00", items["DESIGN"]),
        ],
        tip_contract_date="2026-06-01",
    )

    page = client.get(_url("file", small))
    assert page.status_code == 200
    assert "Ricevuti 20.000,00" in page.content.decode()
    codes = set(AuditEntry.objects.values_list("code", flat=True))
    assert {
        "grants.application.ready",
        "grants.application.submitted",
        "grants.application.granted",
        "grants.disbursement.sent",
        "grants.disbursement.paid",
        "plants.plant.changed",
    } <= codes
    listing = client.get(reverse("grants:application_list", kwargs={"pk": small.community.pk}))
    assert "20.000,00" in listing.content.decode()
    bundle = zipfile.ZipFile(io.BytesIO(client.get(_url("export", small)).content))
    attachments = [name for name in bundle.namelist() if name.startswith("attachments/")]
    assert len(attachments) == 5  # the progress report and four invoices


def test_an_upload_that_is_not_a_document_is_refused_naming_the_field(client_of, small):
    application = granted_application(small)
    phase = phases.create_disbursement(
        application=application, kind="INTERMEDIATE", requested_eur="100.00", actor=None, now=NOW
    )
    item = application.cost_items.get(category="PLANT")
    data = _invoice("9", "1000.00", phase.pk, item.pk)
    data["file"] = SimpleUploadedFile("fattura.xml", b"<FatturaElettronica/>")

    response = client_of.post(_url("document_add", small), data)

    assert response.status_code == 400
    assert '<a href="#id_file">' in response.content.decode()
    assert phase.documents.count() == 0


def test_a_cost_item_with_three_decimals_comes_back_naming_the_field(client_of, small):
    filled_application(small)

    response = client_of.post(
        _url("cost_items", small),
        {"category": "WORKS", "description": "Opere", "amount_eur": "10.005", "claimed": "on"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    # The page is in Italian, the default language: the field is named and linked.
    assert '<a href="#id_amount_eur">' in page
    assert "2 cifre decimali" in page
    assert GrantApplication.objects.get(plant=small.plant).cost_items.count() == 3


def test_a_failing_check_is_shown_with_its_field_and_rule(client_of, small):
    application = filled_application(small, requested="25000.00")

    response = client_of.post(_url("ready", small), follow=True)

    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT
    assert "contributo richiesto" in response.content.decode()
    assert "al massimo il 40" in response.content.decode()


def test_the_submission_bundle_holds_the_data_the_summary_and_the_documents(client_of, small):
    filled_application(small)

    response = client_of.get(_url("export", small))

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"application.json", "summary.pdf"} <= set(archive.namelist())
    data = json.loads(archive.read("application.json"))
    assert data["maximum_grant_eur"] == "20000.00"
    assert data["municipality"]["population_census_2011"] == 26862
    assert sorted(item["amount_eur"] for item in data["cost_items"]) == [
        "38000.00",
        "4000.00",
        "8000.00",
    ]
    assert archive.read("summary.pdf").startswith(b"%PDF")


def test_a_plain_member_cannot_open_the_file(client, small):
    user = factories.make_user_with_role(small.community, role="MEMBER", username="socio-pnrr")
    client.force_login(user)

    response = client.get(_url("file", small))

    assert response.status_code == 403
