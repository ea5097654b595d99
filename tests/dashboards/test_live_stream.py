"""The live view through the web: page, JSON snapshot and event stream, and who sees what."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cer.dashboards import live
from cer.metering.models import CounterSample
from tests import factories
from tests.metering.conftest import make_device

pytestmark = pytest.mark.django_db


def english(name, args=()):
    with translation.override("en"):
        return reverse(name, args=args)


def booked(device, channel, *, end, seconds, energy_wh):
    """A counter value booking `energy_wh` over the `seconds` before `end`, as the rules do."""
    start = end - dt.timedelta(seconds=seconds)
    for at, value, delta, since, state in (
        (start, 10_000, 0, None, "NEW"),
        (end, 10_000 + energy_wh, energy_wh, start, "OK"),
    ):
        CounterSample.objects.get_or_create(
            device=device,
            channel=channel,
            measured_at=at,
            defaults={
                "value_wh": value,
                "delta_wh": delta,
                "booked_from": since,
                "received_at": at,
                "state": state,
            },
        )


@pytest.fixture
def meter(community):
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(community, holder, pod="IT001E70000009")
    return make_device(point)


def first_event(response) -> dict:
    chunk = next(iter(response.streaming_content))
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    data = [line for line in text.splitlines() if line.startswith("data: ")]
    return json.loads(data[0].removeprefix("data: "))


def test_the_stream_sends_the_snapshot_first_in_the_readers_language(client, referente, meter):
    booked(meter, "WDR", end=timezone.now(), seconds=60, energy_wh=100)
    client.force_login(referente)

    response = client.get(
        reverse("dashboards:live_stream", args=[meter.connection_point.configuration.community_id])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    chunk = next(iter(response.streaming_content)).decode()
    assert chunk.startswith(f"retry: {live.RETRY_MS}\ndata: ")
    data = json.loads(chunk.split("data: ", 1)[1])
    assert (data["withdrawn_w"], data["withdrawn"]) == (6_000, "6\u00a0kW")
    (point,) = data["points"]
    assert (point["pod"], point["withdrawn"], point["stopped"]) == (
        "IT001E70000009",
        "6\u00a0kW",
        False,
    )
    response.close()


def test_the_stream_speaks_english_to_an_english_reader(client, referente, meter):
    booked(meter, "WDR", end=timezone.now(), seconds=60, energy_wh=20_575)
    client.force_login(referente)

    response = client.get(
        english("dashboards:live_stream", [meter.connection_point.configuration.community_id])
    )

    assert first_event(response)["withdrawn"] == "1,234.5\u00a0kW"
    response.close()


def test_a_plain_member_sees_the_totals_but_not_the_points(client, member_user, meter):
    booked(meter, "WDR", end=timezone.now(), seconds=60, energy_wh=100)
    client.force_login(member_user)
    community_id = meter.connection_point.configuration.community_id

    data = first_event(client.get(reverse("dashboards:live_stream", args=[community_id])))
    page = client.get(reverse("dashboards:live", args=[community_id]))
    snapshot = client.get(reverse("dashboards:live_snapshot", args=[community_id])).json()

    assert data["withdrawn_w"] == 6_000 and "points" not in data
    assert "points" not in snapshot
    assert page.status_code == 200
    assert "IT001E70000009" not in page.content.decode()


@pytest.mark.parametrize(
    "name", ["dashboards:live", "dashboards:live_stream", "dashboards:live_snapshot"]
)
def test_someone_outside_the_community_is_refused(client, outsider, community, name):
    client.force_login(outsider)

    response = client.get(reverse(name, args=[community.pk]))

    assert response.status_code == 403


def test_the_stream_sends_again_only_when_the_figures_change(client, referente, meter, monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 3_600)
    now = timezone.now()
    booked(meter, "WDR", end=now, seconds=60, energy_wh=100)
    client.force_login(referente)
    response = client.get(
        reverse("dashboards:live_stream", args=[meter.connection_point.configuration.community_id])
    )
    chunks = iter(response.streaming_content)
    assert json.loads(next(chunks).decode().split("data: ", 1)[1])["withdrawn_w"] == 6_000

    # A newer counter value: 50 Wh over the next 60 s is 3 kW.
    CounterSample.objects.create(
        device=meter,
        channel="WDR",
        measured_at=now + dt.timedelta(seconds=1),
        value_wh=10_150,
        delta_wh=50,
        booked_from=now - dt.timedelta(seconds=59),
        received_at=now,
    )
    second = next(chunks).decode()

    assert second.startswith("data: ")  # no retry field after the first event
    data = json.loads(second.removeprefix("data: "))
    assert data["withdrawn_w"] == 3_000 and data["points"][0]["withdrawn"] == "3\u00a0kW"
    response.close()


def test_an_idle_stream_sends_heartbeats_and_ends_in_time(client, referente, meter, monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0)
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.2)
    client.force_login(referente)

    response = client.get(
        reverse("dashboards:live_stream", args=[meter.connection_point.configuration.community_id])
    )
    chunks = [chunk.decode() for chunk in response.streaming_content]

    assert chunks[0].startswith("retry: ")
    assert len(chunks) > 2
    assert set(chunks[1:]) == {": heartbeat\n\n"}


def test_the_page_shows_the_figures_the_stream_and_the_fallback_and_the_dashboard_links_it(
    client, referente, meter
):
    booked(meter, "INJ", end=timezone.now(), seconds=60, energy_wh=40)
    client.force_login(referente)
    community_id = meter.connection_point.configuration.community_id

    page = client.get(reverse("dashboards:live", args=[community_id])).content.decode()
    dashboard = client.get(reverse("dashboards:community", args=[community_id])).content.decode()

    assert 'data-field="injected">2,4\u00a0kW<' in page
    assert 'data-field="withdrawn">—<' in page
    assert reverse("dashboards:live_stream", args=[community_id]) in page
    assert 'data-fallback-seconds="30"' in page
    assert "IT001E70000009" in page
    assert reverse("dashboards:live", args=[community_id]) in dashboard


def test_a_silent_point_carries_its_badge_in_the_snapshot(client, referente, meter):
    booked(meter, "WDR", end=timezone.now() - dt.timedelta(hours=2), seconds=60, energy_wh=100)
    client.force_login(referente)

    snapshot = client.get(
        english("dashboards:live_snapshot", [meter.connection_point.configuration.community_id])
    ).json()

    (point,) = snapshot["points"]
    assert point["stopped"] and point["status"] == "Stopped reporting"
    assert point["withdrawn"] == "—" and point["last_sample_at"] is not None
    assert snapshot["stopped_count"] == 1 and snapshot["withdrawn_w"] == 0
