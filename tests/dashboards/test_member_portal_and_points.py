"""A member's own energy and share, and one connection point's hours: own data only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation

from cer.members.models import Membership
from tests import factories
from tests.dashboards.conftest import MARCH_FIRST_HOUR, add_reading, join
from tests.factories.settlement import add_prices


def english(name, args=()):
    with translation.override("en"):
        return reverse(name, args=args)


pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
NOON = MARCH_FIRST_HOUR + 12 * HOUR


@pytest.fixture
def readings(own_point, neighbour_point, producer_point):
    # The portal shows the settlement engine's figures, which leave unpriced hours out.
    add_prices(dt.date(2025, 3, 1))
    add_reading(producer_point, NOON, injected_wh=600)
    add_reading(own_point, NOON, withdrawn_wh=300)
    add_reading(neighbour_point, NOON, withdrawn_wh=900)


def portal(client, user, **params):
    client.force_login(user)
    return client.get(reverse("dashboards:member_portal"), {"period": "2025-03", **params})


def test_member_sees_their_points_and_share_proportional_to_withdrawal(
    client, member_user, readings, own_point, neighbour_point
):
    response = portal(client, member_user)

    page = response.content.decode()
    assert response.status_code == 200
    assert own_point.pod in page
    assert neighbour_point.pod not in page
    assert "Vicino" not in page
    # 600 Wh shared, the member withdrew 300 of the 1200 Wh withdrawn in that hour.
    assert response.context["own_kwh"]["as_consumer"] == 0.15
    assert response.context["own_kwh"]["community_shared"] == 0.6


def test_producer_is_credited_by_chronological_attribution(client, community, readings):
    producer = User.objects.create_user("produttrice", password="prova-password-2025")
    member = factories.make_member(user=producer)
    join(community, member, kind="PRODUCER")
    point = factories.make_connection_point(community, member, has_injection=True)
    factories.make_plant(point, entry_into_service_date=dt.date(2025, 1, 10))
    add_reading(point, NOON, injected_wh=2000)

    response = portal(client, producer)

    # 1200 Wh shared at noon: the older plant (600 Wh) first, the rest to this one.
    assert response.context["own_kwh"]["as_producer"] == 0.6
    assert response.context["is_producer"]


def test_portal_says_how_the_share_is_worked_out_and_links_the_statements(
    client, member_user, readings
):
    client.force_login(member_user)

    page = client.get(english("dashboards:member_portal")).content.decode()

    assert "in proportion to what each takes in that hour" in page
    assert "in the order they entered service" in page
    assert "Your monthly statements" in page
    assert english("billing:my_statements") in page


def test_account_without_a_member_is_told_so(client, db):
    user = User.objects.create_user("solo", password="prova-password-2025")
    client.force_login(user)

    response = client.get(english("dashboards:member_portal"))

    assert response.status_code == 200
    assert "not linked to a member" in response.content.decode()


def test_portal_ignores_a_community_the_member_does_not_belong_to(
    client, member_user, outsider, community, readings
):
    other = Membership.objects.get(member=outsider.member).community

    response = portal(client, member_user, community=str(other.pk))

    assert response.context["community"] == community


def test_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(reverse("dashboards:member_portal"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_point_page_shows_gaps_and_sources(client, member_user, own_point):
    add_reading(own_point, MARCH_FIRST_HOUR, withdrawn_wh=100)
    add_reading(own_point, MARCH_FIRST_HOUR + HOUR, withdrawn_wh=999, source="EST")
    add_reading(own_point, MARCH_FIRST_HOUR + HOUR, withdrawn_wh=200, source="DEV")
    client.force_login(member_user)

    response = client.get(reverse("dashboards:point", args=[own_point.pk]), {"period": "2025-03"})

    context = response.context
    assert response.status_code == 200
    assert context["point_chart"]["series"][1][:3] == [0.1, 0.2, None]
    assert [s["code"] for s in context["sources"]] == ["DSO", "DEV"]
    assert context["gaps"][0]["hours"] == 741
    assert context["present_hours"] == 2


def test_member_cannot_open_a_neighbours_point(client, member_user, neighbour_point):
    client.force_login(member_user)

    response = client.get(reverse("dashboards:point", args=[neighbour_point.pk]))

    assert response.status_code == 403


def test_referente_can_open_any_point_of_the_community(client, referente, neighbour_point):
    client.force_login(referente)

    response = client.get(reverse("dashboards:point", args=[neighbour_point.pk]))

    assert response.status_code == 200
