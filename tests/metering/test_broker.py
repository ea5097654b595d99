"""Device accounts on the real Mosquitto and the worker on the real database, end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from cer.core.models import Municipality
from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import (
    Device,
    DeviceKind,
    DeviceStatus,
    HourlyReading,
    IntervalEnergy,
    RejectedMessage,
)
from cer.metering.worker import IngestWorker
from tests import factories

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.django_db(transaction=True),
]

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
UTC = dt.UTC
# The streams are June 2025 recordings replayed now: the installation accepts them as a
# backfill of history, as an operator would allow when loading old data on purpose.
BACKFILL_DAYS = 100_000


@pytest.fixture(autouse=True)
def _accept_the_recorded_month(settings):
    settings.METERING_MAX_SAMPLE_AGE_DAYS = BACKFILL_DAYS


def _eventually(predicate, *, within_s: float = 20.0) -> bool:
    """Poll until the predicate holds; the bound only keeps a broken test from hanging."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class _DeviceClient:
    """A device speaking MQTT 5, so that refusals come back as reason codes."""

    def __init__(self, username: str, password: str) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-{uuid.uuid4().hex[:10]}",
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
            reconnect_on_failure=False,
        )
        self.client.username_pw_set(username, password)
        self.answered = threading.Event()
        self.dropped = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.reason = reason_code
        self.answered.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.dropped.set()
        self.answered.set()

    def connect(self) -> bool:
        config = broker.ingest_config()
        self.client.connect(config.host, config.port, keepalive=30)
        self.client.loop_start()
        self.answered.wait(10)
        return self.reason is not None and not self.reason.is_failure

    def publish(self, topic: str, document: object) -> None:
        info = self.client.publish(topic, json.dumps(document), qos=1)
        info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def community(transactional_db):
    # A transactional test empties the tables afterwards, reference data included:
    # put back the one municipality the builders use.
    Municipality.objects.get_or_create(
        istat_code=factories.SPINEA,
        defaults={
            "name": "Spinea",
            "region": "Veneto",
            "province": "Venezia",
            "province_abbr": "VE",
            "cadastral_code": "I908",
            "population": 27_000,
        },
    )
    return factories.make_community()


@pytest.fixture
def registered(point):
    """Register devices through the service; remove their broker accounts afterwards."""
    created: list[Device] = []

    def register(name: str) -> device_accounts.DeviceSecret:
        result = device_accounts.register_device(
            point=point, name=name, kind=DeviceKind.OWN_JSON, now=NOW
        )
        created.append(result.device)
        return result

    yield register
    with broker.DynsecSession() as session:
        for device in created:
            broker.delete_device_account(
                username=device.mqtt_username, role=device.broker_role, session=session
            )


@pytest.fixture
def run_worker():
    """Start ingestion workers in threads with a session of their own; stop them at the end."""
    client_id = f"cer-ingest-test-{uuid.uuid4().hex[:8]}"
    running: list[tuple[threading.Event, threading.Thread]] = []

    def start() -> tuple[threading.Event, threading.Thread]:
        stop = threading.Event()
        worker = IngestWorker(
            config=broker.ingest_config(), stop=stop, client_id=client_id, flush_interval_s=0.05
        )
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        assert worker.subscribed.wait(10)
        running.append((stop, thread))
        return stop, thread

    yield start
    for stop, thread in running:
        stop.set()
        thread.join(20)
    _discard_session(client_id)


def _discard_session(client_id: str) -> None:
    config = broker.ingest_config()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    broker.configure_client(client, config)
    client.connect(config.host, config.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def _interval(minute: int, withdrawn: int) -> dict:
    start = dt.datetime(2025, 6, 1, 10, tzinfo=UTC) + dt.timedelta(minutes=minute)
    return {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=1)).isoformat(),
        "withdrawn_wh": withdrawn,
    }


def test_a_registered_device_publishes_and_its_readings_land(registered, run_worker, point):
    account = registered("meter")
    run_worker()
    device = _DeviceClient(account.device.mqtt_username, account.secret)
    assert device.connect()

    device.publish(f"{account.device.topic_prefix}/readings", _interval(0, 42))

    assert _eventually(lambda: HourlyReading.objects.filter(connection_point=point).exists())
    reading = HourlyReading.objects.get(connection_point=point)
    assert (reading.hour_start, reading.withdrawn_wh) == (
        dt.datetime(2025, 6, 1, 10, tzinfo=UTC),
        42,
    )
    device.close()


def test_the_secret_is_stored_only_as_a_hash(registered):
    account = registered("meter")

    stored = Device.objects.get(pk=account.device.pk)

    assert account.secret not in stored.secret_hash
    assert check_password(account.secret, stored.secret_hash)


def test_a_disabled_device_is_dropped_and_cannot_connect_again(registered):
    account = registered("meter")
    connected = _DeviceClient(account.device.mqtt_username, account.secret)
    assert connected.connect()

    device_accounts.disable_device(device=account.device, now=NOW)

    assert connected.dropped.wait(10)
    again = _DeviceClient(account.device.mqtt_username, account.secret)
    assert not again.connect()
    assert Device.objects.get(pk=account.device.pk).status == DeviceStatus.DISABLED
    connected.close()
    again.close()


def test_an_enabled_device_connects_again(registered):
    account = registered("meter")
    device_accounts.disable_device(device=account.device, now=NOW)

    device_accounts.enable_device(device=account.device, now=NOW)

    client = _DeviceClient(account.device.mqtt_username, account.secret)
    assert client.connect()
    client.close()


def test_a_rotated_secret_stops_the_old_one_at_once(registered):
    account = registered("meter")
    connected = _DeviceClient(account.device.mqtt_username, account.secret)
    assert connected.connect()

    rotated = device_accounts.rotate_device_secret(device=account.device, now=NOW)

    assert connected.dropped.wait(10)
    old = _DeviceClient(account.device.mqtt_username, account.secret)
    new = _DeviceClient(account.device.mqtt_username, rotated.secret)
    assert not old.connect()
    assert new.connect()
    for client in (connected, old, new):
        client.close()


def test_a_deleted_device_loses_its_account(registered):
    account = registered("meter")

    device_accounts.delete_device(device=account.device, now=NOW)

    client = _DeviceClient(account.device.mqtt_username, account.secret)
    assert not client.connect()
    client.close()


def test_a_device_cannot_publish_under_another_devices_topic(registered, run_worker, point):
    intruder = registered("intruder")
    victim = registered("victim")
    run_worker()
    client = _DeviceClient(intruder.device.mqtt_username, intruder.secret)
    assert client.connect()

    forged = client.client.publish(
        f"{victim.device.topic_prefix}/readings", json.dumps(_interval(0, 999)), qos=1
    )
    # The broker answers a forbidden publish with a refusal or by dropping the client.
    assert _eventually(lambda: forged.is_published() or client.dropped.is_set())
    marker = _DeviceClient(intruder.device.mqtt_username, intruder.secret)
    assert marker.connect()
    marker.publish(f"{intruder.device.topic_prefix}/readings", _interval(1, 7))

    # The worker takes messages in the order the broker handled them: once the
    # marker has landed, the forged message would have landed before it.
    assert _eventually(lambda: IntervalEnergy.objects.filter(connection_point=point).exists())
    stored = IntervalEnergy.objects.get(connection_point=point)
    assert (stored.device_id, stored.withdrawn_wh) == (intruder.device.pk, 7)
    assert not RejectedMessage.objects.exists()
    client.close()
    marker.close()


def test_the_worker_restarted_mid_stream_loses_nothing(registered, run_worker, point):
    account = registered("meter")
    topic = f"{account.device.topic_prefix}/readings"
    client = _DeviceClient(account.device.mqtt_username, account.secret)
    assert client.connect()
    stop, thread = run_worker()
    for minute in range(0, 20):
        client.publish(topic, _interval(minute, 10))
    assert _eventually(lambda: IntervalEnergy.objects.count() >= 5)

    stop.set()
    thread.join(20)
    for minute in range(20, 40):
        client.publish(topic, _interval(minute, 10))
    run_worker()

    assert _eventually(lambda: IntervalEnergy.objects.count() == 40)
    assert HourlyReading.objects.get(connection_point=point).withdrawn_wh == 400
    client.close()


def test_the_referente_registers_a_device_on_the_page_and_sees_the_secret_once(
    client, community, point
):
    referente = factories.make_user_with_role(community, role="REFERENTE", username="ref-page")
    client.force_login(referente)
    url = reverse("metering:device_list", kwargs={"community_id": community.pk})

    created = client.post(
        url, {"point": point.pk, "name": "shelly", "kind": DeviceKind.SHELLY_EM, "meter_channel": 0}
    )
    device = Device.objects.get(name="shelly")
    try:
        secret = created.context["secret"]
        listed = client.get(url).content.decode()
        client.post(
            reverse("metering:device_action", kwargs={"community_id": community.pk}),
            {"device": device.pk, "action": "disable"},
        )
        refused = _DeviceClient(device.mqtt_username, secret)

        assert created.status_code == 200
        assert created["Cache-Control"] == "no-store"
        assert device.mqtt_username in listed
        assert secret not in listed
        assert Device.objects.get(pk=device.pk).status == DeviceStatus.DISABLED
        assert not refused.connect()
        refused.close()
    finally:
        device_accounts.delete_device(device=device, now=NOW)
