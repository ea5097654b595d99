"""The inbox through the API: the list, the unread filter and the read marks."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cer.notifications.models import Notification
from cer.notifications.services import notify
from tests.notifications.conftest import NOW, PLAIN, make_user

pytestmark = pytest.mark.django_db

CONTEXT = {"name": "Lucia", "amount": "1", "day": "oggi"}


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_shows_only_the_callers_notifications_and_filters_unread(api, user):
    notify([user], PLAIN.code, CONTEXT, link="/members/profile/", now=NOW)
    notify([user], PLAIN.code, {**CONTEXT, "name": "Bruno"}, now=NOW)
    notify([make_user()], PLAIN.code, {**CONTEXT, "name": "Estraneo"}, now=NOW)
    Notification.objects.filter(user=user, subject="Hello Bruno").update(read_at=NOW)

    everything = api.get("/api/v1/me/notifications").json()
    unread = api.get("/api/v1/me/notifications?unread=true").json()

    assert sorted(item["subject"] for item in everything["results"]) == [
        "Hello Bruno",
        "Hello Lucia",
    ]
    assert [item["subject"] for item in unread["results"]] == ["Hello Lucia"]
    assert unread["results"][0]["link"] == "/members/profile/"


def test_marking_one_then_all_read(api, user):
    first, _second = notify([user], PLAIN.code, CONTEXT, now=NOW) + notify(
        [user], PLAIN.code, CONTEXT, now=NOW
    )

    one = api.post("/api/v1/me/notifications/read", {"id": first.pk}, format="json")
    rest = api.post("/api/v1/me/notifications/read", {}, format="json")

    assert (one.status_code, one.json()) == (200, {"marked": 1})
    assert rest.json() == {"marked": 1}
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


def test_another_users_notification_is_not_marked(api):
    theirs = notify([make_user()], PLAIN.code, CONTEXT, now=NOW)[0]

    response = api.post("/api/v1/me/notifications/read", {"id": theirs.pk}, format="json")

    assert response.json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_malformed_id_is_refused_naming_the_field(api):
    response = api.post("/api/v1/me/notifications/read", {"id": "tutte"}, format="json")

    assert response.status_code == 400
    assert "id" in str(response.json())


def test_the_inbox_api_needs_a_login():
    assert APIClient().get("/api/v1/me/notifications").status_code == 401


def test_a_malformed_unread_filter_is_refused_naming_it(api):
    response = api.get("/api/v1/me/notifications?unread=null")

    assert response.status_code == 400
    assert "unread" in str(response.json())
