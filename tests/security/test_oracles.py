"""No page or endpoint tells a user what lies in communities they cannot see.

Two communities: A (the `community` fixture) and B ("CER Lontana"), where Giulia Segreti is
a member with a POD. People of A, or anyone logged in, must not learn from an error message
that her tax code or POD is registered, nor name people or points of B anywhere; a plain
member of A sees only their own PODs; nobody picks a mediator by typing a username.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from cer.billing.disputes import DisputeError, act_on_dispute, open_dispute
from cer.billing.models import DisputeState
from cer.communities.uniqueness import POD_HERE, TAX_CODE_HERE, UNUSABLE
from cer.distribution.models import DistributionPolicy
from cer.distribution.services import InvalidPlan, set_policy
from cer.plants.visibility import neutral_plant_label
from tests import factories
from tests.api.conftest import client_for
from tests.constitution import wizard_data
from tests.factories.billing import make_statement
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 4, 5, 10, tzinfo=dt.UTC)
SECRET_POD = "IT001E88880001"


@pytest.fixture
def elsewhere(db):
    """Community B, with a member whose surname is in her plant's name."""
    other = factories.make_community(name="CER Lontana")
    member = factories.make_membership(
        other, member=factories.make_member(first_name="Giulia", last_name="Segreti")
    ).member
    point = factories.make_connection_point(other, member, pod=SECRET_POD, has_injection=True)
    factories.make_plant(point, name="FV Segreti")
    return member


@pytest.fixture
def blocked(db):
    """A person registered on the platform but in no community (an application pending)."""
    return factories.make_member(first_name="Bruno", last_name="Sospeso")


def _assert_reveals_nothing(page: str, *, typed: str = "") -> None:
    """Neither community B nor its member appear, apart from what the user typed."""
    if typed:
        page = page.replace(typed, "")
    for secret in ("CER Lontana", "Giulia", "Segreti", SECRET_POD):
        assert secret not in page


@pytest.fixture
def founder(client, db):
    """Anyone with an account, about to constitute a community."""
    user = User.objects.create_user("fondatrice", "anna@example.org", "prova-password-2025")
    client.force_login(user)
    client.post(reverse("constitution:wizard_start"), {"action": "start"})
    return user


def _wizard(client, step, data):
    return client.post(reverse(f"constitution:wizard_{step}"), {**data, "action": "next"})


# 1. Tax codes and PODs ------------------------------------------------------------------


def test_the_wizard_refuses_taken_tax_codes_in_the_same_neutral_words(
    client, founder, elsewhere, blocked
):
    _wizard(client, "kind", wizard_data.kind_step())

    errors = {}
    for case, code in (("elsewhere", elsewhere.fiscal_code), ("blocked", blocked.fiscal_code)):
        response = _wizard(client, "members", wizard_data.members_step(fiscal_code=code))
        assert response.status_code == 400
        _assert_reveals_nothing(response.content.decode())
        errors[case] = response.context["forms"]["me"].errors["fiscal_code"]
    free = _wizard(client, "members", wizard_data.members_step())

    assert errors["elsewhere"] == errors["blocked"] == [str(UNUSABLE)]
    assert free.status_code == 302


def test_the_wizard_refuses_a_community_tax_code_and_a_pod_of_another_community_neutrally(
    client, founder, elsewhere
):
    taken_code = elsewhere.memberships.get().community.fiscal_code

    kind = _wizard(client, "kind", wizard_data.kind_step(fiscal_code=taken_code))
    free = _wizard(client, "kind", wizard_data.kind_step())
    _wizard(client, "members", wizard_data.members_step())
    _wizard(client, "configurations", wizard_data.configurations_step())
    points = _wizard(client, "points", {**wizard_data.points_step(), "pt-1-pod": SECRET_POD})

    assert kind.status_code == 400
    assert kind.context["forms"]["community"].errors["fiscal_code"] == [str(UNUSABLE)]
    _assert_reveals_nothing(kind.content.decode())
    assert free.status_code == 302
    assert points.status_code == 400
    assert points.context["forms"]["points"].forms[1].errors["pod"] == [str(UNUSABLE)]
    _assert_reveals_nothing(points.content.decode(), typed=SECRET_POD)


def test_an_applicant_learns_nothing_about_tax_codes_and_pods_of_other_communities(
    client, community, elsewhere, blocked
):
    profile = factories.make_application(community, status="IN_PROGRESS", step="PROFILE")
    profile.member = None
    profile.save(update_fields=["member"])
    client.force_login(profile.user)
    typed = wizard_data.members_step(others=0)
    data = {f"p-{key[3:]}": value for key, value in typed.items() if key.startswith("me-")}

    answers = [
        client.post(reverse("members:onboarding"), {**data, "p-fiscal_code": code})
        for code in (elsewhere.fiscal_code, blocked.fiscal_code)
    ]
    points = factories.make_application(community, status="IN_PROGRESS", step="POINTS")
    client.force_login(points.user)
    declared = client.post(
        reverse("members:onboarding"),
        {
            "pt-TOTAL_FORMS": "1",
            "pt-INITIAL_FORMS": "0",
            "pt-0-pod": SECRET_POD,
            "pt-0-configuration": str(community.configurations.get().pk),
            "pt-0-contracted_power_kw": "3",
            "pt-0-has_withdrawal": "on",
        },
    )

    assert [a.status_code for a in answers] == [400, 400]
    assert [a.context["form"].errors["fiscal_code"] for a in answers] == [[str(UNUSABLE)]] * 2
    assert declared.status_code == 400
    assert declared.context["formset"].forms[0].errors["pod"] == [str(UNUSABLE)]
    for response in (*answers, declared):
        _assert_reveals_nothing(response.content.decode(), typed=SECRET_POD)


def _member_body(community, fiscal_code):
    return {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Nuovo",
        "last_name": "Socio",
        "fiscal_code": fiscal_code,
        "email": "nuovo@example.org",
        "address": "Via Verdi 3",
        "municipality": factories.SPINEA,
        "community": community.pk,
        "valid_from": "2025-01-01",
    }


def test_the_api_says_already_registered_only_inside_the_managers_community(
    community, referente, member_user, elsewhere, blocked
):
    api = client_for(referente)

    answers = {
        case: api.post("/api/v1/members", _member_body(community, code), format="json")
        for case, code in (
            ("elsewhere", elsewhere.fiscal_code),
            ("blocked", blocked.fiscal_code),
            ("here", member_user.member.fiscal_code),
        )
    }

    assert {case: r.status_code for case, r in answers.items()} == dict.fromkeys(answers, 400)
    fields = {case: r.json()["error"]["fields"] for case, r in answers.items()}
    assert fields["elsewhere"] == fields["blocked"] == {"fiscal_code": [str(UNUSABLE)]}
    assert fields["here"] == {"fiscal_code": [str(TAX_CODE_HERE)]}
    _assert_reveals_nothing(answers["elsewhere"].content.decode())


def test_the_api_refuses_a_pod_of_another_community_neutrally(community, referente, elsewhere):
    own = factories.make_connection_point(community, referente.member)
    api = client_for(referente)

    def register(pod):
        body = {
            "pod": pod,
            "configuration": community.configurations.get().pk,
            "holder": referente.member.pk,
            "contracted_power_kw": "3.000",
        }
        return api.post("/api/v1/connection-points", body, format="json")

    taken, here = register(SECRET_POD), register(own.pod)

    assert taken.status_code == here.status_code == 400
    assert taken.json()["error"]["fields"] == {"pod": [str(UNUSABLE)]}
    assert here.json()["error"]["fields"] == {"pod": [str(POD_HERE)]}
    _assert_reveals_nothing(taken.content.decode())


def test_a_plain_member_gets_the_same_refusal_for_a_taken_and_a_free_code(
    community, member_user, elsewhere
):
    api = client_for(member_user)
    free_code = factories.valid_personal_code(4_321)

    taken = api.post(
        "/api/v1/members", _member_body(community, elsewhere.fiscal_code), format="json"
    )
    free = api.post("/api/v1/members", _member_body(community, free_code), format="json")
    body = {
        "configuration": community.configurations.get().pk,
        "holder": member_user.member.pk,
        "contracted_power_kw": "3.000",
    }
    points = "/api/v1/connection-points"
    taken_pod = api.post(points, {**body, "pod": SECRET_POD}, format="json")
    free_pod = api.post(points, {**body, "pod": "IT001E12121212"}, format="json")

    assert taken.status_code == free.status_code == 403
    assert taken_pod.status_code == free_pod.status_code == 403
    assert taken.json() == free.json()


def test_approving_a_pod_taken_meanwhile_elsewhere_names_nothing(
    client, community, referente, elsewhere
):
    application = factories.make_application(community)
    application.declared_points[0]["pod"] = SECRET_POD
    application.save(update_fields=["declared_points"])
    client.force_login(referente)

    response = client.post(
        reverse("members:application", args=[application.pk]), {"valid_from": "2025-04-01"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert str(UNUSABLE) in page
    _assert_reveals_nothing(page, typed=SECRET_POD)


# 2. Distribution policy -----------------------------------------------------------------


def _policy_form(weights: str) -> dict[str, str]:
    return {
        "valid_from": "2025-09-01",
        "excess_policy": "CORRECT",
        "excess_to_social_percent": "0",
        "missing_data": "PROVISIONAL",
        "custom_weights": weights,
        "pots-TOTAL_FORMS": "0",
        "pots-INITIAL_FORMS": "0",
        "components-TOTAL_FORMS": "1",
        "components-INITIAL_FORMS": "0",
        "components-0-basis": "CUSTOM",
        "components-0-percent": "100",
    }


def test_the_policy_page_refuses_a_weight_for_someone_outside_the_community(
    client, community, referente, member_user, elsewhere
):
    client.force_login(referente)
    url = reverse("distribution:policy", kwargs={"pk": community.pk})
    unknown = factories.valid_personal_code(9_876)

    outside = client.post(url, _policy_form(f"{elsewhere.fiscal_code} = 2"))
    nobody = client.post(url, _policy_form(f"{unknown} = 2"))
    stored_before = DistributionPolicy.objects.filter(community=community).count()
    inside = client.post(url, _policy_form(f"{member_user.member.fiscal_code} = 2"))

    assert stored_before == 0
    error = outside.context["form"].errors["custom_weights"]
    other = nobody.context["form"].errors["custom_weights"]
    assert [e.replace(elsewhere.fiscal_code, "X") for e in error] == [
        e.replace(unknown, "X") for e in other
    ]
    _assert_reveals_nothing(outside.content.decode(), typed=elsewhere.fiscal_code)
    assert inside.status_code == 302
    weights = DistributionPolicy.objects.get(community=community).weights.get()
    assert weights.member == member_user.member


def test_the_policy_service_refuses_a_weight_for_a_member_of_another_community(
    community, elsewhere
):
    with pytest.raises(InvalidPlan) as refused:
        set_policy(
            community=community,
            valid_from=dt.date(2025, 9, 1),
            pots=[],
            components=[{"basis": "CUSTOM", "percent": Decimal(100)}],
            custom_weights={elsewhere.pk: Decimal(1)},
            actor=None,
            now=NOW,
        )

    assert refused.value.field == "custom_weights"
    assert not DistributionPolicy.objects.filter(community=community).exists()


# 3. Disputes ----------------------------------------------------------------------------


@pytest.fixture
def contested(community, member_user):
    """A dispute the plain member opened on their own statement line."""
    statement = make_statement(
        make_settlement_run(community.configurations.get()), member_user.member
    )
    return open_dispute(line=statement.lines.get(), actor=member_user, message="No", now=NOW)


def _escalate(client, dispute, mediator):
    return client.post(
        reverse("billing:dispute", args=[dispute.pk]),
        {"action": "escalate", "message": "Mediate", "mediator": str(mediator)},
    )


def test_the_mediator_is_chosen_from_a_list_and_strangers_get_one_answer(
    client, community, referente, member_user, outsider, contested
):
    # Escalating is the referente's step; the member only replies or withdraws.
    administrator = factories.make_user_with_role(community, role="ADMINISTRATOR", username="amm")
    client.force_login(referente)

    page = client.get(reverse("billing:dispute", args=[contested.pk])).content.decode()
    answers = [_escalate(client, contested, pk) for pk in (999_999, outsider.pk, member_user.pk)]
    chosen = _escalate(client, contested, administrator.pk)

    assert 'name="mediator_username"' not in page
    assert '<select name="mediator"' in page
    assert f'<option value="{administrator.pk}">' in page
    assert f'value="{outsider.pk}"' not in page
    assert f'value="{member_user.pk}"' not in page
    assert [a.status_code for a in answers] == [400, 400, 400]
    errors = [a.context["form"].errors["mediator"] for a in answers]
    assert errors[0] == errors[1] == errors[2]
    assert chosen.status_code == 302
    contested.refresh_from_db()
    assert contested.state == DisputeState.ESCALATED
    assert contested.mediator == administrator


def test_a_manager_cannot_mediate_a_dispute_on_their_own_statement(
    client, community, referente, contested
):
    administrator = factories.make_user_with_role(community, role="ADMINISTRATOR", username="amm")
    statement = make_statement(
        make_settlement_run(community.configurations.get(), version=2), referente.member
    )
    own = open_dispute(line=statement.lines.get(), actor=referente, message="Mine", now=NOW)
    client.force_login(referente)

    refused = _escalate(client, own, referente.pk)
    accepted = _escalate(client, own, administrator.pk)

    assert refused.status_code == 400
    assert "mediator" in refused.context["form"].errors
    assert accepted.status_code == 302
    own.refresh_from_db()
    assert own.mediator == administrator


def test_the_dispute_service_refuses_a_party_as_mediator(member_user, referente, contested):
    with pytest.raises(DisputeError, match="mediator"):
        act_on_dispute(
            dispute=contested,
            action="escalate",
            actor=referente,
            message="",
            now=NOW,
            mediator=member_user,
        )

    contested.refresh_from_db()
    assert contested.state == DisputeState.OPEN


# 4. Other members' PODs -----------------------------------------------------------------


@pytest.fixture
def neighbours_plant(community):
    """Another member's 45 kW plant, its name carrying his surname, older than the member's."""
    neighbour = factories.make_membership(
        community, member=factories.make_member(first_name="Paolo", last_name="Vicino")
    ).member
    point = factories.make_connection_point(
        community, neighbour, pod="IT001E99990001", has_injection=True
    )
    return factories.make_plant(
        point,
        name="FV Vicino",
        power_kw=Decimal("45.000"),
        entry_into_service_date=dt.date(2023, 1, 1),
    )


@pytest.fixture
def own_plant(community, member_user):
    point = factories.make_connection_point(community, member_user.member, has_injection=True)
    return factories.make_plant(point, name="FV di casa mia")


def _pages(client, community, plant):
    urls = [
        reverse("community_detail", args=[community.pk]),
        reverse("plants:plant_list", args=[community.pk]),
        reverse("plant_detail", args=[plant.pk]),
        reverse("dashboards:community", args=[community.pk]),
        reverse("dashboards:member_portal"),
    ]
    responses = [client.get(url) for url in urls]
    assert [r.status_code for r in responses] == [200] * len(urls)
    return "".join(r.content.decode() for r in responses)


def test_a_plain_member_sees_only_their_own_pods_as_the_api_does(
    client, community, member_user, neighbours_plant, own_plant
):
    from cer.plants.models import ConnectionPoint

    client.force_login(member_user)

    pages = _pages(client, community, neighbours_plant)
    api = client_for(member_user).get("/api/v1/connection-points").json()

    assert "Vicino" not in pages
    assert neighbours_plant.connection_point.pod not in pages
    assert neutral_plant_label(1, Decimal("45")) in pages
    assert own_plant.name in pages
    shown = {pod for pod in ConnectionPoint.objects.values_list("pod", flat=True) if pod in pages}
    assert shown == {row["pod"] for row in api["results"]} == {own_plant.connection_point.pod}


def test_a_manager_still_sees_every_plant_and_pod(client, community, referente, neighbours_plant):
    client.force_login(referente)

    pages = _pages(client, community, neighbours_plant)

    assert "FV Vicino" in pages
    assert neighbours_plant.connection_point.pod in pages


def test_the_plant_page_of_another_members_plant_names_neither_plant_nor_pod(
    client, member_user, neighbours_plant
):
    client.force_login(member_user)

    response = client.get(reverse("plant_detail", args=[neighbours_plant.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Vicino" not in page
    assert neighbours_plant.connection_point.pod not in page
    assert neutral_plant_label(1, Decimal("45")) in page
    assert 'id="eligibility-checks"' in page
