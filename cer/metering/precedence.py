"""Which reading wins when a connection point has several for the same hour.

Each community chooses the order of the four sources; the default puts the grid
operator first, because its measurements are the ones GSE settles on, then the
community's own devices, then manual entries, then estimates. The order is stored as
codes separated by commas ("DSO,DEV,MAN,EST") in `Community.reading_source_order`.

Dashboards and settlement read the order through this module, so both always show and
settle the same winning reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cer.metering.models import ReadingSource

SourceOrder = tuple[str, ...]

DEFAULT_ORDER: SourceOrder = (
    ReadingSource.GRID_OPERATOR.value,
    ReadingSource.DEVICE.value,
    ReadingSource.MANUAL.value,
    ReadingSource.ESTIMATED.value,
)
DEFAULT_ORDER_TEXT = ",".join(DEFAULT_ORDER)


def parse_order(text: str) -> SourceOrder:
    """Return the order stored as text; raises ValidationError naming the problem."""
    codes = tuple(code.strip().upper() for code in text.split(",") if code.strip())
    known = set(DEFAULT_ORDER)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError(
            _("Unknown reading source %(codes)s: use %(known)s."),
            params={"codes": ", ".join(unknown), "known": ", ".join(DEFAULT_ORDER)},
            code="unknown_source",
        )
    if len(set(codes)) != len(codes) or len(codes) != len(DEFAULT_ORDER):
        raise ValidationError(
            _("List each of the four reading sources exactly once."), code="not_a_permutation"
        )
    return codes


def validate_order_text(text: str) -> None:
    """Model field validator for `Community.reading_source_order`."""
    parse_order(text)


def rank_of(order: SourceOrder) -> dict[str, int]:
    """Return each source code's rank: 0 wins over 1, and so on."""
    return {code: rank for rank, code in enumerate(order)}


def orders_by_point(point_ids: Iterable[int]) -> dict[int, SourceOrder]:
    """Return the source order of each point's community (one query)."""
    from cer.plants.models import ConnectionPoint  # plants imports metering models

    rows = ConnectionPoint.objects.filter(pk__in=list(point_ids)).values_list(
        "pk", "configuration__community__reading_source_order"
    )
    return {point_id: _stored(text) for point_id, text in rows}


def order_of_points(point_ids: Sequence[int]) -> SourceOrder:
    """Return the source order of the community of these points (all of one community)."""
    from cer.communities.models import Community

    text = (
        Community.objects.filter(configurations__connection_points__pk__in=list(point_ids)[:1])
        .values_list("reading_source_order", flat=True)
        .first()
    )
    return _stored(text)


def order_of_community(community_id: int) -> SourceOrder:
    from cer.communities.models import Community

    text = (
        Community.objects.filter(pk=community_id)
        .values_list("reading_source_order", flat=True)
        .first()
    )
    return _stored(text)


def _stored(text: str | None) -> SourceOrder:
    # Rows are validated on save; a value changed behind the model's back falls back to
    # the default rather than breaking every dashboard of the community.
    try:
        return parse_order(text) if text else DEFAULT_ORDER
    except ValidationError:
        return DEFAULT_ORDER
