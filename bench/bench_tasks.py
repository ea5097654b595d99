"""Benchmark: settle 100 configurations of 100 points each through Celery, 1 then 2 workers.

Generates (not timed) one community with 100 configurations, each of 100 members with one
connection point (5 of them with a photovoltaic plant), one month (June 2025) of hourly
grid-operator readings written with the metering bulk writer (recording.write_hourly),
and the month's zonal prices. Then queues the 100 months as settlement jobs (the same
request_run the pages call, TASKS_ON_CELERY on) and times from the first request to the
last job's end:

- settle_100_configurations_month_s: with 2 worker processes (one task at a time each);
- settle_worker_scaling_ratio: the time with 1 worker divided by the time with 2, same
  jobs (the results are removed between the two), target >= 1.6 on a quiet machine.

Workers are started (and warmed up with one heartbeat task) before the clock starts.
Needs DATABASE_URL (PostgreSQL) and REDIS_URL: `make bench` starts both. Runs in its own
database, dropped at the end. Prints `bench: NAME VALUE UNIT` lines.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/bench_tasks.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchdata import make_community, throwaway_database, with_blind_indexes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONTH = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 7, 10, 8, 0, tzinfo=dt.UTC)
BENCH_SUFFIX = "_bench_tasks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configurations", type=int, default=100)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("this benchmark needs REDIS_URL (make bench starts a Redis).")
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ["CELERY_QUEUE"] = queue
    os.environ["TASKS_ON_CELERY"] = "true"
    with throwaway_database(BENCH_SUFFIX):
        _run(args.configurations, args.points, queue)


def _run(n_configurations: int, n_points: int, queue: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    configurations = _make_data(n_configurations, n_points)
    one_s = _settle_all(configurations, workers=1, queue=queue)
    _clear_results()
    two_s = _settle_all(configurations, workers=2, queue=queue)
    print(f"bench: settle_100_configurations_month_s {two_s:.2f} s")
    print(f"bench: settle_100_configurations_month_1_worker_s {one_s:.2f} s")
    print(f"bench: settle_worker_scaling_ratio {one_s / two_s:.2f}")


def _settle_all(configurations: list, *, workers: int, queue: str) -> float:
    """Start `workers` worker processes, queue every month, wait for the last; seconds."""
    from django.db import connections

    from cer.core.tasks import worker_heartbeat
    from cer.settlement.jobs import request_run
    from cer.settlement.models import JobStatus, SettlementJob

    processes = [_start_worker(queue, f"bench{n}") for n in range(workers)]
    try:
        # Warm-up: each worker has started and answered before the clock starts.
        for _ in range(workers * 2):
            worker_heartbeat.apply_async().get(timeout=300)
        connections.close_all()
        started = time.perf_counter()
        for configuration in configurations:
            request_run(configuration=configuration, month=MONTH, actor=None, now=NOW)
        active = (JobStatus.QUEUED, JobStatus.RUNNING)
        while SettlementJob.objects.filter(status__in=active).exists():
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        failed = list(
            SettlementJob.objects.filter(status=JobStatus.FAILED).values_list("error", flat=True)
        )
        if failed:
            sys.exit(f"{len(failed)} settlement job(s) failed, e.g.: {failed[0]}")
        return elapsed
    finally:
        # SIGTERM to the main process: a warm shutdown that lets its pool process end.
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _start_worker(queue: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--hostname",
            f"{name}@%h",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )


def _clear_results() -> None:
    """Remove every job and run (untimed), so that the second round settles anew."""
    from django.db import connection

    from cer.settlement.models import (
        RunMember,
        RunPlant,
        SettlementHour,
        SettlementJob,
        SettlementRun,
    )

    models = (SettlementJob, RunMember, RunPlant, SettlementHour, SettlementRun)
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def _make_data(n_configurations: int, n_points: int) -> list:
    from django.db import connection

    from cer.communities.models import Configuration
    from cer.core.models import Municipality
    from cer.incentives.models import ZonalPrice
    from cer.members.models import Member, Membership
    from cer.metering.batches import HourlyRows, WriteMode
    from cer.metering.models import HourlyReading
    from cer.metering.recording import write_hourly
    from cer.plants.models import ConnectionPoint, Plant
    from cercalc import periods

    community, first = make_community(status="ACTIVE")
    configurations = [first] + [
        Configuration.objects.create(
            community=community,
            name=f"Cabina {index}",
            primary_substation=f"AC002E{index:05d}",
            market_zone="NORD",
            region="Veneto",
            status="ACTIVE",
        )
        for index in range(1, n_configurations)
    ]
    town = Municipality.objects.get(pk="027038")
    total = n_configurations * n_points
    members = Member.objects.bulk_create(
        with_blind_indexes(
            Member(
                kind="NATURAL",
                category="HOUSEHOLD",
                first_name="Socio",
                last_name=f"{index:05d}",
                fiscal_code=f"BNCH{index:012d}",
                email=f"socio{index}@example.org",
                address="Via Roma 1",
                municipality=town,
            )
            for index in range(total)
        ),
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        (
            Membership(
                member=m,
                community=community,
                valid_from=dt.date(2024, 1, 1),
                iban="IT60X0542811101000000123456",
            )
            for m in members
        ),
        batch_size=2000,
    )
    points = ConnectionPoint.objects.bulk_create(
        (
            ConnectionPoint(
                pod=f"IT001E{80_000_000 + index:08d}",
                configuration=configurations[index // n_points],
                holder=member,
                contracted_power_kw=Decimal("6"),
                has_injection=index % n_points < 5,
            )
            for index, member in enumerate(members)
        ),
        batch_size=2000,
    )
    Plant.objects.bulk_create(
        (
            Plant(
                connection_point=point,
                owner=members[index],
                name=f"FV {index}",
                source="PV",
                power_kw=Decimal("45"),
                entry_into_service_date=dt.date(2024, 3, 1),
            )
            for index, point in enumerate(points)
            if index % n_points < 5
        ),
        batch_size=2000,
    )
    hours = periods.month_of(MONTH).hour_starts_s()
    hour_of_day = (hours // 3600 + 2) % 24
    daylight = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None)
    rng = np.random.default_rng(16)
    for start in range(0, total, n_points):
        group = points[start : start + n_points]
        ids = np.repeat(np.array([p.pk for p in group], dtype=np.int64), hours.size)
        injected = np.concatenate(
            [
                (30_000 * daylight * rng.uniform(0.6, 1.0, hours.size)).astype(np.int64)
                if p.has_injection
                else np.zeros(hours.size, dtype=np.int64)
                for p in group
            ]
        )
        withdrawn = rng.integers(100, 1500, size=ids.size).astype(np.int64)
        rows = HourlyRows(
            point_id=ids,
            hour_start_s=np.tile(hours.astype(np.int64), len(group)),
            injected_wh=injected,
            withdrawn_wh=withdrawn,
        )
        write_hourly(rows=rows, source="DSO", mode=WriteMode.REPLACE, now=NOW)
    prices = rng.integers(4000, 22000, size=hours.size)
    ZonalPrice.objects.bulk_create(
        ZonalPrice(
            market_zone="NORD",
            interval_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            interval_minutes=60,
            price_eur_per_mwh=Decimal(int(price)) / 100,
            source="SYNTHETIC",
        )
        for start, price in zip(hours.tolist(), prices.tolist(), strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {HourlyReading._meta.db_table}")
    return configurations


if __name__ == "__main__":
    main()
