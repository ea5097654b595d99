"""The embedded SQLite database takes concurrent writers without "database is locked".

Whatever database the suite runs on, this test makes its own SQLite file, migrates it
and runs real processes against it at the same time: two settlement months queued
together (run by the web process's threads), device secret rotations, API writes
through the web stack, and readings posted over HTTP by a device.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "segreto-del-contatore-2025"

pytestmark = pytest.mark.slow

# Each workload waits for START (epoch seconds), then works for SECONDS, so that they
# overlap however long Django takes to start in each process.
_WAIT = """
import os, time
time.sleep(max(0.0, float(os.environ["START"]) - time.time()))
END = time.monotonic() + float(os.environ["SECONDS"])
"""

SETUP = """
import datetime as dt, json
from django.contrib.auth.hashers import make_password
from cer.metering.models import Device
from tests import factories
from tests.factories.settlement import add_prices, add_readings, make_small

small = make_small()
for month in (dt.date(2025, 6, 1), dt.date(2025, 7, 1)):
    add_readings(small, month)
    add_prices(month)
referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
devices = [
    Device.objects.create(
        connection_point=small.points[key], name="contatore", kind="OWN_JSON",
        mqtt_username=f"contatore-{key}", secret_hash=make_password(SECRET), created_at=created,
    )
    for key in ("household", "sme")
]
print(json.dumps({
    "configuration": small.configuration.pk,
    "plant": small.plant.pk,
    "pod": small.points["household"].pod,
    "rotated_device": devices[1].pk,
}))
"""

SETTLE_TWO_MONTHS = (
    _WAIT
    + """
import datetime as dt, threading
from django.utils import timezone
from cer.communities.models import Configuration
from cer.settlement.models import SettlementJob
from cer.settlement.jobs import request_run

configuration = Configuration.objects.get(pk=int(os.environ["CONFIGURATION"]))
for month in (dt.date(2025, 6, 1), dt.date(2025, 7, 1)):
    request_run(configuration=configuration, month=month, actor=None, now=timezone.now())
for thread in threading.enumerate():
    if thread.name.startswith("settlement-job-"):
        thread.join()
print(list(SettlementJob.objects.order_by("month").values_list("status", "error")))
"""
)

ROTATE = (
    _WAIT
    + """
from django.utils import timezone
from cer.metering.models import Device
from cer.metering.devices import rotate_device_secret

class Broker:
    # Stands in for the MQTT broker's admin session: only the database is under test.
    def execute(self, *commands, **options):
        return []

device = Device.objects.get(pk=int(os.environ["DEVICE"]))
count = 0
while time.monotonic() < END or count < 5:
    rotate_device_secret(device=device, now=timezone.now(), session=Broker())
    count += 1
print("rotations", count)
"""
)

WEB_WRITE = (
    _WAIT
    + """
from django.contrib.auth.models import User
from django.test import Client
from cer.api.authentication import issue_tokens

access = issue_tokens(user=User.objects.get(username="ref"))["access"]
client = Client(headers={"authorization": f"Bearer {access}"})
count = 0
while time.monotonic() < END or count < 5:
    response = client.patch(
        f"/api/v1/plants/{os.environ['PLANT']}", {"name": f"FV tetto {count}"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    count += 1
print("web writes", count)
"""
)

INGEST = (
    _WAIT
    + """
import base64, datetime as dt, json
from django.test import Client

client = Client()
credentials = base64.b64encode(f"contatore-household:{os.environ['SECRET']}".encode()).decode()
day = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
count = 0
while time.monotonic() < END or count < 5:
    hours = [day + dt.timedelta(days=count, hours=hour) for hour in range(24)]
    body = {"readings": [
        {"start": h.isoformat(), "end": (h + dt.timedelta(hours=1)).isoformat(),
         "withdrawn_wh": 400}
        for h in hours
    ]}
    response = client.post(
        f"/api/points/{os.environ['POD']}/readings", json.dumps(body),
        content_type="application/json", headers={"authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 201, response.content
    count += 1
print("ingested days", count)
"""
)


def _environment(database: Path, **extra: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost",
        "SETTLEMENT_JOBS_IN_PROCESS": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    environment.update(extra)
    return environment


def _manage(*arguments: str, environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (the test's own interpreter and manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    assert "database is locked" not in stdout + stderr, stderr
    assert process.returncode == 0, stderr
    return stdout, stderr


def test_concurrent_settlements_rotations_web_writes_and_ingestion_all_succeed(tmp_path):
    database = tmp_path / "cer.sqlite3"
    _finish(_manage("migrate", "--no-input", "-v0", environment=_environment(database)), 600)
    setup_out, _err = _finish(
        _manage(
            "shell", "-c", f"SECRET = {SECRET!r}\n" + SETUP, environment=_environment(database)
        ),
        300,
    )
    ids = json.loads(setup_out.strip().splitlines()[-1])
    timing = {"START": str(time.time() + 10), "SECONDS": "6"}
    workloads = {
        "settlement": (SETTLE_TWO_MONTHS, {"CONFIGURATION": str(ids["configuration"])}),
        "rotation": (ROTATE, {"DEVICE": str(ids["rotated_device"])}),
        "web": (WEB_WRITE, {"PLANT": str(ids["plant"])}),
        "ingestion": (INGEST, {"POD": ids["pod"], "SECRET": SECRET}),
    }

    running = {
        name: _manage("shell", "-c", code, environment=_environment(database, **timing, **extra))
        for name, (code, extra) in workloads.items()
    }
    outputs = {name: _finish(process, 300)[0] for name, process in running.items()}

    assert "[('DONE', ''), ('DONE', '')]" in outputs["settlement"]
    with sqlite3.connect(database) as check:
        runs = check.execute("SELECT COUNT(*) FROM settlement_settlementrun").fetchone()[0]
        august = check.execute(
            "SELECT COUNT(*) FROM metering_hourlyreading WHERE hour_start >= '2025-08-01'"
        ).fetchone()[0]
        mode = check.execute("PRAGMA journal_mode").fetchone()[0]
    ingested_days = int(outputs["ingestion"].split()[-1])
    assert runs == 2
    assert august == 24 * ingested_days
    assert int(outputs["rotation"].split()[-1]) >= 5
    assert int(outputs["web"].split()[-1]) >= 5
    assert mode == "wal"
