"""Chart payloads for uPlot: UTC seconds on x, kWh as display floats on y, None for gaps."""

from __future__ import annotations

from typing import Any

import numpy as np

from cer.dashboards.services import Bucketed, CommunityPeriodData


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
        }
    return {
        "step": "day",
        "t": buckets.label_starts_s.tolist(),
        "series": [
            kwh(buckets.injected_wh),
            kwh(buckets.withdrawn_wh),
            kwh(buckets.shared_wh),
        ],
    }
