"""The production topology, started for real on loopback, does a month's work end to end.

On a fresh PostgreSQL database (created, migrated and dropped here), with production
settings (DEBUG off, explicit hosts, generated secret and field-encryption keys, tasks on
Celery, HTTPS required: the test speaks to gunicorn as the TLS proxy would, from a
trusted address with X-Forwarded-Proto), it starts gunicorn, two Celery workers, the
beat scheduler and two `manage.py ingest_mqtt` workers sharing the stream, beside the
PostgreSQL, Mosquitto and Redis that `make test` runs. Then, as the people and devices
of a small community would:

1. three meters publish last month's hourly readings over MQTT with their own accounts,
   and the ingestion workers store every hour;
2. the referente logs in to the API with password and authenticator code, asks for the
   month's settlement, and watches the job go from QUEUED through RUNNING to DONE on a
   Celery worker (the job's task id is the one a worker logged as succeeded);
3. the referente distributes the month and downloads a member's statement, a PDF naming
   the member and the month;
4. /healthz answers 200 with the database, Redis, the broker, the ingestion and Celery
   workers' heartbeats and the scheduler all ok.

Every process is stopped at the end (SIGTERM, SIGKILL after a timeout), whatever happened;
on a failure their logs are printed. Needs what scripts/test.sh starts (DATABASE_URL on
PostgreSQL, REDIS_URL, the Mosquitto with dynamic security): skipped, saying which,
without it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
import psycopg
import pytest
import requests
from django.conf import settings
from django_otp.oath import TOTP

from cer.core import formatting
from cercalc import periods
from tests.topology.processes import ROOT, Timeout, Topology, free_port, port_open, wait_for

pytestmark = pytest.mark.slow

PYTHON = sys.executable
BIN = Path(sys.executable).parent
START_S = 90.0  # a loaded two-core machine takes a while to start eight Django processes
STEP_S = 60.0


def _missing_services() -> str:
    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        return "a PostgreSQL server (DATABASE_URL), as scripts/test.sh starts"
    if not os.environ.get("REDIS_URL"):
        return "the Redis started by scripts/services.sh (REDIS_URL)"
    if not os.environ.get("MQTT_ADMIN_PASSWORD") or not os.environ.get("MQTT_INGEST_PASSWORD"):
        return "the Mosquitto with dynamic security started by scripts/services.sh"
    if not (BIN / "gunicorn").exists() or not (BIN / "celery").exists():
        return "gunicorn and celery in the virtualenv"
    return ""


# --- the fresh database ---------------------------------------------------------------------


def _server_dsn(name: str) -> str:
    database = settings.DATABASES["default"]
    login = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        login += ":" + quote(database["PASSWORD"], safe="")
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{login}@{host}:{database['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    missing = _missing_services()
    if missing:
        pytest.skip(f"needs {missing}")
    name = f"cer_smoke_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_server_dsn("postgres"), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server_dsn(name)
    finally:
        with psycopg.connect(_server_dsn("postgres"), autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- production settings and the processes ------------------------------------------------


@pytest.fixture(scope="module")
def environment(database_url, tmp_path_factory) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        # TLS ends at a proxy in production; here the test is that proxy, on loopback.
        "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
        "TASKS_ON_CELERY": "true",
        "SETTLEMENT_JOBS_IN_PROCESS": "false",
        # Its own queue and share group: other tests use the same Redis and broker.
        "CELERY_QUEUE": f"smoke-{tag}",
        "MQTT_SHARE_GROUP": f"smoke-{tag}",
        "HEALTH_EXPECT": "ingest,scheduler,worker",
        "METRICS_ALLOWED_IPS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "INFO",
    }


def _manage(environment: dict[str, str], *arguments: str) -> None:
    done = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [PYTHON, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"manage.py {' '.join(arguments)}:\n{done.stdout}{done.stderr}"


def _month() -> dt.date:
    """Last month (Europe/Rome), which has ended: the settlement accepts it."""
    return periods.month_of(dt.datetime.now(dt.UTC)).previous().start


@pytest.fixture(scope="module")
def migrated(environment) -> dict[str, str]:
    """The fresh database migrated, before any process starts (as an upgrade does)."""
    _manage(environment, "migrate", "--no-input", "-v0")
    return environment


@pytest.fixture(scope="module")
def topology(migrated, tmp_path_factory, request) -> Iterator[tuple[Topology, int]]:
    environment = migrated
    started = Topology(tmp_path_factory.mktemp("logs"))
    port = free_port()
    queue = environment["CELERY_QUEUE"]
    try:
        started.start(
            "web",
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "2",
                "--timeout",
                "120",
            ],
            environment,
        )
        for number in (1, 2):
            started.start(
                f"worker-{number}",
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--concurrency",
                    "1",
                    "--queues",
                    queue,
                    "--hostname",
                    f"smoke{number}@%h",
                    "--loglevel",
                    "INFO",
                ],
                environment,
            )
        started.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--pidfile",
                str(started.log_dir / "beat.pid"),
            ],
            environment,
        )
        for number in (1, 2):
            started.start(
                f"ingest-{number}",
                [
                    PYTHON,
                    "manage.py",
                    "ingest_mqtt",
                    "--client-id",
                    f"{environment['MQTT_SHARE_GROUP']}-{number}",
                    "--batch-size",
                    "50",
                    "--flush-ms",
                    "100",
                ],
                environment,
            )
        yield started, port
    except BaseException:
        print(started.logs())
        raise
    finally:
        if request.session.testsfailed:
            print(started.logs())
        started.stop_all()


@pytest.fixture(scope="module")
def seeded(topology, environment, tmp_path_factory) -> Iterator[dict]:
    """The community, written while the processes start (they need none of it to start)."""
    out = tmp_path_factory.mktemp("seed") / "seed.json"
    subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [PYTHON, "-m", "tests.topology.seed", _month().isoformat(), str(out)],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=300,
    )
    created = json.loads(out.read_text())
    try:
        yield created
    finally:
        _forget_devices(created)


def _forget_devices(seeded: dict) -> None:
    """Remove the devices' broker accounts: the broker outlives the test database."""
    from cer.metering import broker

    with broker.DynsecSession() as session:
        for device in seeded["devices"].values():
            broker.delete_device_account(
                username=device["username"], role=device["role"], session=session
            )


# --- the actors -----------------------------------------------------------------------------


def _readings(key: str, month: dt.date) -> Iterator[bytes]:
    """The meter's messages: one per six hours of the month, one reading per hour, the
    figures of tests/factories/settlement.py (the producer injects 07-17 UTC)."""
    withdrawn = {"household": 700, "sme": 1500, "producer": 100}[key]
    starts = periods.month_of(month).hour_starts_s().tolist()
    hours = [dt.datetime.fromtimestamp(start, tz=dt.UTC) for start in starts]
    for first in range(0, len(hours), 6):
        readings = []
        for start in hours[first : first + 6]:
            reading = {
                "start": start.isoformat(),
                "end": (start + dt.timedelta(hours=1)).isoformat(),
                "withdrawn_wh": withdrawn,
            }
            if key == "producer":
                reading["injected_wh"] = 3000 if 7 <= start.hour < 17 else 0
            readings.append(reading)
        yield json.dumps({"readings": readings}).encode()


def _publish(device: dict, messages: list[bytes]) -> None:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"meter-{uuid.uuid4().hex[:10]}",
        protocol=mqtt.MQTTProtocolVersion.MQTTv311,
    )
    client.username_pw_set(device["username"], device["secret"])
    client.connect(os.environ.get("MQTT_HOST", "127.0.0.1"), int(os.environ["MQTT_PORT"]), 30)
    client.loop_start()
    try:
        sent = [client.publish(device["topic"], payload, qos=1) for payload in messages]
        for info in sent:
            info.wait_for_publish(STEP_S)
        assert all(info.is_published() for info in sent), "the broker refused a reading"
    finally:
        client.disconnect()
        client.loop_stop()


def _stored_hours(database_url: str, month: dt.date) -> int:
    """Hourly rows of the month in the topology's database (read directly, as an operator
    would: the test process's Django is on another database)."""
    start_at, end_at = periods.month_of(month).utc_bounds()
    with psycopg.connect(database_url) as db:
        row = db.execute(
            "SELECT count(*) FROM metering_hourlyreading"
            " WHERE hour_start >= %s AND hour_start < %s",
            (start_at, end_at),
        ).fetchone()
    return int(row[0]) if row else 0


class Api:
    """requests.Session against gunicorn, as the TLS proxy forwards a browser's request."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers["X-Forwarded-Proto"] = "https"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, allow_redirects=False, **kwargs)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=30, allow_redirects=False)


def _code(hex_key: str) -> str:
    """The authenticator app's current code (django-otp's TOTP, as the login checks it)."""
    return f"{TOTP(bytes.fromhex(hex_key), step=30, digits=6).token():06d}"


def _pdf_text(content: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(content))


# --- the test -------------------------------------------------------------------------------


def test_the_production_topology_settles_a_month_from_mqtt_readings_to_a_statement(
    environment, seeded, topology, database_url
):
    started, port = topology
    month = _month()
    api = Api(port)

    # Everything is up: the web answers, both ingestion workers joined the share group.
    wait_for(lambda: port_open(port), timeout=START_S, what="gunicorn to listen")
    for name in ("ingest-1", "ingest-2"):
        process = next(p for p in started.processes if p.name == name)
        wait_for(
            lambda p=process: "subscribed to $share/" in p.log(),
            timeout=START_S,
            what=f"{name} to subscribe",
        )
    for name in ("worker-1", "worker-2"):
        process = next(p for p in started.processes if p.name == name)
        wait_for(lambda p=process: " ready." in p.log(), timeout=START_S, what=f"{name} ready")
    started.check_alive()
    assert api.get("/healthz").status_code in (200, 503)  # plain HTTP, no redirect to HTTPS

    # 1. The meters publish the month; both ingestion workers store part of it.
    expected_rows = 3 * len(periods.month_of(month).hour_starts_s())
    for key, device in seeded["devices"].items():
        _publish(device, list(_readings(key, month)))
    wait_for(
        lambda: _stored_hours(database_url, month) >= expected_rows,
        timeout=STEP_S,
        what=f"{expected_rows} hourly readings stored",
    )
    assert _stored_hours(database_url, month) == expected_rows

    # 2. The referente logs in (password and second factor) and asks for the settlement.
    login = api.post(
        "/api/v1/auth/login",
        {
            "username": seeded["username"],
            "password": seeded["password"],
            "otp": _code(seeded["totp_key"]),
        },
    )
    assert login.status_code == 200, login.text
    api.session.headers["Authorization"] = f"Bearer {login.json()['access']}"
    requested = api.post(
        f"/api/v1/configurations/{seeded['configuration']}/settlement-runs",
        {"month": f"{month:%Y-%m}"},
    )
    assert requested.status_code == 202, requested.text
    job = requested.json()
    assert job["status"] == "QUEUED"
    assert len(job["task_id"]) == 32
    seen = ["QUEUED"]

    def finished() -> dict | None:
        shown = api.get(requested.headers["Location"]).json()
        if shown["status"] != seen[-1]:
            seen.append(shown["status"])
        return shown if shown["status"] in ("DONE", "FAILED") else None

    done = wait_for(finished, timeout=STEP_S, what="the settlement job to end", every=0.05)
    assert done["status"] == "DONE", done
    # The states only move forward (a quick run may end between two polls).
    assert seen in (["QUEUED", "RUNNING", "DONE"], ["QUEUED", "DONE"]), seen
    assert done["task_id"] == job["task_id"]
    assert done["attempts"] == 1
    assert done["run"] is not None and done["error"] == ""
    assert done["started_at"] <= done["finished_at"]
    succeeded = f"cer.settlement.tasks.settle_month[{job['task_id']}] succeeded"
    workers = [p for p in started.processes if p.name.startswith("worker-")]
    wait_for(
        lambda: any(succeeded in p.log() for p in workers),
        timeout=10,
        what="a Celery worker to log the task's success",
    )
    assert sum(succeeded in p.log() for p in workers) == 1, "one worker ran the task, once"

    # 3. The month is distributed; a member's statement comes as a PDF naming them.
    distributed = api.post(f"/api/v1/settlement-runs/{done['run']}/distribute", {"confirm": True})
    assert distributed.status_code == 201, distributed.text
    statements = api.get(
        "/api/v1/statements", params={"month": f"{month:%Y-%m}", "member": seeded["member"]}
    ).json()["results"]
    assert len(statements) == 1, statements
    document = api.get(f"/api/v1/statements/{statements[0]['id']}/pdf")
    assert document.status_code == 200
    assert document.headers["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-")
    text = " ".join(_pdf_text(document.content).split())
    assert seeded["member_name"] in text
    assert formatting.month(month, lang="it") in text

    # 4. Every part of the deployment is healthy (the worker heartbeat comes once a minute).
    def healthy() -> dict | None:
        answer = api.get("/healthz")
        return answer.json() if answer.status_code == 200 else None

    try:
        health = wait_for(healthy, timeout=START_S, what="/healthz to answer 200", every=2)
    except Timeout as error:
        raise AssertionError(f"{error}: {api.get('/healthz').text}") from error
    checks = health["checks"]
    for part in ("database", "redis", "broker", "worker", "ingestion_worker", "scheduler"):
        assert checks[part]["status"] == "ok", (part, checks[part])
    started.check_alive()

    # The end: every process stops on SIGTERM, within its timeout; each ingestion worker
    # took its share of the stream and rejected nothing.
    start = time.monotonic()
    started.stop_all()
    assert time.monotonic() - start < 60
    assert all(not process.alive for process in started.processes)
    for process in started.processes:
        if process.name.startswith("ingest-"):
            summary = process.log().rsplit("stopped: ", 1)[-1].splitlines()[0]
            assert not summary.startswith("0 messages"), (process.name, summary)
            assert " 0 rejected" in summary, (process.name, summary)
