"""Benchmark: a year of hourly readings of 10,000 points on PostgreSQL, as they are stored.

Builds (not timed) 10,000 connection points: a configuration of 1,000 members (20 with a
photovoltaic plant, a distribution policy, zonal prices) and 9,000 points of another
community. Their readings of 2025 are stored as the platform leaves them on 1 January 2026:
January to November packed (`PackedMonth`, made directly with NumPy in the packer's format,
cer/metering/packed.py), December still hourly rows (it has just ended and is not packed
yet: the open month), in the monthly partitions of the readings table. Then prints:

- db_bytes_per_point_year: table (every partition) + indexes + packed months, with
  pg_total_relation_size, divided by the points; target <= 150,000;
- settle_month_1000_members_in_10k_points_db_s: June 2025 of the 1,000-member configuration
  settled, distributed and its statements issued (compute_month + distribute_run), after an
  untimed May; target <= 1.5 s;
- dashboard_p95_ms_10k_points_db: the community dashboard of the 1,000 members for December
  (the month of rows), 20 requests through Django's test client after the cache was emptied,
  95th percentile (as bench_dashboard.py: one request on June first loads the code and the
  templates; the first timed request reads the database, the others its cached figures;
  the first is also printed); target <= 300 ms.

`--points` and `--members` make a smaller run (the bytes per point do not depend on them).
Runs in its own database next to DATABASE_URL's, dropped at the end.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_storage.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import time
import zlib
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchdata import (
    make_community,
    make_members_with_points,
    pass_second_factor,
    settle_statistics,
    throwaway_database,
    with_blind_indexes,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2025
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
USERNAME = "bench-storage"
PLANTS = 20
POWERS = [Decimal(p) for p in ("45", "150", "19.8", "200", "600")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=1_000)
    args = parser.parse_args()
    with throwaway_database("_bench_storage"):
        _run(args.points, args.members)


def _run(n_points: int, n_members: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Production settings serve hashed static names: the pages need the manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    community, configuration, point_ids, user = _make_roster(n_points, n_members)
    _make_readings(point_ids, plants=PLANTS)
    print(f"bench: storage_setup_s {time.perf_counter() - started:.1f} s ({n_points} points)")
    total = _stored_bytes()
    print(f"bench: db_bytes_per_point_year {total / n_points:.0f} B")
    print(f"bench: settle_month_1000_members_in_10k_points_db_s {_settle(configuration):.2f} s")
    print(f"bench: dashboard_p95_ms_10k_points_db {_dashboard_p95(community, user):.0f} ms")


# --- the people and points ------------------------------------------------------------------


def _make_roster(n_points: int, n_members: int):
    """The 1,000-member configuration, then the other points; return ids in that order."""
    from django.contrib.auth.models import User

    from cer.communities.models import Community, Configuration
    from cer.core.models import Municipality
    from cer.distribution.services import set_policy
    from cer.members.models import Member
    from cer.plants.models import ConnectionPoint

    community, configuration = make_community(status="ACTIVE")
    town = Municipality.objects.get(pk="027038")
    user = User.objects.create_user(USERNAME, password=secrets.token_urlsafe(16))
    _members, points = make_members_with_points(
        community=community,
        configuration=configuration,
        count=n_members,
        producers=PLANTS,
        user=user,
        municipality=town,
        valid_from=dt.date(2024, 1, 1),
        pod_of=lambda n: f"IT001E{80_000_000 + n:08d}",
        last_name_of=lambda n: f"{n:05d}",
        plant_of=lambda n: (f"FV {n}", POWERS[n % len(POWERS)], dt.date(2024, 3, 1)),
    )
    set_policy(
        community=community,
        valid_from=dt.date(2024, 1, 1),
        pots=[{"code": "running", "label": "Running costs", "percent": Decimal("8")}],
        components=[
            {"basis": "CONTRIBUTION", "percent": Decimal("70")},
            {"basis": "EQUAL", "percent": Decimal("30")},
        ],
        actor=None,
        now=NOW,
    )
    # The other points: another community, so that the table is large but the
    # configuration settled and shown stays at 1,000 points.
    other = Community.objects.create(
        name="CER Altri",
        kind="CER",
        legal_form="THIRD_SECTOR",
        fiscal_code="01234560157",
        seat_address="Via Roma 2",
        seat_municipality=town,
    )
    other_configuration = Configuration.objects.create(
        community=other,
        name="Cabina 2",
        primary_substation="AC001E00002",
        market_zone="NORD",
        region="Veneto",
        status="ACTIVE",
    )
    holder = Member.objects.bulk_create(
        with_blind_indexes(
            [
                Member(
                    kind="LEGAL",
                    category="SME",
                    company_name="Altri Srl",
                    fiscal_code="00743110157",
                    email="altri@example.org",
                    address="Via Roma 2",
                    municipality=town,
                )
            ]
        )
    )[0]
    others = ConnectionPoint.objects.bulk_create(
        (
            ConnectionPoint(
                pod=f"IT001E{90_000_000 + index:08d}",
                configuration=other_configuration,
                holder=holder,
                contracted_power_kw=Decimal("6"),
            )
            for index in range(n_points - n_members)
        ),
        batch_size=2000,
    )
    return community, configuration, [p.pk for p in points] + [p.pk for p in others], user


# --- the readings ---------------------------------------------------------------------------


def _series(rng, hours_s, *, plant_index: int | None):
    """Synthetic hourly energy [Wh]: withdrawal for everyone, injection for the plants."""
    withdrawn = rng.integers(100, 1500, size=hours_s.size)
    if plant_index is None:
        return np.zeros(hours_s.size, dtype=np.int64), withdrawn
    hour_of_day = (hours_s // 3600 + 1) % 24
    daylight = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None)
    peak = int(POWERS[plant_index % len(POWERS)] * 700)
    injected = (peak * daylight * rng.uniform(0.6, 1.0, hours_s.size)).astype(np.int64)
    return injected, withdrawn


def _make_readings(point_ids: list[int], *, plants: int) -> None:
    """January-November packed (as the packer writes them), December as rows, prices."""
    from django.db import connection

    from cer.metering import packed, partitions
    from cercalc import periods

    months = periods.year(YEAR).months()
    rng = np.random.default_rng(11)
    quality_ok = zlib.compress(bytes(744), 1)
    columns = (
        "connection_point_id, month_start, hour_count, source, present, not_measured, "
        "injected, withdrawn, quality, packed_at"
    )
    with connection.cursor() as cursor:
        for month in months[:-1]:
            partitions.ensure_month(cursor, month)
        partitions.ensure_ahead(NOW)
        with cursor.cursor.copy(f"COPY metering_packedmonth ({columns}) FROM STDIN") as copy:
            for month in months[:-1]:
                start, _end = month.utc_bounds()
                hours_s = month.hour_starts_s()
                count = hours_s.size
                present = np.packbits(np.ones(count, dtype=bool)).tobytes()
                flags = np.packbits(np.zeros(count, dtype=bool)).tobytes()
                quality = quality_ok if count == 744 else zlib.compress(bytes(count), 1)
                for index, point_id in enumerate(point_ids):
                    injected, withdrawn = _series(
                        rng, hours_s, plant_index=index if index < plants else None
                    )
                    copy.write_row(
                        (
                            point_id,
                            start,
                            count,
                            "DSO",
                            present,
                            flags,
                            packed._pack_values(injected),
                            packed._pack_values(withdrawn),
                            quality,
                            NOW,
                        )
                    )
        december = months[-1]
        hours_s = december.hour_starts_s()
        stamps = [
            dt.datetime.fromtimestamp(s, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")
            for s in hours_s.tolist()
        ]
        row_columns = "connection_point_id, hour_start, injected_wh, withdrawn_wh, source, quality"
        with cursor.cursor.copy(f"COPY metering_hourlyreading ({row_columns}) FROM STDIN") as copy:
            for index, point_id in enumerate(point_ids):
                injected, withdrawn = _series(
                    rng, hours_s, plant_index=index if index < plants else None
                )
                copy.write(
                    "".join(
                        f"{point_id}\t{stamp}\t{i}\t{w}\tDSO\tOK\n"
                        for stamp, i, w in zip(
                            stamps, injected.tolist(), withdrawn.tolist(), strict=True
                        )
                    )
                )
        year_hours = periods.year(YEAR).hour_starts_s()
        prices = rng.integers(4000, 22000, size=year_hours.size)
        with cursor.cursor.copy(
            "COPY incentives_zonalprice (market_zone, interval_start, interval_minutes, "
            "price_eur_per_mwh, source) FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    f"NORD\t{dt.datetime.fromtimestamp(s, tz=dt.UTC):%Y-%m-%d %H:%M:%S+00}"
                    f"\t60\t{p / 100:.2f}\tSYNTHETIC\n"
                    for s, p in zip(year_hours.tolist(), prices.tolist(), strict=True)
                )
            )
    # As the platform's database is some time after such writes: vacuumed and analysed.
    settle_statistics("metering_hourlyreading", "metering_packedmonth", "incentives_zonalprice")


def _stored_bytes() -> int:
    """Readings table (every partition, with indexes and TOAST) + packed months [bytes]."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(sum(pg_total_relation_size(relid)), 0) "
            "FROM pg_partition_tree('metering_hourlyreading')"
        )
        rows = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_total_relation_size('metering_packedmonth')")
        packed = int(cursor.fetchone()[0])
    print(f"bench: readings_rows_bytes {rows} B (December as rows)")
    print(f"bench: readings_packed_bytes {packed} B (January-November packed)")
    return rows + packed


# --- the timings ----------------------------------------------------------------------------


def _settle(configuration) -> float:
    from cer.distribution.services import distribute_run
    from cer.settlement.services import compute_month

    def settle(month_number: int) -> None:
        month = dt.date(YEAR, month_number, 1)
        run = compute_month(configuration=configuration, month=month, now=NOW).run
        distribute_run(run=run, actor=None, now=NOW)

    settle(5)  # warm-up, untimed
    started = time.perf_counter()
    settle(6)
    return time.perf_counter() - started


def _dashboard_p95(community, user) -> float:
    from django.core.cache import caches
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    pass_second_factor(session, user)
    session.save()
    path = reverse("dashboards:community", args=[community.pk])
    # Load the code and compile the templates first, on another month (as bench_dashboard).
    if client.get(f"{path}?period={YEAR}-06").status_code != 200:
        sys.exit("the dashboard did not answer")
    path += f"?period={YEAR}-12"
    for alias in caches:
        caches[alias].clear()
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"the dashboard answered {response.status_code}")
    print(f"bench: dashboard_first_uncached_ms_10k_points_db {timings[0]:.0f} ms")
    return float(np.percentile(timings, 95))


if __name__ == "__main__":
    main()
