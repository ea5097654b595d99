"""Benchmark: settle a configuration of 1,000 members and 20 plants from PostgreSQL.

Generates (not timed) 1,000 members with one connection point each, 20 of them with a
photovoltaic plant, a year (2025) of hourly grid-operator readings and hourly zonal prices,
all written with COPY, and a distribution policy. Then times, from the database to stored
results, distribution and members' statements:

- settle_month_1000_members_s: one month (June 2025: load, settle, store, distribute, issue
  statements, with compute_month), target <= 1 s;
- settle_year_1000_members_s: the twelve months of 2025 (settle_and_distribute_year: one
  read of the year's readings, twelve monthly runs stored, each distributed with its
  statements in a child process while the next month is computed; the median of three
  runs), target <= 5 s. The line says where the distribution ran and what compressed.

Both are timed twice: first from the hourly rows alone (`…_unpacked_s`), then with the
year's ended months packed (cer/metering/packed.py), as the hourly job leaves them; the
packing itself is timed as pack_year_1000_points_s. The targets apply to the second.

The month is timed after an untimed warm-up month (May), as a process that has settled
before; its results are then removed so that the year stores all twelve months anew.
The database is vacuumed and analysed (untimed) after the readings are written and after
they are packed, as autovacuum would have done long before in a live database.

Runs in its own database, created next to the one named by DATABASE_URL and dropped at the
end. Prints `bench: NAME VALUE UNIT` lines.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_settlement.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchdata import make_community, throwaway_database, with_blind_indexes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2025
BENCH_SUFFIX = "_bench_settlement"
NOW = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--plants", type=int, default=20)
    args = parser.parse_args()
    with throwaway_database(BENCH_SUFFIX):
        _run(args.members, args.plants)


def _run(n_members: int, n_plants: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    configuration = _make_data(n_members, n_plants)
    _settle_database()
    from cer.distribution.services import distribute_run
    from cer.distribution.year import settle_and_distribute_year
    from cer.settlement.services import compute_month

    def settle_month(month_number: int) -> None:
        month = dt.date(YEAR, month_number, 1)
        run = compute_month(configuration=configuration, month=month, now=NOW).run
        distribute_run(run=run, actor=None, now=NOW)

    def settle_year() -> float:
        started = time.perf_counter()
        settle_and_distribute_year(configuration=configuration, year=YEAR, now=NOW)
        return time.perf_counter() - started

    def settle_june() -> float:
        settle_month(5)
        started = time.perf_counter()
        settle_month(6)
        month_s = time.perf_counter() - started
        _clear_results()
        return month_s

    # First from the hourly rows alone, as right after the readings arrived...
    month_rows_s = settle_june()
    year_rows_s = settle_year()
    _clear_results()
    # ...then as a community settles in practice: its ended months packed by the hourly job.
    started = time.perf_counter()
    packed_rows = _pack_year(configuration)
    pack_s = time.perf_counter() - started
    _settle_database()
    month_s = settle_june()
    # The year three times, its results removed in between: two cores shared by this
    # process's two threads and the database vary by half a second from run to run.
    years_s = []
    for _ in range(YEAR_RUNS):
        years_s.append(settle_year())
        _clear_results()
    year_s = statistics.median(years_s)
    print(f"bench: settle_month_1000_members_s {month_s:.2f} s")
    runs = ", ".join(f"{seconds:.2f}" for seconds in years_s)
    print(f"bench: settle_year_1000_members_s {year_s:.2f} s (median of {runs}; {_how()})")
    print(f"bench: settle_month_1000_members_unpacked_s {month_rows_s:.2f} s")
    print(f"bench: settle_year_1000_members_unpacked_s {year_rows_s:.2f} s")
    print(f"bench: pack_year_1000_points_s {pack_s:.2f} s ({packed_rows} point-months)")


YEAR_RUNS = 3


def _how() -> str:
    """Where the year's distribution ran and what compressed, as the figure was measured."""
    from cer.core import deflate, follow

    beside = "in a child process" if follow.can_fork() else "on a second thread"
    packer = "ISA-L" if deflate.ACCELERATED else "zlib"
    return f"distributed {beside}, {packer} compression"


def _settle_database() -> None:
    """VACUUM ANALYZE and CHECKPOINT (untimed) after writing or packing a year at once.

    A live database receives a year's readings over a year and autovacuum keeps up; here
    they are written in a minute, and autovacuum then spends the next minute on them, on
    the core the settlement's distributing thread needs. The timings are of the settled
    database, not of that catch-up.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # The pages it (and the writing before it) dirtied go to disk now, not during the
        # timings. make bench connects as the superuser that CHECKPOINT needs.
        cursor.execute("CHECKPOINT")


def _pack_year(configuration) -> int:
    """Pack the year's months of every point of the configuration (untimed in the figures)."""
    from cer.metering.packed import pack_months
    from cer.plants.models import ConnectionPoint
    from cercalc import periods

    ids = list(
        ConnectionPoint.objects.filter(configuration=configuration).values_list("pk", flat=True)
    )
    return sum(pack_months(ids, month, NOW) for month in periods.year(YEAR).months())


def _clear_results() -> None:
    """Remove every run, distribution and statement (untimed), as before the first month."""
    from django.db import connection

    from cer.billing.models import Statement, StatementLine
    from cer.distribution.models import Distribution, MemberShare
    from cer.settlement.models import RunMember, RunPlant, SettlementHour, SettlementRun

    models = (StatementLine, Statement, MemberShare, Distribution)
    models += (RunMember, RunPlant, SettlementHour, SettlementRun)
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def _make_data(n_members: int, n_plants: int):
    from django.db import connection

    from cer.core.models import Municipality
    from cer.distribution.services import set_policy
    from cer.members.models import Member, Membership
    from cer.metering.models import HourlyReading
    from cer.plants.models import ConnectionPoint, Plant
    from cercalc import periods

    community, configuration = make_community(status="ACTIVE")
    town = Municipality.objects.get(pk="027038")
    categories = ["HOUSEHOLD"] * 9 + ["SME"]
    members = Member.objects.bulk_create(
        with_blind_indexes(
            Member(
                kind="NATURAL",
                category=categories[index % 10],
                first_name="Socio",
                last_name=f"{index:04d}",
                fiscal_code=f"BNCH{index:012d}",
                vat_number="" if index % 10 != 9 else f"{index:011d}",
                email=f"socio{index}@example.org",
                address="Via Roma 1",
                municipality=town,
            )
            for index in range(n_members)
        )
    )
    Membership.objects.bulk_create(
        # The IBAN a community pays is the membership's.
        Membership(
            member=m,
            community=community,
            valid_from=dt.date(2024, 1, 1),
            iban="IT60X0542811101000000123456",
        )
        for m in members
    )
    points = ConnectionPoint.objects.bulk_create(
        ConnectionPoint(
            pod=f"IT001E{80_000_000 + index:08d}",
            configuration=configuration,
            holder=member,
            contracted_power_kw=Decimal("6"),
            has_injection=index < n_plants,
        )
        for index, member in enumerate(members)
    )
    powers = [Decimal(p) for p in ("45", "150", "19.8", "200", "600")]
    Plant.objects.bulk_create(
        Plant(
            connection_point=points[index],
            owner=members[index],
            name=f"FV {index}",
            source="PV",
            power_kw=powers[index % len(powers)],
            entry_into_service_date=dt.date(2024, 3, 1) + dt.timedelta(days=index),
            capital_grant_pct=Decimal("30") if index % 4 == 3 else Decimal(0),
        )
        for index in range(n_plants)
    )
    set_policy(
        community=community,
        valid_from=dt.date(2024, 1, 1),
        pots=[
            {"code": "running", "label": "Running costs", "percent": Decimal("8")},
            {"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True},
        ],
        components=[
            {"basis": "CONTRIBUTION", "percent": Decimal("70")},
            {"basis": "EQUAL", "percent": Decimal("30")},
        ],
        actor=None,
        now=NOW,
    )

    hours = periods.year(YEAR).hour_starts_s()
    stamps = [
        dt.datetime.fromtimestamp(s, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")
        for s in hours.tolist()
    ]
    rng = np.random.default_rng(11)
    hour_of_day = (hours // 3600 + 1) % 24
    daylight = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None)
    table = HourlyReading._meta.db_table
    columns = "connection_point_id, hour_start, injected_wh, withdrawn_wh, source, quality"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for index, point in enumerate(points):
                if index < n_plants:
                    peak = int(powers[index % len(powers)] * 700)
                    injected = (peak * daylight * rng.uniform(0.6, 1.0, hours.size)).astype(
                        np.int64
                    )
                else:
                    injected = np.zeros(hours.size, dtype=np.int64)
                withdrawn = rng.integers(100, 1500, size=hours.size)
                copy.write(
                    "".join(
                        f"{point.pk}\t{stamp}\t{i}\t{w}\tDSO\tOK\n"
                        for stamp, i, w in zip(
                            stamps, injected.tolist(), withdrawn.tolist(), strict=True
                        )
                    )
                )
        prices = rng.integers(4000, 22000, size=hours.size)
        with cursor.cursor.copy(
            "COPY incentives_zonalprice (market_zone, interval_start, interval_minutes, "
            "price_eur_per_mwh, source) FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    f"NORD\t{stamp}\t60\t{p / 100:.2f}\tSYNTHETIC\n"
                    for stamp, p in zip(stamps, prices.tolist(), strict=True)
                )
            )
        cursor.execute(f"ANALYZE {table}")
    return configuration


if __name__ == "__main__":
    main()
