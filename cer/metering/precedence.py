"""Which reading wins when a connection point has several for the same hour: the rule.

The community's order of the four sources is parsed and validated by
cer.core.reading_sources (the communities app validates its field with it); this module
adds what applying it needs. Reading the order of a point or a community, and choosing the
winning readings, is cer.metering.series: dashboards and settlement both read through it,
so both always show and settle the same winning reading.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from cer.core.reading_sources import (
    DEFAULT_ORDER,
    DEFAULT_ORDER_TEXT,
    SourceOrder,
    parse_order,
    validate_order_text,
)

__all__ = [
    "DEFAULT_ORDER",
    "DEFAULT_ORDER_TEXT",
    "SourceOrder",
    "parse_order",
    "rank_of",
    "stored_order",
    "validate_order_text",
]


def rank_of(order: SourceOrder) -> dict[str, int]:
    """Return each source code's rank: 0 wins over 1, and so on."""
    return {code: rank for rank, code in enumerate(order)}


def stored_order(text: str | None) -> SourceOrder:
    """Return the order stored on a community, or the default if it is empty or invalid."""
    # Rows are validated on save; a value changed behind the model's back falls back to
    # the default rather than breaking every dashboard of the community.
    try:
        return parse_order(text) if text else DEFAULT_ORDER
    except ValidationError:
        return DEFAULT_ORDER
