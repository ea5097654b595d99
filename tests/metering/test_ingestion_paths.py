"""QoS 1 and the worker's persistent session: what the broker keeps while the worker is away.

Against the real Mosquitto (scripts/services.sh) and PostgreSQL: the worker runs in a
thread with a fixed client id, is stopped, a device publishes at QoS 1 and at QoS 0, and
the worker comes back. The QoS 1 messages are booked; the QoS 0 ones were never queued
(Mosquitto's default, queue_qos0_messages false): installers must publish at QoS 1.
The shipped configuration is checked without a broker.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import DeviceKind, IntervalEnergy
from cer.metering.worker import IngestWorker
from tests import factories

ROOT = Path(settings.BASE_DIR)
UTC = dt.UTC
NOW = dt.datetime(2025, 6, 1, 12, tzinfo=UTC)
WAIT_S = 20.0

needs_services = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the worker thread and the test share the database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def _shipped_conf() -> dict[str, str]:
    lines = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    pairs = [line.split(None, 1) for line in lines if line.strip() and not line.startswith("#")]
    return {pair[0]: pair[1].strip() if len(pair) > 1 else "" for pair in pairs}


def test_the_shipped_broker_keeps_queued_qos1_messages_across_restarts():
    conf = _shipped_conf()

    assert conf["persistence"] == "true"
    assert int(conf["max_queued_messages"]) >= 1_000_000
    # QoS 0 is not queued for an absent subscriber: the documented reason to require QoS 1.
    assert conf.get("queue_qos0_messages", "false") == "false"


def _eventually(predicate, *, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class _RunningWorker:
    """IngestWorker in a thread, stopped cleanly (commit, acknowledge, disconnect)."""

    def __init__(self, client_id: str) -> None:
        self.stop_event = threading.Event()
        self.worker = IngestWorker(
            config=broker.ingest_config(),
            stop=self.stop_event,
            client_id=client_id,
            batch_size=50,
            flush_interval_s=0.05,
        )
        self.thread = threading.Thread(target=self.worker.run, daemon=True)

    def __enter__(self) -> _RunningWorker:
        self.thread.start()
        _eventually(self.worker.subscribed.is_set, what="the worker's subscription")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_event.set()
        self.thread.join(WAIT_S)


def _interval(minute: int) -> bytes:
    start = NOW - dt.timedelta(hours=2) + dt.timedelta(minutes=minute)
    end = start + dt.timedelta(minutes=1)
    return json.dumps(
        {"start": start.isoformat(), "end": end.isoformat(), "withdrawn_wh": 10}
    ).encode()


@pytest.fixture
def account(community):
    point = factories.make_connection_point(community, factories.make_member())
    created = device_accounts.register_device(
        point=point, name="qos-meter", kind=DeviceKind.OWN_JSON, now=NOW
    )
    yield created
    with broker.DynsecSession() as session:
        broker.delete_device_account(
            username=created.device.mqtt_username, role=created.device.broker_role, session=session
        )


def _with_services(test):
    for mark in reversed(needs_services):
        test = mark(test)
    return test


@_with_services
def test_qos1_messages_published_while_the_worker_is_away_are_booked_after_it_returns(
    account, settings
):
    settings.METERING_MAX_SAMPLE_AGE_DAYS = 100_000
    client_id = f"cer-ingest-qos-{uuid.uuid4().hex[:8]}"
    with _RunningWorker(client_id):
        pass  # the broker now holds the worker's persistent session and subscription
    config = broker.ingest_config()
    meter = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"meter-{uuid.uuid4().hex[:10]}",
        protocol=mqtt.MQTTProtocolVersion.MQTTv311,
    )
    meter.username_pw_set(account.device.mqtt_username, account.secret)
    meter.connect(config.host, config.port, keepalive=30)
    meter.loop_start()
    topic = f"{account.device.topic_prefix}/readings"
    sent = [meter.publish(topic, _interval(minute), qos=1) for minute in range(10)]
    sent += [meter.publish(topic, _interval(minute), qos=0) for minute in range(10, 15)]
    for info in sent:
        info.wait_for_publish(WAIT_S)
    meter.disconnect()
    meter.loop_stop()

    with _RunningWorker(client_id):
        _eventually(
            lambda: IntervalEnergy.objects.filter(device=account.device).count() >= 10,
            what="the queued QoS 1 readings",
        )
        time.sleep(0.5)  # anything else the broker had queued would have arrived by now

    booked = IntervalEnergy.objects.filter(device=account.device)
    assert booked.count() == 10
    assert sorted(booked.values_list("start_at", flat=True)) == [
        NOW - dt.timedelta(hours=2) + dt.timedelta(minutes=minute) for minute in range(10)
    ]
