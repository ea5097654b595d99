"""Benchmark of the community dashboard; prints lines `bench: NAME VALUE UNIT`.

- dashboard_p95_ms: 95th percentile latency of GET /dashboard/communities/<pk>/ (default
  period: the month of the newest reading) for a community of 1,000 members with a full
  year of hourly readings (8.76 M rows in PostgreSQL), served by gunicorn with production
  settings on loopback, 20 concurrent logged-in clients for 60 s (target <= 300 ms).
- dashboard_p50_ms, dashboard_requests_per_s: the median and the throughput of that run.
- dashboard_uncached_ms: one request right after the community's readings version was
  bumped, i.e. the hourly sums computed again by the database (no target).

The data are generated once with COPY into the database at DATABASE_URL (`make bench`
exports it) and reused while the marker table `bench_dashboard_marker` names them.
Options: --seconds, --clients, --workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchdata import (
    make_members_with_points,
    pass_second_factor,
    production_environment,
    settle_statistics,
)

from cercalc import periods
from cercalc.periods import ROME

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
YEAR = 2025
MEMBERS = 1000
PRODUCERS = 60
MARKER = "bench_dashboard_marker"
FISCAL_CODE = "09999990017"
USERNAME = "bench-referente"


def _ensure_database(url: str) -> None:
    """Create the database DATABASE_URL names when the server does not have it yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    params = dj_database_url.parse(url)
    options = {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


def _hour_starts() -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in periods.year(YEAR).hour_starts_s()]


def _marker_community_id() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT community_id FROM {MARKER} LIMIT 1")  # noqa: S608 (constant)
        row = cursor.fetchone()
    return row[0] if row else None


def _create_roster():
    """Create the community, 1,000 members with one point each, 60 plants, the login."""
    from django.contrib.auth.models import User

    from cer.communities.models import Community, Configuration
    from cer.core.models import Municipality

    municipality = Municipality.objects.order_by("pk").first()
    community = Community.objects.create(
        name="CER Banco di prova",
        kind="CER",
        legal_form="THIRD_SECTOR",
        fiscal_code=FISCAL_CODE,
        seat_address="Piazza Grande 1",
        seat_municipality=municipality,
    )
    configuration = Configuration.objects.create(
        community=community,
        name="Cabina di prova",
        primary_substation="AC001E99999",
        market_zone="NORD",
        region="Veneto",
    )
    user = User.objects.create_user(USERNAME, password=secrets.token_urlsafe(16))
    _members, points = make_members_with_points(
        community=community,
        configuration=configuration,
        count=MEMBERS,
        producers=PRODUCERS,
        user=user,
        municipality=municipality,
        valid_from=dt.date(YEAR - 1, 9, 1),
        pod_of=lambda n: f"IT001E9{n:07d}",
        last_name_of=lambda n: f"Prova {n:04d}",
        plant_of=lambda n: (
            f"FV {n:02d}",
            Decimal(20 + n),
            dt.date(2024, 3, 1) + dt.timedelta(days=n),
        ),
        prosumer_kinds=True,
    )
    return community, [point.pk for point in points]


def _copy_readings(point_ids: list[int]) -> int:
    """Write one grid-operator reading per point and hour of the year with COPY."""
    from django.db import connection

    from cer.metering.models import HourlyReading

    hours = _hour_starts()
    stamps = [moment.strftime("%Y-%m-%d %H:%M:%S+00") for moment in hours]
    hour_of_day = np.array([moment.astimezone(ROME).hour for moment in hours])
    daylight = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None)
    rng = np.random.default_rng(2025)
    table = HourlyReading._meta.db_table
    columns = "connection_point_id, hour_start, injected_wh, withdrawn_wh, source, quality"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for n, point_id in enumerate(point_ids):
                if n < PRODUCERS:
                    injected = (daylight * rng.integers(8_000, 25_000, len(hours))).astype(int)
                    withdrawn = rng.integers(0, 300, len(hours))
                else:
                    injected = np.zeros(len(hours), dtype=int)
                    withdrawn = rng.integers(100, 900, len(hours))
                block = "".join(
                    f"{point_id}\t{stamp}\t{inj}\t{wdr}\tDSO\tOK\n"
                    for stamp, inj, wdr in zip(
                        stamps, injected.tolist(), withdrawn.tolist(), strict=True
                    )
                )
                copy.write(block.encode())
        cursor.execute(f"ANALYZE {table}")
    return len(point_ids) * len(hours)


def ensure_data() -> int:
    """Return the bench community's id, generating the data if the marker is missing."""
    from django.db import connection, transaction

    from cer.communities.models import Community

    community_id = _marker_community_id()
    if community_id is not None and Community.objects.filter(pk=community_id).exists():
        return community_id
    started = time.perf_counter()
    with transaction.atomic():
        community, point_ids = _create_roster()
        rows = _copy_readings(point_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {MARKER} "
                "(community_id bigint, readings bigint, created_at timestamptz)"
            )
            cursor.execute(f"DELETE FROM {MARKER}")  # noqa: S608 (constant)
            cursor.execute(
                f"INSERT INTO {MARKER} VALUES (%s, %s, now())",  # noqa: S608 (constant)
                [community.pk, rows],
            )
    # Outside the transaction (VACUUM cannot run in one): as a running database has them.
    settle_statistics("metering_hourlyreading")
    print(f"bench: dashboard_setup_s {time.perf_counter() - started:.1f} s ({rows} readings)")
    return community.pk


def session_cookie() -> str:
    """Open a session for the bench login, as the login view would (both factors)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.get(username=USERNAME)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    # A referente: the login view leaves a session that has passed the second factor.
    pass_second_factor(session, user)
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, (time.perf_counter() - started) * 1000


def _wait_until_serving(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start in time")


def load(port: int, path: str, cookie: str, *, clients: int, seconds: float) -> list[float]:
    """Run `clients` loops of GET for `seconds`; return the latencies [ms]."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        while time.monotonic() < stop_at:
            status, elapsed_ms = _get(port, path, cookie)
            if status != 200:
                failures.append(status)
            mine.append(elapsed_ms)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench_dashboard needs DATABASE_URL=postgres://… (make bench sets it)")

    _ensure_database(os.environ["DATABASE_URL"])
    environment = production_environment()
    os.environ.update(environment)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    community_id = ensure_data()
    cookie = session_cookie()
    path = f"/dashboard/communities/{community_id}/"

    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            "--log-level=warning",
            f"--chdir={ROOT}",
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        _wait_until_serving(port, server)
        from django.utils import timezone

        from cer.metering.versions import VERSION_SECONDS, bump_readings_version

        # Let every worker load the code and templates on another period first.
        load(port, f"{path}?period={YEAR}-06", cookie, clients=args.clients, seconds=3)
        bump_readings_version(community_ids=[community_id], now=timezone.now())
        time.sleep(VERSION_SECONDS + 1)  # until the workers have seen the new version
        status, uncached_ms = _get(port, path, cookie)
        if status != 200:
            raise SystemExit(f"the dashboard answered HTTP {status}")
        # Every worker reads the shared snapshot once, then serves from its own cache.
        load(port, path, cookie, clients=args.clients, seconds=args.warmup)
        started = time.monotonic()
        latencies = load(port, path, cookie, clients=args.clients, seconds=args.seconds)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    values = np.array(latencies)
    print(f"bench: dashboard_uncached_ms {uncached_ms:.0f} ms")
    print(f"bench: dashboard_p50_ms {np.percentile(values, 50):.1f} ms")
    print(f"bench: dashboard_requests_per_s {values.size / elapsed:.1f} req/s")
    print(f"bench: dashboard_p95_ms {np.percentile(values, 95):.1f} ms")


if __name__ == "__main__":
    main()
