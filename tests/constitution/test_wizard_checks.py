"""The wizard's checks through its pages: substation codes, market zones, where plants are,
founding dates, the name fields of each kind of person, and plants checked when saved."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from cer.communities.models import Community
from cer.members.forms import MemberForm
from cer.plants.models import EligibilityStatus, Plant
from tests.constitution import wizard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(client):
    user = User.objects.create_user("fondatrice", "anna@example.org", "prova-password-2025")
    client.force_login(user)
    return user


def fill(client, step, data, action="next"):
    return client.post(reverse(f"constitution:wizard_{step}"), {**data, "action": action})


def fill_until_review(client, *, configurations=None, points=None):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    for step, data in [
        ("kind", wizard_data.kind_step()),
        ("members", wizard_data.members_step()),
        ("configurations", configurations or wizard_data.configurations_step()),
        ("points", points or wizard_data.points_step()),
        ("distribution", wizard_data.distribution_step()),
    ]:
        response = fill(client, step, data)
        assert response.status_code == 302, (step, response.content.decode()[:3000])


def bari_configuration(code="AC001E00123"):
    return {
        **wizard_data.configurations_step(),
        "cfg-0-name": "Cabina Bari",
        "cfg-0-primary_substation": code,
        "cfg-0-region": "Puglia",
        "cfg-0-market_zone": "SUD",
    }


def test_a_substation_code_of_the_wrong_format_is_refused_on_its_field(client, founder):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    fill(client, "kind", wizard_data.kind_step())
    fill(client, "members", wizard_data.members_step())

    response = fill(client, "configurations", bari_configuration(code="XYZ123"))

    assert response.status_code == 400
    form = response.context["forms"]["configurations"].forms[0]
    assert list(form.errors) == ["primary_substation"]


def test_puglia_in_market_zone_north_is_refused_on_the_zone(client, founder):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    fill(client, "kind", wizard_data.kind_step())
    fill(client, "members", wizard_data.members_step())

    response = fill(client, "configurations", {**bari_configuration(), "cfg-0-market_zone": "NORD"})

    assert response.status_code == 400
    form = response.context["forms"]["configurations"].forms[0]
    assert list(form.errors) == ["market_zone"]


def test_a_founding_date_in_2030_is_refused_on_its_field(client, founder):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})

    response = fill(client, "kind", wizard_data.kind_step(founding_date="2030-01-01"))

    assert response.status_code == 400
    assert list(response.context["forms"]["community"].errors) == ["founding_date"]


def test_a_plant_in_spinea_under_a_bari_configuration_turns_the_checklist_red(client, founder):
    points = wizard_data.points_step()
    fill_until_review(client, configurations=bari_configuration(), points=points)

    response = client.get(reverse("constitution:wizard_review"))

    requirements = {r.code: r for r in response.context["requirements"]}
    assert requirements["AREA"].status == "NOT_MET"
    assert "FV tetto scuola" in str(requirements["AREA"].explanation)
    assert requirements["MARKET_ZONE"].status == "MET"


def test_the_wizard_saves_its_plants_checked_with_their_own_region(client, founder):
    fill_until_review(client, configurations=bari_configuration())

    fill(client, "review", wizard_data.review_step())

    plant = Plant.objects.get(name="FV tetto scuola")
    assert plant.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert plant.eligibility_checked_at is not None
    assert plant.region == "Veneto"
    assert plant.municipality_id == "027038"
    assert plant.primary_substation == "AC001E00123"
    results = {r["rule"]: r for r in plant.eligibility_results}
    assert results["AREA"]["outcome"] == "FAIL"
    # Veneto's correction, not Puglia's.
    assert results["PV_REGION"]["values"]["correction_eur_per_mwh"] == "10"


def test_no_plant_of_a_new_community_is_left_not_checked(client, founder):
    fill_until_review(client)

    fill(client, "review", wizard_data.review_step())

    community = Community.objects.get(name="CER Sole di Spinea")
    plants = Plant.objects.filter(connection_point__configuration__community=community)
    assert plants.exists()
    assert not plants.filter(eligibility_status=EligibilityStatus.UNCHECKED).exists()
    # The wizard cannot know the substation's area: to check, with the reason, not green.
    assert set(plants.values_list("eligibility_status", flat=True)) == {EligibilityStatus.TO_CHECK}


def test_the_name_fields_of_the_other_kind_of_person_are_ignored():
    data = {
        key.removeprefix("me-"): value
        for key, value in wizard_data.members_step(others=0, company_name="Forno Srl").items()
        if key.startswith("me-")
    }

    form = MemberForm(data)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["company_name"] == ""
    assert form.save(commit=False).company_name == ""


def test_the_members_step_marks_the_name_fields_for_the_kind_toggle(client, founder):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    fill(client, "kind", wizard_data.kind_step())

    page = client.get(reverse("constitution:wizard_members")).content.decode()

    assert "js/person_kind.js" in page
    assert "data-person-kind-choice" in page
    assert 'name="me-company_name"' in page and 'data-person-kind="LEGAL"' in page
    assert 'data-person-kind="NATURAL"' in page


def test_a_natural_persons_company_name_typed_in_the_wizard_is_not_saved(client, founder):
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    fill(client, "kind", wizard_data.kind_step())
    fill(client, "members", wizard_data.members_step(company_name="Forno Srl"))
    for step, data in [
        ("configurations", wizard_data.configurations_step()),
        ("points", wizard_data.points_step()),
        ("distribution", wizard_data.distribution_step()),
    ]:
        fill(client, step, data)

    fill(client, "review", wizard_data.review_step())

    community = Community.objects.get(name="CER Sole di Spinea")
    referente = community.memberships.get(role="REFERENTE").member
    assert referente.company_name == ""
    assert referente.first_name == "Anna"
