"""The web shell: login, the list of communities, a community's page, who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cer.metering.models import HourlyReading
from tests import factories


def test_home_sends_anonymous_visitors_to_login(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_speaks_italian_by_default(client):
    response = client.get(reverse("login"))

    assert "Accedi" in response.content.decode()


@pytest.mark.django_db
def test_login_page_is_available_in_english(client):
    response = client.get("/en/login/")

    assert "Log in" in response.content.decode()


def test_login_then_home_lists_only_the_users_communities(client, referente, outsider, community):
    assert client.login(username="referente", password="prova-password-2025")

    page = client.get(reverse("home")).content.decode()

    assert community.name in page
    assert "CER Altrove" not in page


def test_logout_ends_the_session(client, referente):
    client.force_login(referente)

    client.post(reverse("logout"))

    assert client.get(reverse("home")).status_code == 302


def test_referente_sees_members_points_plants_and_chart(client, referente, community):
    holder = factories.make_member(first_name="Giulia", last_name="Bianchi")
    point = factories.make_connection_point(community, holder, has_injection=True)
    factories.make_plant(point, name="FV Municipio")
    HourlyReading.objects.create(
        connection_point=point,
        hour_start=dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC),
        injected_wh=12_500,
        withdrawn_wh=0,
        source="DSO",
    )
    client.force_login(referente)

    response = client.get(reverse("community_detail", args=[community.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    # The records are on their own lists now; the page summarises and links to them.
    assert reverse("members:member_list", args=[community.pk]) in page
    assert reverse("plants:plant_list", args=[community.pk]) in page
    assert response.context["point_count"] == 1
    plants_page = client.get(reverse("plants:plant_list", args=[community.pk])).content.decode()
    assert "FV Municipio" in plants_page
    assert point.pod in plants_page
    assert 'id="energy-data"' in page
    chart = response.context["chart"]
    assert chart["year"] == 2025
    assert len(chart["t"]) == 8760
    assert sum(chart["injected_kwh"]) == pytest.approx(12.5)


def test_plain_member_sees_only_their_own_personal_data(client, member_user, community):
    neighbour = factories.make_member(first_name="Paolo", last_name="Vicino")
    factories.make_connection_point(community, neighbour, pod="IT001E99990001")
    client.force_login(member_user)

    page = client.get(reverse("community_detail", args=[community.pk])).content.decode()

    assert member_user.member.last_name in page
    assert "Vicino" not in page
    assert "IT001E99990001" not in page


def test_member_of_another_community_is_refused(client, outsider, community):
    client.force_login(outsider)

    response = client.get(reverse("community_detail", args=[community.pk]))

    assert response.status_code == 403


def test_a_former_member_no_longer_sees_the_community(client, member_user, community):
    membership = member_user.member.memberships.get()
    membership.valid_to = dt.date(2025, 1, 1)
    membership.save(update_fields=["valid_to"])
    client.force_login(member_user)

    response = client.get(reverse("community_detail", args=[community.pk]))

    assert response.status_code == 403
