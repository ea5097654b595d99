"""Two ingestion workers share the stream (MQTT 5 shared subscription); one is killed.

The first test shows how Mosquitto 2.0 deals a shared subscription's messages: round-robin
among the group's sessions, offline ones included, and a session's unacknowledged messages
go back to that session alone when it reconnects (docs/metering.md, Several workers).

The second runs two real `manage.py ingest_mqtt` processes in one group on the test
database. Devices publish counter values and interval readings at QoS 1; the broker splits
each device's messages between the workers, so one device's values are recorded by both,
in any order. One worker is SIGKILLed mid-stream and restarted. The booked energy must be
exactly the measured one for every device (last minus first counter value; the sum of the
intervals), hour by hour, with no row stored twice and nothing lost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import (
    CounterSample,
    CounterState,
    DeviceKind,
    HourlyReading,
    IntervalEnergy,
    ReadingSource,
    RejectedMessage,
)
from tests import factories
from tests.metering.test_worker_restart import _database_url, _eventually, _Publisher

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.slow,
]

UTC = dt.UTC
NOW = dt.datetime(2025, 6, 1, 12, tzinfo=UTC)
FIRST_MINUTE = dt.datetime(2025, 6, 1, 10, tzinfo=UTC)
MINUTES = 90  # 10:00-11:30 UTC: two hours per device
FIRST_COUNTER_WH = 1_000_000
WAIT_S = 60.0
# Starting Django takes seconds, a minute or more on a loaded machine: only a hang fails.
START_S = 240.0
ROOT = Path(settings.BASE_DIR)


# --- how Mosquitto deals a shared subscription --------------------------------------------


class _Member:
    """A raw MQTT 5 session in a share group: it records what it gets, acknowledges or not."""

    def __init__(self, client_id: str, group: str, *, acknowledge: bool = True) -> None:
        self.client_id, self.group, self.acknowledge = client_id, group, acknowledge
        self.received: list[tuple[str, bool]] = []
        self.subscribed = False
        self.client = self._connect()

    def _connect(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        broker.configure_client(client, broker.ingest_config())
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"$share/{self.group}/cer/#", qos=1)
        client.on_subscribe = lambda c, u, mid, codes, p: setattr(self, "subscribed", True)
        client.on_message = self._on_message
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 600
        config = broker.ingest_config()
        client.connect(config.host, config.port, clean_start=False, properties=properties)
        client.loop_start()
        _eventually(lambda: self.subscribed, what=f"{self.client_id} to subscribe")
        return client

    def _on_message(self, client, userdata, message) -> None:
        self.received.append((message.payload.decode(), bool(message.dup)))
        if self.acknowledge:
            client.ack(message.mid, message.qos)

    def crash(self) -> None:
        """End the connection without DISCONNECT, as a killed process does."""
        self.client.loop_stop()
        self.client.socket().close()

    def come_back(self) -> None:
        self.received, self.subscribed, self.acknowledge = [], False, True
        self.client = self._connect()

    def end(self) -> None:
        properties = Properties(PacketTypes.DISCONNECT)
        properties.SessionExpiryInterval = 0  # the broker discards the session
        self.client.disconnect(properties=properties)
        self.client.loop_stop()


@pytest.fixture
def publisher_account():
    """A broker account allowed to publish under cer/, made with the admin account."""
    name = f"test-share-pub-{uuid.uuid4().hex[:8]}"
    with broker.DynsecSession() as session:
        session.execute(
            {
                "command": "createRole",
                "rolename": name,
                "acls": [{"acltype": "publishClientSend", "topic": "cer/#", "allow": True}],
            },
            {
                "command": "createClient",
                "username": name,
                "password": name,
                "roles": [{"rolename": name}],
            },
        )
    yield name
    with broker.DynsecSession() as session:
        broker.delete_device_account(username=name, role=name, session=session)


def test_a_dead_members_share_waits_in_its_session_and_goes_back_to_it(publisher_account):
    group = f"share-{uuid.uuid4().hex[:8]}"
    alive = _Member(f"member-a-{group}", group)
    dead = _Member(f"member-b-{group}", group, acknowledge=False)
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=publisher_account)
    publisher.username_pw_set(publisher_account, publisher_account)
    config = broker.ingest_config()
    publisher.connect(config.host, config.port)
    publisher.loop_start()

    def publish(tag: str) -> None:
        for number in range(10):
            publisher.publish(
                f"cer/0/{group}/x/readings", f"{tag}{number}", qos=1
            ).wait_for_publish(10)

    try:
        publish("before-")
        _eventually(lambda: len(alive.received) + len(dead.received) == 10, what="10 messages")
        dealt = ([p for p, _ in alive.received], [p for p, _ in dead.received])
        dead.crash()  # it had acknowledged none of its five
        publish("during-")
        time.sleep(1.0)
        while_dead = [payload for payload, _ in alive.received[5:]]
        dead.come_back()
        _eventually(lambda: len(dead.received) == 10, what="the returning member's messages")
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        alive.end()
        dead.end()

    # Round-robin: every other message to each member.
    assert dealt == (
        [f"before-{n}" for n in (0, 2, 4, 6, 8)],
        [f"before-{n}" for n in (1, 3, 5, 7, 9)],
    )
    # While one member is offline the other still gets only its own turns: the broker queues
    # the offline member's turns in its session instead of handing them to a live member.
    assert while_dead == [f"during-{n}" for n in (0, 2, 4, 6, 8)]
    # On return the member gets its unacknowledged messages again (DUP), then its queue.
    assert sorted(dead.received) == sorted(
        [(f"before-{n}", True) for n in (1, 3, 5, 7, 9)]
        + [(f"during-{n}", False) for n in (1, 3, 5, 7, 9)]
    )


# --- two workers on one stream --------------------------------------------------------------


class _SharedWorker:
    """`manage.py ingest_mqtt` in a share group, as a subprocess, its log in a file."""

    def __init__(self, log: Path, client_id: str, group: str) -> None:
        self.log, self.client_id, self.group = log, client_id, group
        self.process: subprocess.Popen | None = None
        self.log_offset = 0

    def start(self) -> None:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "LOG_LEVEL": "INFO",
            "METERING_MAX_SAMPLE_AGE_DAYS": "100000",  # a June 2025 stream replayed now
        }
        command = [sys.executable, str(ROOT / "manage.py"), "ingest_mqtt"]
        command += ["--client-id", self.client_id, "--share-group", self.group]
        command += ["--batch-size", "20", "--flush-ms", "50"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
                command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env
            )

    def logged_since_start(self, text: str) -> bool:
        with self.log.open("rb") as log:
            log.seek(self.log_offset)
            return text.encode() in log.read()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def discard_session(self) -> None:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True
        )
        config = broker.ingest_config()
        broker.configure_client(client, config)
        client.connect(config.host, config.port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def workers(tmp_path):
    group = f"cer-ingest-test-{uuid.uuid4().hex[:8]}"
    started = [_SharedWorker(tmp_path / f"worker-{n}.log", f"{group}-{n}", group) for n in (1, 2)]
    yield started
    for worker in started:
        worker.stop()
        worker.discard_session()


@pytest.fixture
def accounts(community):
    created = []
    for number in range(4):
        point = factories.make_connection_point(community, factories.make_member())
        created.append(
            device_accounts.register_device(
                point=point, name=f"meter-{number}", kind=DeviceKind.OWN_JSON, now=NOW
            )
        )
    yield created
    with broker.DynsecSession() as session:
        for account in created:
            broker.delete_device_account(
                username=account.device.mqtt_username,
                role=account.device.broker_role,
                session=session,
            )


def _advance_wh(minute: int, index: int) -> int:
    return (minute * 7 + index * 3) % 60 + 1  # at most 3.6 kW over one minute


def _stream(accounts) -> tuple[list[tuple[int, bytes]], dict[tuple[int, dt.datetime], int]]:
    """Devices 0-1 send counter values, devices 2-3 intervals; the Wh each (point, hour) holds."""
    messages: list[tuple[int, bytes]] = []
    expected: dict[tuple[int, dt.datetime], int] = defaultdict(int)
    counters = [FIRST_COUNTER_WH] * len(accounts)
    for minute in range(MINUTES + 1):
        at = FIRST_MINUTE + dt.timedelta(minutes=minute)
        for index, account in enumerate(accounts):
            point_id = account.device.connection_point_id
            if index < 2:
                if minute:
                    advance = _advance_wh(minute, index)
                    counters[index] += advance
                    previous_hour = (at - dt.timedelta(minutes=1)).replace(minute=0)
                    expected[(point_id, previous_hour)] += advance
                document = {"at": at.isoformat(), "withdrawn_total_wh": counters[index]}
            elif minute < MINUTES:
                energy = _advance_wh(minute, index)
                end = at + dt.timedelta(minutes=1)
                document = {"start": at.isoformat(), "end": end.isoformat(), "withdrawn_wh": energy}
                expected[(point_id, at.replace(minute=0))] += energy
            else:
                continue
            messages.append((index, json.dumps(document).encode()))
    return messages, dict(expected)


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the worker subprocesses must reach the test database: PostgreSQL only",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_sharing_the_stream_book_exactly_the_measured_energy_across_a_kill(
    accounts, workers
):
    points = [account.device.connection_point_id for account in accounts]
    devices = [account.device.pk for account in accounts]
    messages, expected = _stream(accounts)
    counter_values = MINUTES + 1
    interval_readings = MINUTES
    publishers = [_Publisher(account) for account in accounts]
    for worker in workers:
        worker.start()
    for worker in workers:
        _eventually(
            lambda w=worker: w.logged_since_start("subscribed to $share/"),
            what="subscriptions",
            within_s=START_S,
        )

    def recorded() -> int:
        return (
            CounterSample.objects.filter(device_id__in=devices).count()
            + IntervalEnergy.objects.filter(connection_point_id__in=points).count()
            + RejectedMessage.objects.filter(device_id__in=devices).count()
        )

    for position, (index, payload) in enumerate(messages):
        if position == len(messages) // 2:
            _eventually(
                lambda: recorded() > len(messages) // 4, what="part of the stream", within_s=START_S
            )
            workers[0].kill()
            workers[0].start()
        publishers[index].publish(payload)
        time.sleep(0.002)
    for publisher in publishers:
        for info in publisher.sent:
            info.wait_for_publish(WAIT_S)
    assert all(info.is_published() for publisher in publishers for info in publisher.sent)
    total = 2 * counter_values + 2 * interval_readings
    assert len(messages) == total
    _eventually(lambda: recorded() >= total, what="every message recorded", within_s=START_S)
    time.sleep(1.0)  # a copy recorded twice would show up after the last commit
    for worker in workers:
        worker.stop()
    for publisher in publishers:
        publisher.close()

    # The broker split the stream: both workers recorded part of it.
    assert all(worker.logged_since_start("stopped: ") for worker in workers)
    assert not workers[1].logged_since_start("stopped: 0 messages")
    # Nothing lost, nothing rejected, no value or interval stored twice, none in quarantine.
    assert RejectedMessage.objects.filter(device_id__in=devices).count() == 0
    for device_id in devices[:2]:
        samples = CounterSample.objects.filter(device_id=device_id)
        assert samples.count() == counter_values
        assert samples.values("measured_at").distinct().count() == counter_values
        assert set(samples.values_list("state", flat=True)) == {CounterState.ACCEPTED}
    for point_id in points[2:]:
        assert (
            IntervalEnergy.objects.filter(connection_point_id=point_id).count() == interval_readings
        )
    # Booked = measured, hour by hour: last minus first counter value, the intervals' sum.
    booked = {
        (row.connection_point_id, row.hour_start): row.withdrawn_wh
        for row in HourlyReading.objects.filter(
            connection_point_id__in=points, source=ReadingSource.DEVICE
        )
    }
    assert booked == expected
    for index, point_id in enumerate(points[:2]):
        last = FIRST_COUNTER_WH + sum(_advance_wh(m, index) for m in range(1, MINUTES + 1))
        assert sum(wh for (p, _), wh in booked.items() if p == point_id) == last - FIRST_COUNTER_WH
