"""A PNRR plant's compliance checklist: DNSH objectives, components, biogas and biomass
questions, their evidence and status on the plant page, and the grant file's check."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.compliance import plant_checks, rules
from cer.compliance.errors import ComplianceError
from cer.compliance.models import ItemStatus, PlantComplianceItem
from cer.grants import checks
from tests.compliance.conftest import NOW, pdf_upload
from tests.grants.helpers import filled_application

pytestmark = pytest.mark.django_db

DNSH_CODES = [item.code for item in rules.PLANT_ITEMS if item.group == rules.DNSH]


def _provide_and_accept_all(plant, pdf):
    for row in plant_checks.checklist(plant):
        plant_checks.provide_evidence(
            plant=plant,
            code=row.item.code,
            upload=pdf_upload(pdf),
            answer="YES" if row.item.question else "",
            actor=None,
            now=NOW,
        )
        plant_checks.accept(plant=plant, code=row.item.code, actor=None, now=NOW)


def test_the_six_dnsh_objectives_and_the_components_item_apply_to_a_pv_plant(small):
    codes = [item.code for item in rules.items_for("PV")]

    assert len(DNSH_CODES) == 6
    assert codes == [*DNSH_CODES, "NEW_COMPONENTS"]
    assert all(item.source for item in rules.PLANT_ITEMS)


def test_a_biogas_plant_also_answers_the_biogas_and_biomass_questions(small):
    small.plant.source = "BIOGAS"
    small.plant.save(update_fields=["source"])

    rows = plant_checks.checklist(small.plant)

    questions = [row.item.code for row in rows if row.item.question]
    assert questions and all(code.startswith("BIO_") for code in questions)
    assert all(row.status == ItemStatus.MISSING for row in rows)


def test_a_question_needs_an_answer_and_a_no_cannot_be_accepted(small):
    small.plant.source = "BIOMASS"
    small.plant.save(update_fields=["source"])

    with pytest.raises(ComplianceError) as unanswered:
        plant_checks.provide_evidence(
            plant=small.plant, code="BIO_GHG_SAVINGS", actor=None, now=NOW
        )
    plant_checks.provide_evidence(
        plant=small.plant, code="BIO_GHG_SAVINGS", answer="NO", actor=None, now=NOW
    )
    with pytest.raises(ComplianceError) as refused:
        plant_checks.accept(plant=small.plant, code="BIO_GHG_SAVINGS", actor=None, now=NOW)

    assert list(unanswered.value.errors) == ["answer"]
    assert list(refused.value.errors) == ["answer"]
    item = PlantComplianceItem.objects.get(code="BIO_GHG_SAVINGS")
    assert (item.status, item.answer) == (ItemStatus.PROVIDED, "NO")


def test_a_pv_plant_has_no_biogas_question(small):
    with pytest.raises(ComplianceError) as refused:
        plant_checks.provide_evidence(
            plant=small.plant, code="BIO_GHG_SAVINGS", answer="YES", actor=None, now=NOW
        )

    assert list(refused.value.errors) == ["code"]
    assert not PlantComplianceItem.objects.exists()


def test_the_plant_page_shows_each_item_with_its_evidence_and_status(client_of, small, pdf):
    filled_application(small)
    page_url = reverse("plant_detail", kwargs={"pk": small.plant.pk})

    missing = client_of.get(page_url).content.decode()
    client_of.post(
        reverse("compliance:plant_evidence", kwargs={"pk": small.plant.pk}),
        {"code": "DNSH_CIRCULAR", "file": pdf_upload(pdf, "piano-rifiuti.pdf"), "note": "70 %"},
    )
    provided = client_of.get(page_url).content.decode()

    assert 'id="plant-compliance"' in missing
    assert missing.count("status-MISSING") == 7
    assert provided.count("status-MISSING") == 6
    assert provided.count("status-PROVIDED") == 1
    assert "piano-rifiuti.pdf" in provided
    assert AuditEntry.objects.filter(code="compliance.plant_item.provided").count() == 1


def test_accepting_an_item_asks_for_confirmation_then_shows_it_accepted(client_of, small, pdf):
    filled_application(small)
    plant_checks.provide_evidence(
        plant=small.plant, code="NEW_COMPONENTS", upload=pdf_upload(pdf), actor=None, now=NOW
    )
    url = reverse("compliance:plant_accept", kwargs={"pk": small.plant.pk})

    asked = client_of.post(url, {"code": "NEW_COMPONENTS"})
    assert asked.status_code == 200
    assert PlantComplianceItem.objects.get().status == ItemStatus.PROVIDED

    client_of.post(url, {"code": "NEW_COMPONENTS", "confirmed": "yes"})
    page = client_of.get(reverse("plant_detail", kwargs={"pk": small.plant.pk}))

    assert PlantComplianceItem.objects.get().status == ItemStatus.ACCEPTED
    assert "status-ACCEPTED" in page.content.decode()
    assert AuditEntry.objects.filter(code="compliance.plant_item.accepted").count() == 1


def test_evidence_without_a_file_is_refused_on_the_page_naming_the_field(client_of, small):
    filled_application(small)

    response = client_of.post(
        reverse("compliance:plant_evidence", kwargs={"pk": small.plant.pk}),
        {"code": "DNSH_WATER"},
    )

    assert response.status_code == 400
    assert "Upload the evidence document." in response.content.decode()
    assert not PlantComplianceItem.objects.exists()


def test_a_plant_without_a_pnrr_file_shows_no_checklist(client_of, small):
    page = client_of.get(reverse("plant_detail", kwargs={"pk": small.plant.pk}))

    assert 'id="plant-compliance"' not in page.content.decode()


def test_the_grant_file_warns_until_every_item_is_accepted(small, pdf):
    application = filled_application(small)

    def dnsh_check():
        (check,) = [
            c for c in checks.check_application(application, today=NOW.date()) if c.field == "dnsh"
        ]
        return check

    before = dnsh_check()
    _provide_and_accept_all(small.plant, pdf)
    after = dnsh_check()

    assert (before.passed, before.blocking) == (False, False)
    assert after.passed is True
    assert plant_checks.dnsh_complete(small.plant) is True
