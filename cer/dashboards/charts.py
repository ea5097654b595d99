"""Chart payloads for uPlot: UTC seconds on x, kWh as display floats on y, None for gaps.

Each payload also carries its reader's `locale`: the month names and the number separators
of the active language, written by cer/core/formatting.py, so the charts' axes and
tooltips read "1 giu" and "1.234,5" in Italian rather than uPlot's "6/1" and "1,234.5".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np

from cer.core import formatting
from cer.dashboards.services import Bucketed, CommunityPeriodData


def locale(*, lang: str | None = None) -> dict[str, Any]:
    """Return the month names and number separators the chart scripts format with."""
    sample = formatting.number(Decimal("1000.5"), 1, lang=lang)  # "1.000,5" or "1,000.5"
    return {
        "months": [formatting.month_name(dt.date(2000, m, 1), lang=lang) for m in range(1, 13)],
        "thousands": sample[1],
        "decimal": sample[-2],
    }


def kwh(values_wh: np.ndarray) -> list[float]:
    """Convert integer Wh to kWh floats with three decimals, for display only."""
    return (values_wh / 1000).round(3).tolist()


def kwh_with_gaps(values_wh: np.ndarray, present: np.ndarray) -> list[float | None]:
    """As `kwh`, with None where no reading exists, so the chart shows the gap."""
    return [value if ok else None for value, ok in zip(kwh(values_wh), present, strict=True)]


def community_chart(data: CommunityPeriodData, buckets: Bucketed | None) -> dict[str, Any]:
    """Hourly lines for a month; daily sums for a year."""
    if buckets is None:
        return {
            "step": "hour",
            "t": data.hour_starts_s.tolist(),
            "series": [kwh(data.injected_wh), kwh(data.withdrawn_wh), kwh(data.shared_wh)],
            "locale": locale(),
        }
    return {
        "step": "day",
        "t": buckets.label_starts_s.tolist(),
        "series": [
            kwh(buckets.injected_wh),
            kwh(buckets.withdrawn_wh),
            kwh(buckets.shared_wh),
        ],
        "locale": locale(),
    }
