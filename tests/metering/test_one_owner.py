"""Hourly readings have one owner: only cer/metering reads and writes HourlyReading.

Every other app goes through cer.metering.series (the winning reading per point and hour)
and cer.metering.recording.write_hourly (upsert, audit, readings version), so no second
reader can disagree on which reading counts and no writer can forget the version.
"""

from __future__ import annotations

import re
from pathlib import Path

from cer.core.reading_sources import DEFAULT_ORDER
from cer.metering.models import ReadingSource

ROOT = Path(__file__).resolve().parents[2]
OWNER = Path("cer/metering")
MODEL = re.compile(r"\bHourlyReading\b")


def _sources() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for path in (ROOT / "cer").rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_only_metering_names_the_hourly_reading_model():
    offenders = [
        str(path)
        for path in _sources()
        if not path.is_relative_to(OWNER)
        and MODEL.search((ROOT / path).read_text(encoding="utf-8"))
    ]

    assert offenders == []


def test_the_default_source_order_uses_the_reading_source_codes():
    assert set(DEFAULT_ORDER) == set(ReadingSource.values)
    assert DEFAULT_ORDER == (
        ReadingSource.GRID_OPERATOR,
        ReadingSource.DEVICE,
        ReadingSource.MANUAL,
        ReadingSource.ESTIMATED,
    )
