"""HTTP ingestion: who may post, what is validated, and that a re-post adds nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from cer.metering.models import HourlyReading, RejectedMessage
from tests import factories
from tests.metering.conftest import make_device

pytestmark = [pytest.mark.urls("tests.metering.urls"), pytest.mark.django_db]

UTC = dt.UTC
SECRET = "s3cret-device-token"
BODY = {
    "readings": [
        {
            "start": "2025-03-30T01:45:00+01:00",
            "end": "2025-03-30T03:00:00+02:00",
            "withdrawn_wh": 120,
        },
        {
            "start": "2025-03-30T03:00:00+02:00",
            "end": "2025-03-30T03:15:00+02:00",
            "injected_wh": 400,
        },
    ]
}


@pytest.fixture
def device(point):
    return make_device(point, secret_hash=make_password(SECRET))


def _basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def _post(client, url, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def _point_url(point):
    return reverse("api_point_readings", kwargs={"pod": point.pod})


def _totals(point):
    return {
        row.hour_start: (row.injected_wh, row.withdrawn_wh)
        for row in HourlyReading.objects.filter(connection_point=point)
    }


def test_a_device_posts_readings_with_its_mqtt_credentials(client, point, device):
    response = _post(
        client, _point_url(point), BODY, Authorization=_basic(device.mqtt_username, SECRET)
    )

    assert response.status_code == 201
    assert response.json() == {"accepted": 2, "duplicates": 0}
    assert _totals(point) == {
        dt.datetime(2025, 3, 30, 0, tzinfo=UTC): (0, 120),
        dt.datetime(2025, 3, 30, 1, tzinfo=UTC): (400, 0),
    }


def test_posting_the_same_readings_twice_changes_nothing(client, point, device):
    auth = _basic(device.mqtt_username, SECRET)
    _post(client, _point_url(point), BODY, Authorization=auth)

    response = _post(client, _point_url(point), BODY, Authorization=auth)

    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "duplicates": 2}
    assert sum(wdr for _, wdr in _totals(point).values()) == 120


def test_the_plant_endpoint_records_for_the_plants_connection_point(client, point, device):
    plant = point.plants.get()
    url = reverse("api_plant_readings", kwargs={"plant_id": plant.pk})

    response = _post(client, url, BODY, Authorization=_basic(device.mqtt_username, SECRET))

    assert response.status_code == 201
    assert HourlyReading.objects.filter(connection_point=point).count() == 2


def test_a_wrong_secret_is_refused_with_401(client, point, device):
    response = _post(
        client, _point_url(point), BODY, Authorization=_basic(device.mqtt_username, "wrong")
    )

    assert response.status_code == 401
    assert "Basic" in response["WWW-Authenticate"]
    assert not HourlyReading.objects.exists()


def test_a_device_cannot_post_for_another_connection_point(client, community, point, device):
    other = factories.make_connection_point(community, factories.make_member())

    response = _post(
        client, _point_url(other), BODY, Authorization=_basic(device.mqtt_username, SECRET)
    )

    assert response.status_code == 403


def test_an_anonymous_call_is_refused(client, point):
    response = _post(client, _point_url(point), BODY)

    assert response.status_code == 401


def test_the_referente_posts_with_a_session_and_csrf_token(point, referente):
    client = Client(enforce_csrf_checks=True)
    client.force_login(referente)
    client.get(reverse("home"))
    token = client.cookies["csrftoken"].value

    without = _post(client, _point_url(point), BODY)
    with_token = _post(client, _point_url(point), BODY, X_CSRFToken=token)

    assert without.status_code == 403
    assert with_token.status_code == 201


def test_a_plain_member_cannot_post_readings(client, point, member_user):
    client.force_login(member_user)

    response = _post(client, _point_url(point), BODY)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"{not json", "payload", "not JSON"),
        (
            {"start": "2025-03-30T01:45:00", "end": "2025-03-30T02:00:00+01:00", "injected_wh": 1},
            "start",
            "no UTC offset",
        ),
        (
            {"readings": [BODY["readings"][0], {**BODY["readings"][1], "injected_wh": -3}]},
            "readings[1].injected_wh",
            "negative",
        ),
        (
            {
                "start": "2025-03-30T01:45:00+01:00",
                "end": "2025-03-30T02:00:00+01:00",
                "withdrawn_wh": 5_000,
            },
            "withdrawn_wh",
            "exceeds",
        ),
    ],
)
def test_invalid_readings_get_a_json_error_naming_the_field(
    client, point, device, body, field, words
):
    response = _post(
        client, _point_url(point), body, Authorization=_basic(device.mqtt_username, SECRET)
    )

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["field"] == field
    assert words in error["message"]
    assert RejectedMessage.objects.get().channel == "HTTP"
    assert not HourlyReading.objects.exists()


def test_counters_posted_by_a_user_are_refused(client, point, referente):
    client.force_login(referente)
    body = {"at": "2025-03-30T01:45:00+01:00", "withdrawn_total_wh": 1000}

    response = _post(client, _point_url(point), body)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "at"


def test_the_device_page_lists_devices_and_rejections_for_the_referente(
    client, community, point, device, referente
):
    RejectedMessage.objects.create(
        channel="MQTT",
        topic=f"{device.topic_prefix}/readings",
        payload=b"garbage",
        received_at=dt.datetime(2025, 6, 1, tzinfo=UTC),
        field="payload",
        reason="not JSON: Expecting value at line 1 column 1",
        configuration=point.configuration,
    )
    client.force_login(referente)

    page = client.get(reverse("metering:device_list", kwargs={"community_id": community.pk}))

    text = page.content.decode()
    assert page.status_code == 200
    assert device.mqtt_username in text
    assert "Expecting value" in text


def test_the_device_page_is_refused_to_a_member(client, community, member_user):
    client.force_login(member_user)

    page = client.get(reverse("metering:device_list", kwargs={"community_id": community.pk}))

    assert page.status_code == 403
