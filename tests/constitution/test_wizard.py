"""The constitution wizard through its pages: steps, drafts, validation, one transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.communities.models import Community, ConstitutionDraft, IncentiveDistribution
from cer.distribution.models import DistributionPolicy
from cer.documents.models import Document
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint, Plant
from tests.constitution import wizard_data
from tests.factories import make_community

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(client):
    user = User.objects.create_user("fondatrice", "anna@example.org", "prova-password-2025")
    client.force_login(user)
    return user


def start(client):
    return client.post(reverse("constitution:wizard_start"), {"action": "start"})


def fill(client, step, data, action="next"):
    return client.post(reverse(f"constitution:wizard_{step}"), {**data, "action": action})


def fill_until_review(client):
    start(client)
    for step, data in [
        ("kind", wizard_data.kind_step()),
        ("members", wizard_data.members_step()),
        ("configurations", wizard_data.configurations_step()),
        ("points", wizard_data.points_step()),
        ("distribution", wizard_data.distribution_step()),
    ]:
        response = fill(client, step, data)
        assert response.status_code == 302, (step, response.content.decode()[:3000])


def test_anyone_logged_in_may_start_a_wizard(client, founder):
    response = start(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("constitution:wizard_kind")
    assert ConstitutionDraft.objects.filter(user=founder, step="kind").exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(reverse("constitution:wizard_kind"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_wrong_tax_code_is_refused_with_the_field_named_and_the_input_kept(client, founder):
    start(client)

    response = fill(client, "kind", wizard_data.kind_step(fiscal_code="12345678901"))

    assert response.status_code == 400
    form = response.context["forms"]["community"]
    assert "fiscal_code" in form.errors
    page = response.content.decode()
    assert 'value="12345678901"' in page
    assert 'aria-invalid="true"' in page
    assert Community.objects.count() == 0


def test_what_was_typed_is_kept_in_the_draft_and_shown_again(client, founder):
    start(client)
    fill(client, "kind", wizard_data.kind_step(name="CER Bozza"), action="save")

    response = client.get(reverse("constitution:wizard_kind"))

    assert 'value="CER Bozza"' in response.content.decode()
    assert ConstitutionDraft.objects.get(user=founder).data["kind"]["raw"]["c-name"] == [
        "CER Bozza"
    ]


def test_a_later_step_sends_back_to_the_first_incomplete_one(client, founder):
    start(client)

    response = client.get(reverse("constitution:wizard_points"))

    assert response.status_code == 302
    assert response["Location"] == reverse("constitution:wizard_kind")


def test_a_municipality_name_shared_by_two_places_asks_for_the_province(client, founder):
    start(client)

    response = fill(client, "kind", wizard_data.kind_step(seat_municipality="Nowhere"))

    assert "seat_municipality" in response.context["forms"]["community"].errors


def test_the_shares_of_the_distribution_must_add_up_to_one_hundred(client, founder):
    fill_until_review(client)
    data = {**wizard_data.distribution_step(), "d-community_fund_pct": "15"}

    response = fill(client, "distribution", data)

    assert response.status_code == 400
    assert "community_fund_pct" in response.context["forms"]["distribution"].errors


def test_the_checklist_marks_an_existing_plant_above_thirty_percent_as_not_met(client, founder):
    fill_until_review(client)
    fill(client, "points", wizard_data.points_step(entry="2019-05-01"))

    response = client.get(reverse("constitution:wizard_review"))

    statuses = {r.code: r.status for r in response.context["requirements"]}
    assert statuses["EXISTING_SHARE"] == "NOT_MET"
    assert statuses["MEMBER_MUNICIPALITIES"] == "MET"
    assert 'data-code="EXISTING_SHARE" data-status="NOT_MET"' in response.content.decode()


def test_constituting_creates_everything_and_makes_the_creator_referente(client, founder):
    fill_until_review(client)

    response = fill(client, "review", wizard_data.review_step())

    community = Community.objects.get(name="CER Sole di Spinea")
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:archive", args=[community.pk])
    referente = Membership.objects.get(community=community, role="REFERENTE")
    assert referente.member.user == founder
    assert str(referente.valid_from) == "2025-03-30"
    assert Membership.objects.filter(community=community).count() == 2
    assert referente.kind == "PROSUMER"
    assert community.configurations.get().primary_substation == "AC001E00123"
    assert ConnectionPoint.objects.filter(configuration__community=community).count() == 2
    assert Plant.objects.get(name="FV tetto scuola").owner == referente.member
    assert IncentiveDistribution.objects.get(community=community).consumers_pct == 70
    kinds = sorted(Document.objects.filter(community=community).values_list("kind", flat=True))
    assert kinds == ["REGULATION", "STATUTE"]
    entry = AuditEntry.objects.get(code="communities.community.constituted")
    assert entry.community == community
    assert entry.actor == founder
    assert entry.changes["checklist"]["PLANT_POWER"] == "MET"
    assert not ConstitutionDraft.objects.filter(user=founder).exists()


def test_a_pod_registered_meanwhile_sends_back_to_its_step_and_saves_nothing(client, founder):
    fill_until_review(client)
    # Someone registers the same POD between the points step and the confirmation.
    other = Member.objects.create(
        kind="NATURAL",
        category="HOUSEHOLD",
        first_name="Altro",
        last_name="Titolare",
        fiscal_code=wizard_data.founder_code(9),
        email="altro@example.org",
        address="Via Po 1",
        municipality_id="027038",
    )
    elsewhere = make_community(name="CER Concorrente")
    ConnectionPoint.objects.create(
        pod=wizard_data.points_step()["pt-1-pod"],
        configuration=elsewhere.configurations.get(),
        holder=other,
        contracted_power_kw=3,
    )

    response = fill(client, "review", wizard_data.review_step())

    assert response.status_code == 302
    assert response["Location"] == reverse("constitution:wizard_points")
    assert not Community.objects.filter(name="CER Sole di Spinea").exists()
    assert not Member.objects.filter(user=founder).exists()
    assert not Document.objects.exists()
    assert ConstitutionDraft.objects.filter(user=founder).exists()


def test_the_review_refuses_to_constitute_without_confirmation(client, founder):
    fill_until_review(client)

    response = fill(client, "review", {"r-draft_statute": "on"})

    assert response.status_code == 400
    assert "confirm" in response.context["forms"]["review"].errors
    assert not Community.objects.filter(name="CER Sole di Spinea").exists()


def test_a_user_who_is_already_a_member_takes_part_with_their_existing_data(client, member_user):
    client.force_login(member_user)
    start(client)
    fill(client, "kind", wizard_data.kind_step())

    response = fill(client, "members", wizard_data.members_step(me=False))
    fill(client, "configurations", wizard_data.configurations_step())

    assert response.status_code == 302
    points = client.get(reverse("constitution:wizard_points")).context["forms"]["points"]
    holders = dict(points.forms[0].fields["holder"].choices)
    assert member_user.member.fiscal_code in holders


def test_discarding_the_draft_removes_it(client, founder):
    start(client)

    client.post(reverse("constitution:wizard_start"), {"action": "discard"})

    assert not ConstitutionDraft.objects.filter(user=founder).exists()


def test_adding_a_row_keeps_the_typed_rows(client, founder):
    start(client)
    fill(client, "kind", wizard_data.kind_step())

    fill(client, "members", wizard_data.members_step(), action="add_row")
    response = client.get(reverse("constitution:wizard_members"))

    assert len(response.context["forms"]["others"].forms) == 2
    assert 'value="Verdi 2"' in response.content.decode()


def test_a_failure_while_saving_rolls_everything_back_and_removes_the_files(
    client, founder, monkeypatch, settings
):
    from cer.constitution import services

    original = services.draft_founding_documents

    def draft_then_fail(**kwargs):
        original(**kwargs)
        raise services.ConstitutionFailed(["the archive is full"])

    monkeypatch.setattr(services, "draft_founding_documents", draft_then_fail)
    fill_until_review(client)

    response = fill(client, "review", wizard_data.review_step())

    assert response.status_code == 400
    assert "the archive is full" in response.content.decode()
    assert not Community.objects.filter(name="CER Sole di Spinea").exists()
    assert not Member.objects.filter(user=founder).exists()
    assert not AuditEntry.objects.filter(code="communities.community.constituted").exists()
    stored = list((settings.MEDIA_ROOT / "documents").glob("*"))
    assert stored == []


def test_the_split_chosen_in_the_wizard_becomes_the_first_distribution_policy(client, founder):
    with translation.override("en"):  # a founder who reads the site in English
        fill_until_review(client)
        fill(client, "review", wizard_data.review_step())

    community = Community.objects.get(name="CER Sole di Spinea")
    split = IncentiveDistribution.objects.get(community=community)
    policy = DistributionPolicy.objects.get(community=community)
    assert policy.valid_from == community.founding_date
    assert policy.valid_to is None
    pots = list(policy.pots.all())
    fund = [pot for pot in pots if pot.social]
    assert sum(pot.percent for pot in pots) == split.community_fund_pct
    assert (len(fund) == 1) == bool(split.community_fund_pct)
    components = list(policy.components.order_by("position"))
    assert sum(component.percent for component in components) == 100
    # 20 % producers, 70 % consumers, 10 % fund: the fund is a social pot of 10 %, and the
    # remaining 90 % goes 20/90 = 22.22 % to producers, the rest to consumers.
    assert [(pot.percent, pot.social) for pot in pots] == [(Decimal("10.00"), True)]
    assert [(c.basis, c.percent, c.producers_percent) for c in components] == [
        ("PRODUCERS_CONSUMERS", Decimal("100.00"), Decimal("22.22"))
    ]
    assert AuditEntry.objects.filter(community=community, code__startswith="distribution.").exists()
    # The fund's label is the community's own text, read in its Italian statute.
    assert fund[0].label == "Fondo della comunità"
