"""What recording does around its commit: dashboards refreshed, redelivered rejections once."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import caches
from django.urls import reverse

from cer.dashboards import services as dashboards
from cer.metering.models import ReadingsVersion, RejectedMessage
from cer.metering.recording import IncomingMessage, ingest_messages
from cercalc import periods
from tests.metering.conftest import make_device

pytestmark = pytest.mark.urls("tests.metering.urls")

UTC = dt.UTC
SECRET = "s3cret-device-token"
JUNE = periods.month(2025, 6)
VIEWED_AT = dt.datetime(2025, 7, 1, 12, tzinfo=UTC)
ARRIVAL = dt.datetime(2025, 6, 1, 13, tzinfo=UTC)
READING = {"start": "2025-06-01T12:00:00+02:00", "end": "2025-06-01T12:15:00+02:00"}


@pytest.fixture(autouse=True)
def _empty_cache():
    caches["local"].clear()
    yield
    caches["local"].clear()


def _withdrawn_in_june(community) -> int:
    data = dashboards.community_period_data(community=community, period=JUNE, now=VIEWED_AT)
    return dashboards.totals(data).withdrawn_wh


def _version(community) -> int:
    return (
        ReadingsVersion.objects.filter(community=community)
        .values_list("version", flat=True)
        .first()
        or 0
    )


def _message(device, document, *, redelivered=False) -> IncomingMessage:
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    return IncomingMessage(
        topic=f"{device.topic_prefix}/readings",
        payload=payload,
        received_at=ARRIVAL,
        redelivered=redelivered,
    )


def test_a_dashboard_figure_changes_right_after_an_http_reading_post(
    client, community, point, django_capture_on_commit_callbacks
):
    device = make_device(point, secret_hash=make_password(SECRET))
    # The figure is computed, and cached, before the reading arrives.
    assert _withdrawn_in_june(community) == 0
    auth = base64.b64encode(f"{device.mqtt_username}:{SECRET}".encode()).decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api_point_readings", kwargs={"pod": point.pod}),
            data=json.dumps({**READING, "withdrawn_wh": 120}),
            content_type="application/json",
            headers={"Authorization": f"Basic {auth}"},
        )

    assert response.status_code == 201
    assert _withdrawn_in_june(community) == 120


def test_an_mqtt_batch_bumps_the_readings_version_once_after_its_commit(
    community, point, django_capture_on_commit_callbacks
):
    device = make_device(point)
    later = {"start": "2025-06-01T12:15:00+02:00", "end": "2025-06-01T12:30:00+02:00"}
    messages = [
        _message(device, {**READING, "withdrawn_wh": 50}),
        _message(device, {**later, "withdrawn_wh": 70}),
        _message(device, b"not json"),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest_messages(messages=messages)
        # Nothing is bumped before the commit: a dashboard could cache the old sums.
        assert _version(community) == 0

    assert len(callbacks) == 1
    callbacks[0]()
    assert _version(community) == 1


def test_a_replayed_batch_does_not_bump_the_readings_version(
    community, point, django_capture_on_commit_callbacks
):
    device = make_device(point)
    message = _message(device, {**READING, "withdrawn_wh": 50})
    with django_capture_on_commit_callbacks(execute=True):
        ingest_messages(messages=[message])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ingest_messages(messages=[message])

    assert callbacks == []
    assert _version(community) == 1


def test_a_redelivered_copy_of_a_rejected_message_is_stored_once(point):
    device = make_device(point)
    naive = {"start": "2025-06-01T12:00:00", "end": "2025-06-01T12:15:00", "withdrawn_wh": 5}
    ingest_messages(messages=[_message(device, naive)])

    outcome = ingest_messages(messages=[_message(device, naive, redelivered=True)])

    assert outcome.rejected == 0
    assert RejectedMessage.objects.filter(device=device).count() == 1


def test_the_same_bad_message_sent_again_is_rejected_again(point):
    device = make_device(point)
    naive = {"start": "2025-06-01T12:00:00", "end": "2025-06-01T12:15:00", "withdrawn_wh": 5}
    ingest_messages(messages=[_message(device, naive)])

    outcome = ingest_messages(messages=[_message(device, naive)])

    assert outcome.rejected == 1
    assert RejectedMessage.objects.filter(device=device).count() == 2


def test_a_redelivered_rejection_never_stored_before_is_stored(point):
    device = make_device(point)

    ingest_messages(messages=[_message(device, b"not json", redelivered=True)])

    assert RejectedMessage.objects.filter(device=device).count() == 1
