"""What /healthz checks: the database, the broker, Redis, the workers' heartbeats, the scheduler.

Each check returns a `Check` (ok, failed or skipped, with a reason). The deployment says
which processes it runs in `HEALTH_EXPECT` (comma-separated: `ingest`, `scheduler`,
`settlement`, `worker`; the embedded default expects the scheduler only, which `make run`
starts); a process not expected is skipped, not failed. The broker is checked when the
ingestion worker is expected (it cannot work without it) or when `broker` is listed;
Redis when the Celery workers are expected (`worker`) or when `redis` is listed.

The ground floor must not import the apps above it, so the broker is reached with a
bare MQTT CONNECT built here from the MQTT_* settings, and the scheduler's table is
read from cer.core itself.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import struct
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection

from cer.core.heartbeat import INGEST, SCHEDULER, SETTLEMENT, WORKER

OK, FAILED, SKIPPED = "ok", "failed", "skipped"

HEARTBEAT_MAX_AGE = dt.timedelta(minutes=2)
SCHEDULER_MAX_AGE = dt.timedelta(minutes=5)
BROKER_TIMEOUT_S = 3.0
REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check: `status` is ok, failed or skipped; `reason` says why."""

    status: str
    reason: str = ""
    details: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "reason": self.reason, **self.details}


@dataclass(frozen=True)
class Report:
    """Every check by name; healthy when none failed."""

    checks: dict[str, Check]

    @property
    def healthy(self) -> bool:
        return all(check.status != FAILED for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if check.status == FAILED]


def expected() -> set[str]:
    """The parts the deployment runs, from the HEALTH_EXPECT setting."""
    raw = getattr(settings, "HEALTH_EXPECT", SCHEDULER)
    return {part.strip() for part in str(raw).split(",") if part.strip()}


def check_all(now: dt.datetime) -> Report:
    """Run every check at `now`."""
    parts = expected()
    return Report(
        checks={
            "database": check_database(),
            "broker": check_broker() if parts & {INGEST, "broker"} else _not_expected("broker"),
            "ingestion_worker": _heartbeat_check(INGEST, now, parts),
            "scheduler": check_scheduler(now) if SCHEDULER in parts else _not_expected(SCHEDULER),
            "settlement_worker": _heartbeat_check(SETTLEMENT, now, parts),
            "redis": check_redis() if parts & {WORKER, "redis"} else _not_expected("redis"),
            "worker": _heartbeat_check(WORKER, now, parts),
        }
    )


def _not_expected(part: str) -> Check:
    return Check(SKIPPED, f"{part} is not in HEALTH_EXPECT")


def check_database() -> Check:
    """SELECT 1 on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(FAILED, f"database unreachable: {error}".strip()[:300])
    return Check(OK)


def _heartbeat_check(name: str, now: dt.datetime, parts: set[str]) -> Check:
    if name not in parts:
        return _not_expected(name)
    from cer.core.models import Heartbeat

    try:
        heartbeat = Heartbeat.objects.filter(name=name).first()
    except DatabaseError:
        return Check(FAILED, "database unreachable")
    if heartbeat is None:
        return Check(FAILED, f"no heartbeat from {name} yet")
    age = now - heartbeat.last_beat_at
    details: dict[str, object] = {
        "last_beat_at": heartbeat.last_beat_at.isoformat(),
        "host": heartbeat.host,
    }
    if age > HEARTBEAT_MAX_AGE:
        return Check(FAILED, f"last heartbeat {int(age.total_seconds())} s ago", details)
    return Check(OK, "", details)


def check_scheduler(now: dt.datetime) -> Check:
    """The newest job start, or the scheduler's heartbeat, is recent; failing jobs are named.

    A job that fails (an SMTP server down) does not make the site unhealthy: it is named
    in `failing_jobs`, and /metrics flags it for an alert.
    """
    from cer.core.models import Heartbeat, PeriodicRun

    try:
        newest = (
            PeriodicRun.objects.exclude(last_started_at=None)
            .order_by("-last_started_at")
            .values_list("last_started_at", flat=True)
            .first()
        )
        beat_at = (
            Heartbeat.objects.filter(name=SCHEDULER).values_list("last_beat_at", flat=True).first()
        )
        failing = list(
            PeriodicRun.objects.exclude(last_error="")
            .order_by("name")
            .values_list("name", flat=True)
        )
    except DatabaseError:
        return Check(FAILED, "database unreachable")
    details: dict[str, object] = {"failing_jobs": failing}
    alive = (newest is not None and now - newest <= SCHEDULER_MAX_AGE) or (
        beat_at is not None and now - beat_at <= HEARTBEAT_MAX_AGE
    )
    if not alive:
        if newest is None and beat_at is None:
            return Check(FAILED, "the scheduler has never run", details)
        last = max(moment for moment in (newest, beat_at) if moment is not None)
        silent_s = int((now - last).total_seconds())
        return Check(FAILED, f"no scheduler round for {silent_s} s", details)
    reason = f"failing jobs: {', '.join(failing)}" if failing else ""
    return Check(OK, reason, details)


def check_redis() -> Check:
    """PING the Redis the tasks are queued on (REDIS_URL), within two seconds."""
    import redis

    url = str(getattr(settings, "REDIS_URL", ""))
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    where = url.rsplit("@", 1)[-1]  # never the password of a redis://:secret@host URL
    try:
        client.ping()
    except redis.RedisError as error:
        return Check(FAILED, f"Redis {where} unreachable: {error}"[:300])
    finally:
        client.close()
    return Check(OK)


def check_broker() -> Check:
    """Open a TCP (or TLS) connection to the broker and expect a CONNACK accepting the login."""
    host = str(getattr(settings, "MQTT_HOST", "127.0.0.1"))
    port = int(getattr(settings, "MQTT_PORT", 1883))
    try:
        code = mqtt_connect(
            host=host,
            port=port,
            username=str(getattr(settings, "MQTT_INGEST_USER", "")),
            password=str(getattr(settings, "MQTT_INGEST_PASSWORD", "")),
            ca_file=str(getattr(settings, "MQTT_CA_FILE", "")),
            timeout_s=BROKER_TIMEOUT_S,
        )
    except (OSError, ValueError) as error:
        return Check(FAILED, f"broker {host}:{port} unreachable: {error}")
    if code != 0:
        return Check(FAILED, f"broker {host}:{port} refused the login (CONNACK code {code})")
    return Check(OK)


def mqtt_connect(
    *, host: str, port: int, username: str, password: str, ca_file: str, timeout_s: float
) -> int:
    """Send an MQTT 3.1.1 CONNECT and return the CONNACK's return code (0: accepted).

    A clean session under a client id of its own, so the check never takes over (and
    disconnects) the ingestion worker's persistent session. Raises OSError when the
    broker cannot be reached and ValueError when it does not answer as MQTT.
    """
    client_id = f"cer-health-{os.getpid()}-{os.urandom(3).hex()}".encode()
    flags = 0x02  # clean session
    payload = _mqtt_string(client_id)
    if username:
        flags |= 0x80
        payload += _mqtt_string(username.encode())
        if password:
            flags |= 0x40
            payload += _mqtt_string(password.encode())
    variable = _mqtt_string(b"MQTT") + bytes([4, flags]) + struct.pack("!H", 10)
    packet = bytes([0x10]) + _remaining_length(len(variable) + len(payload)) + variable + payload
    with socket.create_connection((host, port), timeout=timeout_s) as raw:
        sock: socket.socket = raw
        if ca_file:
            context = ssl.create_default_context(cafile=ca_file)
            sock = context.wrap_socket(raw, server_hostname=host)
        sock.sendall(packet)
        answer = _read_exactly(sock, 4)
        if answer[0] != 0x20 or answer[1] != 2:
            raise ValueError(f"not an MQTT CONNACK: {answer.hex()}")
        if answer[3] == 0:
            sock.sendall(b"\xe0\x00")  # DISCONNECT, so the broker logs a clean goodbye
        return answer[3]


def _mqtt_string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ValueError("the broker closed the connection without a CONNACK")
        data += chunk
    return data
