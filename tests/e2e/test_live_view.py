"""The live view in Chromium: a device publishes over the real Mosquitto and the page follows.

The ingestion worker runs in a thread as in test_device_installer.py; the device publishes
its counters with paho under its own account, and the page's figure for the point changes
without a reload, first through the event stream, then, with EventSource taken away, through
the snapshot the page polls.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.urls import reverse

from cer.dashboards import live
from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import CounterSample, Device, DeviceKind
from cer.metering.worker import IngestWorker
from tests import factories
from tests.e2e.login import log_in

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the live server, the worker and the test share the database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.slow,
]

WAIT_S = 20.0


@pytest.fixture
def referente(community):
    return factories.make_user_with_role(community, role="REFERENTE", username="referente-live")


@pytest.fixture
def account(community):
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(community, holder, pod="IT001E70000077")
    secret = device_accounts.register_device(
        point=point, name="contatore", kind=DeviceKind.OWN_JSON, now=dt.datetime.now(dt.UTC)
    )
    yield secret
    with broker.DynsecSession() as session:
        for device in Device.objects.all():
            broker.delete_device_account(
                username=device.mqtt_username, role=device.broker_role, session=session
            )


@pytest.fixture
def quick_streams(monkeypatch):
    """Streams that notice a closed browser soon and end soon, so the live server stops."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.5)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 1.0)
    monkeypatch.setattr(live, "STREAM_SECONDS", 30.0)
    monkeypatch.setattr(live, "FALLBACK_POLL_SECONDS", 2)


@pytest.fixture
def running_worker():
    stop = threading.Event()
    client_id = f"cer-ingest-e2e-{uuid.uuid4().hex[:8]}"
    worker = IngestWorker(
        config=broker.ingest_config(), stop=stop, client_id=client_id, flush_interval_s=0.05
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert worker.subscribed.wait(WAIT_S)
    yield worker
    stop.set()
    thread.join(WAIT_S)
    config = broker.ingest_config()
    forget = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    broker.configure_client(forget, config)
    forget.connect(config.host, config.port)
    forget.loop_start()
    forget.disconnect()
    forget.loop_stop()


def _publish(account, *, at: dt.datetime, withdrawn_total_wh: int) -> None:
    """What the meter does: connect with its own account and publish its counter."""
    device = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"meter-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTProtocolVersion.MQTTv311,
    )
    device.username_pw_set(account.device.mqtt_username, account.secret)
    connected = threading.Event()
    device.on_connect = lambda client, userdata, flags, code, properties: connected.set()
    device.connect(settings.MQTT_HOST, int(settings.MQTT_PORT), keepalive=30)
    device.loop_start()
    try:
        assert connected.wait(WAIT_S), "the broker refused the device's account"
        payload = {"at": at.isoformat(), "withdrawn_total_wh": withdrawn_total_wh}
        info = device.publish(f"{account.device.topic_prefix}/readings", json.dumps(payload), qos=1)
        info.wait_for_publish(WAIT_S)
        assert info.is_published()
    finally:
        device.disconnect()
        device.loop_stop()


def _stored(device, count: int) -> None:
    """Wait until the worker committed `count` counter values of the device."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=WAIT_S)
    while CounterSample.objects.filter(device=device).count() < count:
        assert dt.datetime.now(dt.UTC) < deadline, "the worker did not store the message"
        threading.Event().wait(0.1)


def _withdrawal_cell(page):
    return page.locator('.live-points tr[data-point] [data-field="withdrawn"]')


def _shows(page, text: str) -> None:
    """Wait until the point's withdrawal reads `text`, without reloading the page."""
    page.wait_for_function(
        "text => document.querySelector('.live-points [data-field=withdrawn]').textContent"
        " === text",
        arg=text,
        timeout=WAIT_S * 1000,
    )


def test_the_live_page_follows_a_meter_through_the_stream_then_through_polling(
    page, browser, live_server, community, referente, account, quick_streams, running_worker
):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    log_in(page, live_server, "referente-live")
    page.goto(live_server.url + reverse("dashboards:live", args=[community.pk]))
    cell = _withdrawal_cell(page)
    assert cell.inner_text() == "—"
    assert page.locator(".live-fallback").is_hidden()

    # 50 Wh in the 60 s between two counter values: 3 kW, seen without reloading.
    _publish(account, at=now - dt.timedelta(seconds=120), withdrawn_total_wh=1_000)
    _publish(account, at=now - dt.timedelta(seconds=60), withdrawn_total_wh=1_050)
    _stored(account.device, 2)
    _shows(page, "3\u00a0kW")
    assert page.locator('.dash-stats [data-field="withdrawn"]').inner_text() == "3\u00a0kW"

    # Without EventSource the page says it polls, and the snapshot brings the next value.
    context = page.context
    polling = context.new_page()
    polling.add_init_script("delete window.EventSource")
    page.close()
    polling.goto(live_server.url + reverse("dashboards:live", args=[community.pk]))
    fallback = polling.locator(".live-fallback")
    fallback.wait_for(state="visible", timeout=WAIT_S * 1000)
    assert "2" in fallback.inner_text()
    assert _withdrawal_cell(polling).inner_text() == "3\u00a0kW"

    # 25 Wh in the next 60 s: 1.5 kW.
    _publish(account, at=now, withdrawn_total_wh=1_075)
    _stored(account.device, 3)
    _shows(polling, "1,5\u00a0kW")
    polling.close()
