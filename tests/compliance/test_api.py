"""The compliance files read through the API: the anti-mafia file and a plant's checklist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cer.compliance import plant_checks
from cer.grants import services as grant_services
from tests import factories
from tests.api.conftest import client_for
from tests.compliance.conftest import NOW, holder, pdf_upload
from tests.grants.helpers import filled_application, granted_application

pytestmark = pytest.mark.django_db


def test_the_anti_mafia_file_lists_the_grants_and_each_subjects_state(small, referente_of):
    granted_application(small)
    grant_services.add_other_grant(
        plant=small.plant,
        source="Regione Veneto",
        amount_eur="135000.00",
        grant_date=dt.date(2025, 9, 1),
        actor=None,
        now=NOW,
    )
    person = holder(small.community, name="Mario Rossi")

    body = client_for(referente_of).get(
        reverse("api:community-antimafia", kwargs={"pk": small.community.pk})
    )

    assert body.status_code == 200, body.content
    data = body.json()
    assert (data["required"], data["total_eur"], data["threshold_eur"]) == (
        True,
        "155000.00",
        "150000.00",
    )
    (subject,) = data["subjects"]
    assert (subject["holder_id"], subject["state"], subject["signed_date"]) == (
        person.pk,
        "MISSING",
        None,
    )


def test_a_plain_member_cannot_read_the_anti_mafia_file(small):
    member = factories.make_user_with_role(small.community, role="MEMBER", username="socio-am")

    response = client_for(member).get(
        reverse("api:community-antimafia", kwargs={"pk": small.community.pk})
    )

    assert response.status_code == 403


def test_a_plants_checklist_shows_the_status_and_documents_of_each_item(small, referente_of, pdf):
    filled_application(small)
    item = plant_checks.provide_evidence(
        plant=small.plant, code="DNSH_WATER", upload=pdf_upload(pdf), actor=None, now=NOW
    )

    data = (
        client_for(referente_of)
        .get(reverse("api:plant-compliance", kwargs={"pk": small.plant.pk}))
        .json()
    )

    assert (data["applies"], data["complete"]) == (True, False)
    water = next(row for row in data["items"] if row["code"] == "DNSH_WATER")
    assert water["status"] == "PROVIDED"
    assert water["documents"] == [item.evidence.get().pk]
    assert "art. 9" in water["source"]
