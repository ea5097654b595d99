"""Benchmarks of the settlement engine; prints lines `bench: NAME VALUE UNIT`.

- engine_year_10k_points_s: settle calendar year 2024 (8,784 hours) for 9,900 consumers and
  100 plants from in-memory int64 arrays, best of several runs (target <= 1.5 s on one core).
- engine_vs_numpy_floor_ratio: that time over the bare NumPy floor on the same arrays (sum of
  each side per hour, then their minimum), best of several runs (target <= 3).
- settle_cli_year_300_points_s: `cer settle` end to end on a generated year-long case of 300
  points with its hours in CSV, best of a few runs (target <= 5 s).
"""

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from cercalc import buckets, periods
from cercalc.money import format_kwh, format_scaled
from cercalc.params import CONSUMER_CATEGORIES
from cercalc.settle import Configuration, Consumer, Plant, settle

YEAR = 2024
CER_SCRIPT = Path(sys.executable).with_name("cer")
CATEGORY_WEIGHTS = (0.85, 0.08, 0.03, 0.01, 0.02, 0.01)


def year_hours(year: int) -> np.ndarray:
    """Return the UTC starts [s] of every hour of a Europe/Rome calendar year."""
    return periods.year(year).hour_starts_s()


def make_community(n_plants: int, n_consumers: int, hours: np.ndarray, seed: int = 7) -> dict:
    """Build plants, consumers and hourly series [Wh] with a solar shape and random loads."""
    rng = np.random.default_rng(seed)
    hour_of_day = (hours // 3600 + 1) % 24
    daylight = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None)
    powers_kw = rng.choice([6, 20, 45, 150, 200, 350, 600, 900, 1200], size=n_plants)
    plants = []
    for index, power_kw in enumerate(powers_kw):
        grant = index % 10 == 3
        plants.append(
            Plant(
                plant_id=f"P{index:04d}",
                source="PV" if index % 7 else "WIND",
                power_kw=Decimal(int(power_kw)),
                entry_into_service_date=date(2024, 2, 1) + timedelta(days=int(index % 50)),
                region=("Toscana", "Lombardia", "Sicilia")[index % 3],
                existing=index % 25 == 0,
                capital_grant_pct=Decimal("30") if grant else Decimal(0),
                superbonus_kw=Decimal("2") if index % 17 == 5 else Decimal(0),
            )
        )
    peak_wh = (powers_kw * 1000 * 0.8).astype(np.int64)
    noise = rng.integers(70, 101, size=(n_plants, hours.size))
    injected = (peak_wh[:, None] * daylight[None, :]).astype(np.int64) * noise // 100
    categories = rng.choice(len(CONSUMER_CATEGORIES), size=n_consumers, p=CATEGORY_WEIGHTS)
    consumers = [
        Consumer(f"C{index:05d}", CONSUMER_CATEGORIES[category])
        for index, category in enumerate(categories)
    ]
    withdrawn = rng.integers(0, 1500, size=(n_consumers, hours.size), dtype=np.int64)
    prices = rng.integers(2000, 25000, size=hours.size, dtype=np.int64) * 100
    return {
        "configuration": Configuration("CER", "Toscana"),
        "plants": plants,
        "consumers": consumers,
        "hour_start_utc_s": hours,
        "injected_wh": injected,
        "withdrawn_wh": withdrawn,
        "zonal_price_units": prices,
    }


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Return the shortest wall time [s] of `runs` calls."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def numpy_floor(community: dict) -> np.ndarray:
    """The least any engine must do: both hourly sums and their minimum."""
    return np.minimum(community["injected_wh"].sum(axis=0), community["withdrawn_wh"].sum(axis=0))


def write_csv_case(directory: Path, community: dict) -> Path:
    """Write a community as a JSON case with its hours in CSV; return the JSON path."""
    plants, consumers = community["plants"], community["consumers"]
    hours = community["hour_start_utc_s"]
    header = ["start", "zonal_price_eur_per_mwh"]
    header += [f"injected_kwh.{p.plant_id}" for p in plants]
    header += [f"withdrawn_kwh.{c.consumer_id}" for c in consumers]
    lines = [",".join(header)]
    energy = np.vstack([community["injected_wh"], community["withdrawn_wh"]]).T.tolist()
    for start, price, row in zip(
        buckets.format_utc_many(hours),
        community["zonal_price_units"].tolist(),
        energy,
        strict=True,
    ):
        cells = [start, format_scaled(price, 4)] + [format_kwh(value) for value in row]
        lines.append(",".join(cells))
    (directory / "hours.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    case = {
        "configuration": {"type": "CER", "region": "Toscana"},
        "plants": [
            {
                "id": p.plant_id,
                "source": p.source,
                "power_kw": str(p.power_kw),
                "entry_into_service": p.entry_into_service_date.isoformat(),
                "region": p.region,
                "existing": p.existing,
                "capital_grant_pct": str(p.capital_grant_pct),
                "superbonus_kw": str(p.superbonus_kw),
            }
            for p in plants
        ],
        "consumers": [{"id": c.consumer_id, "category": c.category} for c in consumers],
        "hours_csv": "hours.csv",
    }
    path = directory / "case.json"
    path.write_text(json.dumps(case, indent=2), encoding="utf-8")
    return path


def time_engine() -> tuple[float, float]:
    """Return the best settlement time and the best NumPy floor time [s] on the same arrays."""
    community = make_community(100, 9_900, year_hours(YEAR))
    settle(**community)  # warm-up: imports, zoneinfo caches
    engine_s = best_of(5, lambda: settle(**community))
    floor_s = best_of(5, lambda: numpy_floor(community))
    return engine_s, floor_s


def time_cli() -> float:
    """Return the best end-to-end time [s] of `cer settle` on a 300-point CSV case."""
    small = make_community(30, 270, year_hours(YEAR), seed=11)
    with tempfile.TemporaryDirectory() as directory:
        case_path = write_csv_case(Path(directory), small)
        output = Path(directory) / "out.json"
        command = [str(CER_SCRIPT), "settle", str(case_path), "-o", str(output)]
        return best_of(3, lambda: subprocess.run(command, check=True))


def main() -> None:
    """Run the three benchmarks and print their figures."""
    engine_s, floor_s = time_engine()
    sys.stdout.write(f"bench: engine_year_10k_points_s {engine_s:.3f} s\n")
    sys.stdout.write(f"bench: engine_vs_numpy_floor_ratio {engine_s / floor_s:.2f} x\n")
    sys.stdout.write(f"bench: settle_cli_year_300_points_s {time_cli():.3f} s\n")


if __name__ == "__main__":
    main()
