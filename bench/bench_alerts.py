"""Benchmark: evaluate every alert rule over 1,000 connection points; prints `bench:` lines.

Generates (not timed) one community of 1,000 members with one connection point and one
device each, 100 of the points with a photovoltaic plant, the hourly readings of the
evaluated day and of the four weeks before (29 Europe/Rome days, written with COPY), one
counter sample per device, and a few anomalies: 5 silent devices, 3 with a quarantined
counter value, 5 points with hours missing, 5 with a day of high consumption, 2 plants
producing far too little, a plant near 1 MW and a member leaving with a plant. Then times:

- alert_evaluation_1000_points_s: one full `cer.alerts.services.evaluate(now)` (every
  rule, alerts opened and their managers told), target <= 2 s, in a process that has
  loaded the URL map and pvlib as the scheduler's has (not timed).

Runs in its own database, created next to the one named by DATABASE_URL and dropped at the
end (`make bench` starts PostgreSQL and sets it).

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_alerts.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchdata import make_community, throwaway_database, with_blind_indexes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_SUFFIX = "_bench_alerts"
# A Tuesday morning; the evaluated day is Monday 9 June 2025, compared with 4 Mondays.
NOW = dt.datetime(2025, 6, 10, 7, 0, tzinfo=dt.UTC)
DAYS = 29
PLANTS = 100
# No password matches it: the benchmark's devices never log in to the broker.
UNUSABLE_HASH = "!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args()
    with throwaway_database(BENCH_SUFFIX):
        _run(args.points)


def _run(n_points: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _make_data(n_points)
    from cer.alerts.services import evaluate

    _warm_up()
    started = time.perf_counter()
    outcome = evaluate(NOW)
    seconds = time.perf_counter() - started
    print(f"alerts: {outcome}", file=sys.stderr)
    print(f"bench: alert_evaluation_1000_points_s {seconds:.2f} s")


def _warm_up() -> None:
    """Load what a running scheduler process has loaded already (untimed).

    The URL map (the alerts' links are reversed through it) and pvlib (rule 4) are
    imported once per process; `run_periodic` evaluates every 15 minutes in the same one.
    """
    from django.db import connection
    from django.urls import reverse

    for module in ("pvlib.irradiance", "pvlib.location"):
        importlib.import_module(module)
    reverse("alerts:index")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _make_data(n_points: int) -> None:
    from django.contrib.auth.models import User

    from cer.core.models import Municipality
    from cer.members.models import Member, Membership
    from cer.metering.models import CounterSample, Device
    from cer.plants.models import ConnectionPoint, Plant

    community, configuration = make_community(status="ACTIVE")
    town = Municipality.objects.get(pk="027038")
    members = Member.objects.bulk_create(
        with_blind_indexes(
            Member(
                kind="NATURAL",
                category="HOUSEHOLD",
                first_name="Socio",
                last_name=f"{index:04d}",
                fiscal_code=f"BNCH{index:012d}",
                email=f"socio{index}@example.org",
                address="Via Roma 1",
                municipality=town,
            )
            for index in range(n_points)
        )
    )
    referente = User.objects.create_user("bench-referente", "ref@example.org", "x")
    members[0].user = referente
    members[0].save(update_fields=["user"])
    Membership.objects.bulk_create(
        Membership(
            member=member,
            community=community,
            role="REFERENTE" if index == 0 else "MEMBER",
            valid_from=dt.date(2024, 1, 1),
            # One producer leaves at the end of the year.
            valid_to=dt.date(2025, 12, 31) if index == 1 else None,
            iban="IT60X0542811101000000123456",
        )
        for index, member in enumerate(members)
    )
    points = ConnectionPoint.objects.bulk_create(
        ConnectionPoint(
            pod=f"IT001E{70_000_000 + index:08d}",
            configuration=configuration,
            holder=member,
            contracted_power_kw=Decimal("6"),
            has_injection=index < PLANTS,
        )
        for index, member in enumerate(members)
    )
    configuration.gse_request_date = dt.date(2024, 6, 1)
    configuration.save(update_fields=["gse_request_date"])
    Plant.objects.bulk_create(
        Plant(
            connection_point=point,
            owner=point.holder,
            name=f"FV {index:03d}",
            source="PV",
            power_kw=Decimal("800") if index == 2 else Decimal("20"),
            planned_extension_kw=Decimal("150") if index == 2 else None,
            entry_into_service_date=dt.date(2024, 3, 1),
        )
        for index, point in enumerate(points[:PLANTS])
    )
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    devices = Device.objects.bulk_create(
        Device(
            connection_point=point,
            name=f"meter-{index}",
            kind="OWN_JSON",
            mqtt_username=f"bench-meter-{index}",
            secret_hash=UNUSABLE_HASH,
            created_at=created,
        )
        for index, point in enumerate(points)
    )
    recent = NOW - dt.timedelta(minutes=10)
    samples = []
    for index, device in enumerate(devices):
        # The first five devices went quiet two days ago; three hold a quarantined value.
        heard = NOW - dt.timedelta(days=2) if index < 5 else recent
        samples.append(_sample(CounterSample, device, heard, 1_000_000, "OK"))
        if 10 <= index < 13:
            samples.append(
                _sample(CounterSample, device, heard + dt.timedelta(minutes=5), 10, "QUA")
            )
    CounterSample.objects.bulk_create(samples)
    _copy_readings([point.pk for point in points])


def _sample(model, device, at, value, state):
    return model(
        device=device, channel="WDR", measured_at=at, value_wh=value, received_at=at, state=state
    )


def _copy_readings(point_ids: list[int]) -> None:
    """Write 29 days of device readings per point with COPY, with a few anomalies."""
    from django.db import connection

    from cer.metering.models import HourlyReading
    from cercalc import periods
    from cercalc.periods import ROME

    last_day = (NOW.astimezone(ROME) - dt.timedelta(days=1)).date()
    start, _ = periods.day(last_day - dt.timedelta(days=DAYS - 1)).utc_bounds()
    _, end = periods.day(last_day).utc_bounds()
    hours = int((end - start).total_seconds() // 3600)
    moments = [start + dt.timedelta(hours=h) for h in range(hours)]
    stamps = [moment.strftime("%Y-%m-%d %H:%M:%S+00") for moment in moments]
    local_hour = np.array([moment.astimezone(ROME).hour for moment in moments])
    daylight = np.clip(np.sin((local_hour - 6) / 12 * np.pi), 0, None)
    last_day_hours = np.arange(hours) >= hours - 24
    rng = np.random.default_rng(2025)
    table = HourlyReading._meta.db_table
    columns = "connection_point_id, hour_start, injected_wh, withdrawn_wh, source, quality"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for n, point_id in enumerate(point_ids):
                withdrawn = rng.integers(200, 600, hours)
                injected = np.zeros(hours, dtype=int)
                keep = np.ones(hours, dtype=bool)
                if n < PLANTS:
                    # 20 kW under a clear June sky: about 16 kWh an hour at noon.
                    injected = (daylight * rng.integers(14_000, 16_000, hours)).astype(int)
                    if n in (3, 4):
                        injected[last_day_hours] //= 10  # far below the others yesterday
                if 200 <= n < 205:
                    keep[hours - 30 : hours - 27] = False  # three hours missing
                if 300 <= n < 305:
                    withdrawn[last_day_hours] *= 4  # a day of four times the usual use
                block = "".join(
                    f"{point_id}\t{stamp}\t{inj}\t{wdr}\tDEV\tOK\n"
                    for stamp, inj, wdr, kept in zip(
                        stamps, injected.tolist(), withdrawn.tolist(), keep.tolist(), strict=True
                    )
                    if kept
                )
                copy.write(block.encode())
        cursor.execute(f"ANALYZE {table}")


if __name__ == "__main__":
    main()
