"""Benchmark: import one year of quarter-hourly load curves into PostgreSQL.

Generates e-distribuzione day-row files (numbered columns 1..100, one Prelievo and one
Immissione row per POD and day, 100 PODs per file) for the 2025 calendar year, creates a
community with the points, then times the import: reading the files, parsing, binary
COPY into a staging table and the upsert into HourlyReading, aggregated to hours. A row
is one quarter-hour of one point (both quantities), so 1,000 points make 35,040,000 rows.

Runs in its own database, created next to the one named by DATABASE_URL and dropped at
the end. Prints `bench: NAME VALUE UNIT` lines.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_import.py [--points N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchdata import make_community, make_company_holder, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2025
POINTS_PER_FILE = 100
BENCH_SUFFIX = "_bench_import"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000, help="connection points (1,000)")
    args = parser.parse_args()
    with throwaway_database(BENCH_SUFFIX):
        _run(args.points)


def _run(point_count: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    pods = [f"IT001E{70_000_000 + n:08d}" for n in range(point_count)]
    community = _make_community(pods)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        paths = _write_files(Path(folder), pods)
        _time_import(community, paths, point_count)


def _make_community(pods: list[str]):
    from cer.plants.models import ConnectionPoint

    community, configuration = make_community()
    holder = make_company_holder()
    ConnectionPoint.objects.bulk_create(
        [
            ConnectionPoint(
                pod=pod,
                configuration=configuration,
                holder=holder,
                contracted_power_kw="6",
                has_injection=True,
            )
            for pod in pods
        ],
        batch_size=1000,
    )
    return community


def _write_files(folder: Path, pods: list[str]) -> list[Path]:
    """Write the curve files (not timed): 100 numbered columns, kWh with a decimal comma."""
    from cer.imports import timeaxis

    rng = np.random.default_rng(20251026)
    table = np.array([f"0,{n:03d}" for n in range(1000)] + [f"1,{n:03d}" for n in range(1000)])
    days = []
    day = dt.date(YEAR, 1, 1)
    while day.year == YEAR:
        days.append((day.strftime("%d/%m/%Y"), timeaxis.local_day(day).intervals(15)))
        day += dt.timedelta(days=1)
    header = "POD;Data;Tipo;" + ";".join(str(k) for k in range(1, 101)) + "\n"
    paths = []
    for first in range(0, len(pods), POINTS_PER_FILE):
        lines = [header]
        for pod in pods[first : first + POINTS_PER_FILE]:
            withdrawn = rng.integers(0, 600, size=(len(days), 100))
            injected = rng.integers(0, 2000, size=(len(days), 100))
            for (date_text, count), w_row, i_row in zip(days, withdrawn, injected, strict=True):
                pad = ";" * (100 - count)
                lines.append(f"{pod};{date_text};Prelievo;{';'.join(table[w_row[:count]])}{pad}\n")
                lines.append(
                    f"{pod};{date_text};Immissione;{';'.join(table[i_row[:count]])}{pad}\n"
                )
        path = folder / f"curve_{first // POINTS_PER_FILE:03d}.csv"
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def _time_import(community, paths: list[Path], point_count: int) -> None:
    from cer.imports import services
    from cer.metering.models import HourlyReading

    now = dt.datetime.now(dt.UTC)
    rows = point_count * sum(
        _intervals(dt.date(YEAR, 1, 1) + dt.timedelta(days=d)) for d in range(365)
    )
    started = time.perf_counter()
    hours = 0
    for path in paths:
        batch = services.import_curves(
            community=community, data=path.read_bytes(), file_name=path.name, now=now
        )
        if batch.rows_rejected or batch.intervals_rejected:
            sys.exit(f"{path.name}: unexpected rejections in a generated file")
        hours += batch.intervals_inserted
    elapsed = time.perf_counter() - started
    stored = HourlyReading.objects.count()
    if stored != hours or hours != point_count * 8760:
        sys.exit(f"expected {point_count * 8760} hourly rows, stored {stored}")
    sys.stdout.write(f"bench: import_curve_rows_per_s {rows / elapsed:.0f} rows/s\n")
    sys.stdout.write(f"bench: import_curve_seconds {elapsed:.1f} s\n")
    sys.stdout.write(f"bench: import_curve_hours_written {hours} rows\n")


def _intervals(day: dt.date) -> int:
    from cer.imports import timeaxis

    return timeaxis.local_day(day).intervals(15)


if __name__ == "__main__":
    main()
