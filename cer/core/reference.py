"""Loading the reference data shipped in cer/core/data (ISTAT municipalities, CC BY 3.0 IT)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

MUNICIPALITIES_CSV = Path(__file__).resolve().parent / "data" / "comuni_istat.csv"


def load_municipalities(model: Any) -> int:
    """Insert every municipality of the ISTAT list that `model`'s table lacks; return the total.

    `model` is the Municipality model or its historical version inside a migration.
    """
    with MUNICIPALITIES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [
            model(
                istat_code=row["istat_code"],
                name=row["name"],
                region=row["region"],
                province=row["province"],
                province_abbr=row["province_abbr"],
                cadastral_code=row["cadastral_code"],
                population=int(row["population_2011"]),
            )
            for row in csv.DictReader(handle)
        ]
    model.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)
