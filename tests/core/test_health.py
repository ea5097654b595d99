"""/healthz: 200 when every expected part is ok, 503 naming the part that failed."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cer.core import health, heartbeat, periodic
from cer.core.heartbeat import INGEST, SCHEDULER, SETTLEMENT, beat
from cer.core.management.commands import run_periodic
from cer.core.models import Heartbeat, PeriodicRun

pytestmark = pytest.mark.django_db

OUTSIDER_ADDRESS = "203.0.113.9"


class FakeBroker:
    """A loopback TCP server answering each MQTT CONNECT with a CONNACK of `code`."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.connects: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                self.connects.append(conn.recv(1024))
                conn.sendall(bytes([0x20, 2, 0, self.code]))
                conn.recv(16)  # the DISCONNECT, or the close

    def close(self) -> None:
        self._server.close()


@pytest.fixture(autouse=True)
def _fresh_throttle():
    heartbeat.forget()
    yield
    heartbeat.forget()


@pytest.fixture
def broker(settings):
    fake = FakeBroker()
    settings.MQTT_HOST, settings.MQTT_PORT = "127.0.0.1", fake.port
    settings.MQTT_INGEST_USER, settings.MQTT_INGEST_PASSWORD = "cer-ingest", "s3cret"
    settings.MQTT_CA_FILE = ""
    yield fake
    fake.close()


@pytest.fixture
def full_deployment(settings, broker):
    """Every part expected, every process beating now, the scheduler just ran a job."""
    settings.HEALTH_EXPECT = "ingest,scheduler,settlement"
    now = timezone.now()
    for name in (INGEST, SCHEDULER, SETTLEMENT):
        beat(name, now)
    PeriodicRun.objects.create(name="notifications.send", next_run_at=now, last_started_at=now)
    return now


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def test_every_part_ok_answers_200_with_each_check(client, full_deployment, broker):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "ingestion_worker": "ok",
        "scheduler": "ok",
        "settlement_worker": "ok",
        # The Celery parts are checked only when HEALTH_EXPECT names them (tests/tasks).
        "redis": "skipped",
        "worker": "skipped",
    }
    # The check logged in with the ingestion account under a client id of its own.
    connect = broker.connects[0]
    assert b"MQTT" in connect and b"cer-ingest" in connect and b"s3cret" in connect
    assert b"cer-health-" in connect


def test_a_closed_broker_port_answers_503_naming_the_broker(client, settings, full_deployment):
    settings.MQTT_PORT = _closed_port()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert "unreachable" in body["checks"]["broker"]["reason"]
    assert body["checks"]["ingestion_worker"]["status"] == "ok"


def test_a_broker_refusing_the_login_is_a_failure(client, broker, full_deployment):
    broker.code = 5  # not authorised

    body = client.get("/healthz").json()

    assert body["failed"] == ["broker"]
    assert "refused the login (CONNACK code 5)" in body["checks"]["broker"]["reason"]


def test_an_old_ingestion_heartbeat_answers_503_naming_the_worker(client, full_deployment):
    Heartbeat.objects.filter(name=INGEST).update(
        last_beat_at=full_deployment - dt.timedelta(minutes=3)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["ingestion_worker"]
    assert body["checks"]["ingestion_worker"]["reason"].startswith("last heartbeat 1")


def test_a_worker_that_never_beat_fails(client, full_deployment):
    Heartbeat.objects.filter(name=SETTLEMENT).delete()

    body = client.get("/healthz").json()

    assert body["failed"] == ["settlement_worker"]
    assert body["checks"]["settlement_worker"]["reason"] == "no heartbeat from settlement yet"


def test_a_silent_scheduler_fails_and_a_failing_job_is_named_without_failing(
    client, full_deployment
):
    PeriodicRun.objects.create(
        name="alerts.evaluate", next_run_at=full_deployment, last_error="RuntimeError: boom"
    )
    body = client.get("/healthz").json()
    assert body["checks"]["scheduler"]["status"] == "ok"
    assert body["checks"]["scheduler"]["failing_jobs"] == ["alerts.evaluate"]

    long_ago = full_deployment - dt.timedelta(minutes=10)
    PeriodicRun.objects.update(last_started_at=long_ago)
    Heartbeat.objects.filter(name=SCHEDULER).update(last_beat_at=long_ago)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["scheduler"]
    assert response.json()["checks"]["scheduler"]["reason"].startswith("no scheduler round for 6")


def test_parts_not_expected_are_skipped_and_the_broker_is_not_called(client, settings):
    settings.HEALTH_EXPECT = "scheduler"
    settings.MQTT_PORT = _closed_port()
    beat(SCHEDULER, timezone.now())

    response = client.get("/healthz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["broker"]["status"] == "skipped"
    assert checks["ingestion_worker"]["status"] == "skipped"
    assert checks["settlement_worker"]["status"] == "skipped"


def test_another_address_gets_only_the_status(client, settings, full_deployment):
    settings.MQTT_PORT = _closed_port()

    response = client.get("/healthz", REMOTE_ADDR=OUTSIDER_ADDRESS)

    assert response.status_code == 503
    assert response.json() == {"status": "failed"}


def test_an_allowed_network_sees_the_details(client, settings, full_deployment):
    settings.METRICS_ALLOWED_IPS = ["203.0.113.0/24"]

    response = client.get("/healthz", REMOTE_ADDR=OUTSIDER_ADDRESS)

    assert "checks" in response.json()


def test_a_beat_is_written_at_most_every_30_seconds():
    t0 = dt.datetime(2026, 3, 29, 0, 59, 50, tzinfo=dt.UTC)  # across the spring DST change

    assert beat(INGEST, t0) is True
    assert beat(INGEST, t0 + dt.timedelta(seconds=29)) is False
    assert Heartbeat.objects.get(name=INGEST).last_beat_at == t0
    assert beat(INGEST, t0 + dt.timedelta(seconds=30)) is True

    row = Heartbeat.objects.get(name=INGEST)
    assert row.last_beat_at == t0 + dt.timedelta(seconds=30)
    assert row.pid > 0 and row.host


def test_the_settlement_worker_and_the_scheduler_beat_in_their_loops(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    monkeypatch.setattr(periodic, "_discovered", True)
    # The scheduler closes stale connections each round; on PostgreSQL that would close
    # the connection holding this test's transaction.
    monkeypatch.setattr(run_periodic, "close_old_connections", lambda: None)

    call_command("run_settlement_jobs", "--once", stdout=StringIO())
    call_command("run_periodic", "--once", stdout=StringIO())

    assert set(Heartbeat.objects.values_list("name", flat=True)) == {SETTLEMENT, SCHEDULER}


@pytest.mark.skipif(
    not os.environ.get("MQTT_INGEST_PASSWORD"),
    reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
)
def test_the_real_broker_accepts_the_ingestion_account_and_refuses_a_wrong_password(settings):
    settings.MQTT_HOST = os.environ["MQTT_HOST"]
    settings.MQTT_PORT = int(os.environ["MQTT_PORT"])
    settings.MQTT_INGEST_USER = os.environ["MQTT_INGEST_USER"]
    settings.MQTT_INGEST_PASSWORD = os.environ["MQTT_INGEST_PASSWORD"]

    assert health.check_broker().status == health.OK

    settings.MQTT_INGEST_PASSWORD = "wrong"
    refused = health.check_broker()
    assert refused.status == health.FAILED
    assert "refused the login" in refused.reason
