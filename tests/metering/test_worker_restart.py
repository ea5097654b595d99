"""The real `manage.py ingest_mqtt`, killed twice mid-stream: nothing lost, nothing counted twice.

Devices registered by the platform publish a stream of one-minute readings at QoS 1,
a few of them invalid. The worker runs as a subprocess on the test database and is
killed with SIGKILL twice while the stream flows, then restarted at once. Each device
ends its stream with a sentinel reading: MQTT keeps one publisher's messages in order
and the worker commits batches in order, so once every sentinel is stored, everything
published before it has been recorded or rejected.
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
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import (
    DeviceKind,
    HourlyReading,
    IntervalEnergy,
    ReadingSource,
    RejectedMessage,
)
from tests import factories

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the worker subprocess must reach the test database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

UTC = dt.UTC
NOW = dt.datetime(2025, 6, 1, 12, tzinfo=UTC)
FIRST_MINUTE = dt.datetime(2025, 6, 1, 10, tzinfo=UTC)
DEVICES = 3
MESSAGES_PER_DEVICE = 100  # minutes 0-99: the hours 10:00 and 11:00 UTC
INVALID_EVERY = 20  # every 20th message has a timestamp without offset
WAIT_S = 20.0  # upper bound of every wait: it only keeps a broken run from hanging
ROOT = Path(settings.BASE_DIR)


def _eventually(predicate, *, what: str, within_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _database_url() -> str:
    """The test database (test_… name) for the subprocess, in DATABASE_URL form."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'], safe='')}"


class _Worker:
    """`manage.py ingest_mqtt` as a subprocess with a fixed client id, its log in a file."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.client_id = f"cer-ingest-restart-{uuid.uuid4().hex[:8]}"
        self.process: subprocess.Popen | None = None
        self.log_offset = 0

    def start(self) -> None:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "LOG_LEVEL": "INFO",
            # A June 2025 stream replayed now: accepted as a backfill of history.
            "METERING_MAX_SAMPLE_AGE_DAYS": "100000",
        }
        with self.log.open("ab") as out:
            command = [sys.executable, str(ROOT / "manage.py"), "ingest_mqtt"]
            command += ["--client-id", self.client_id, "--batch-size", "25", "--flush-ms", "50"]
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
                command,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
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
        """SIGTERM: the worker commits and acknowledges its current batch, then exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def discard_session(self) -> None:
        config = broker.ingest_config()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True
        )
        broker.configure_client(client, config)
        client.connect(config.host, config.port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()


class _Publisher:
    """One device's MQTT connection (3.1.1, QoS 1), as a meter in the field would use."""

    def __init__(self, account: device_accounts.DeviceSecret) -> None:
        self.topic = f"{account.device.topic_prefix}/readings"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"meter-{uuid.uuid4().hex[:10]}",
            protocol=mqtt.MQTTProtocolVersion.MQTTv311,
        )
        self.client.username_pw_set(account.device.mqtt_username, account.secret)
        config = broker.ingest_config()
        self.client.connect(config.host, config.port, keepalive=30)
        self.client.loop_start()
        self.sent: list[mqtt.MQTTMessageInfo] = []

    def publish(self, payload: bytes) -> None:
        self.sent.append(self.client.publish(self.topic, payload, qos=1))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _reading(minute: int, withdrawn_wh: int, *, naive: bool = False) -> bytes:
    start = FIRST_MINUTE + dt.timedelta(minutes=minute)
    end = start + dt.timedelta(minutes=1)
    if naive:
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    document = {"start": start.isoformat(), "end": end.isoformat(), "withdrawn_wh": withdrawn_wh}
    return json.dumps(document).encode()


def _stream(points) -> tuple[list[tuple[int, bytes]], dict[tuple[int, dt.datetime], int]]:
    """The messages, interleaved across devices, and the Wh each (point, UTC hour) must hold."""
    messages: list[tuple[int, bytes]] = []
    expected: dict[tuple[int, dt.datetime], int] = defaultdict(int)
    for minute in range(MESSAGES_PER_DEVICE):
        for index, point in enumerate(points):
            withdrawn = (minute * 7 + index * 3) % 60 + 1  # at most 3.6 kW over one minute
            invalid = minute % INVALID_EVERY == INVALID_EVERY - 1
            messages.append((index, _reading(minute, withdrawn, naive=invalid)))
            if not invalid:
                hour = (FIRST_MINUTE + dt.timedelta(minutes=minute)).replace(minute=0)
                expected[(point.pk, hour)] += withdrawn
    return messages, dict(expected)


def _sentinel_minute(phase: int) -> int:
    return 24 * 60 + phase  # the next day: apart from the stream's hours


def _hourly(points) -> dict[tuple[int, dt.datetime], int]:
    rows = HourlyReading.objects.filter(
        connection_point__in=points, source=ReadingSource.DEVICE, withdrawn_wh__gt=0
    )
    return {(row.connection_point_id, row.hour_start): row.withdrawn_wh for row in rows}


def _stored(points) -> int:
    return IntervalEnergy.objects.filter(connection_point__in=points).count()


def _rejected(devices) -> int:
    return RejectedMessage.objects.filter(device__in=devices).count()


def _recorded(points, devices) -> int:
    return _stored(points) + _rejected(devices)


def _kill_mid_stream(worker: _Worker, points, devices, *, after: int) -> int:
    """Once this worker has recorded more than `after` messages, SIGKILL and restart it.

    Waiting for progress first makes each kill hit a worker that is busy with the
    stream, not one still starting. Return the progress seen just before the kill.
    """

    def busy() -> bool:
        return worker.logged_since_start("subscribed to") and _recorded(points, devices) > after

    _eventually(busy, what="the worker to record part of the stream")
    progress = _recorded(points, devices)
    worker.kill()
    worker.start()
    return progress


def _sentinels_stored(points, phase: int) -> bool:
    start = FIRST_MINUTE + dt.timedelta(minutes=_sentinel_minute(phase))
    return IntervalEnergy.objects.filter(
        connection_point__in=points, start_at=start
    ).count() == len(points)


@pytest.fixture
def accounts(community):
    """Devices registered through the platform, one per connection point, with broker accounts."""
    created = []
    for number in range(DEVICES):
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


@pytest.fixture
def worker(tmp_path):
    running = _Worker(tmp_path / "worker.log")
    yield running
    running.stop()
    running.discard_session()


def test_a_worker_killed_twice_mid_stream_loses_and_doubles_nothing(accounts, worker):
    points = [account.device.connection_point for account in accounts]
    devices = [account.device for account in accounts]
    messages, expected = _stream(points)
    publishers = [_Publisher(account) for account in accounts]
    worker.start()
    _eventually(lambda: worker.logged_since_start("subscribed to"), what="the first subscription")

    kill_at = {len(messages) // 3, 2 * len(messages) // 3}
    progress_at_kill = 0
    for position, (index, payload) in enumerate(messages):
        if position in kill_at:
            progress_at_kill = _kill_mid_stream(worker, points, devices, after=progress_at_kill)
        publishers[index].publish(payload)
        time.sleep(0.002)  # pacing, so that the kills fall inside the stream
    for publisher in publishers:
        publisher.publish(_reading(_sentinel_minute(1), 1))
    for publisher in publishers:
        for info in publisher.sent:
            info.wait_for_publish(WAIT_S)
    published = sum(len(publisher.sent) for publisher in publishers)
    assert all(info.is_published() for publisher in publishers for info in publisher.sent)
    _eventually(lambda: _sentinels_stored(points, 1), what="every device's first sentinel")
    worker.stop()
    # The last worker resumed the persistent session: the broker had kept it across kills.
    assert worker.logged_since_start("session present: True")

    invalid = DEVICES * (MESSAGES_PER_DEVICE // INVALID_EVERY)
    assert (_stored(points), _rejected(devices)) == (published - invalid, invalid)
    assert _stored(points) + _rejected(devices) == published
    sentinel_hour = (FIRST_MINUTE + dt.timedelta(minutes=_sentinel_minute(1))).replace(minute=0)
    stream_hours = {key: wh for key, wh in _hourly(points).items() if key[1] != sentinel_hour}
    assert stream_hours == expected
    interval_wh = IntervalEnergy.objects.filter(connection_point__in=points).aggregate(
        total=Sum("withdrawn_wh")
    )["total"]
    assert sum(_hourly(points).values()) == interval_wh

    # A replay of the whole stream through a fresh worker adds nothing but the new sentinels.
    worker.start()
    for index, payload in messages:
        publishers[index].publish(payload)
    for publisher in publishers:
        publisher.publish(_reading(_sentinel_minute(2), 1))
    _eventually(lambda: _sentinels_stored(points, 2), what="every device's second sentinel")
    worker.stop()
    for publisher in publishers:
        publisher.close()

    after_replay = {key: wh for key, wh in _hourly(points).items() if key[1] != sentinel_hour}
    assert after_replay == expected
    assert _stored(points) == published - invalid + len(points)
    # Bad messages sent again are new messages: rejected again, each once.
    assert _rejected(devices) == 2 * invalid
