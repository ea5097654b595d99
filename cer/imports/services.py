"""Import workflows: read a file, write hourly readings or zonal prices, keep the report.

Curves become hourly readings with source DSO, written by cer.metering.recording in bulk:
the rows are staged in a temporary table (PostgreSQL: binary COPY; SQLite: batched
inserts), then two set statements apply them: an UPDATE of the existing rows whose values
differ (counted as superseded) and an INSERT ... ON CONFLICT DO NOTHING of the new ones.
Re-importing a file therefore changes nothing, and a corrected file replaces exactly the
hours it corrects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from cer.communities.models import Community, Configuration
from cer.imports import curves, prices
from cer.imports.curves import ColumnMapping, FileRefused, HourlyCurves, Rejection
from cer.imports.models import ImportBatch, ImportKind, ImportStatus, RejectedRow
from cer.incentives.models import PriceSource, ZonalPrice
from cer.metering import recording
from cer.metering.models import ReadingSource
from cer.plants.models import ConnectionPoint

logger = logging.getLogger(__name__)

# Every rejection is counted; only the first ones are stored, so that a file of the
# wrong year does not fill the database with millions of identical reasons.
MAX_STORED_REJECTIONS = 10_000

_CURVE_KINDS = {
    "edistribuzione": ImportKind.CURVES_EDISTRIBUZIONE,
    "sii": ImportKind.CURVES_SII,
    "mapped": ImportKind.CURVES_MAPPED,
}


class ImportRefused(Exception):
    """The whole file was refused; the batch records why."""

    def __init__(self, batch: ImportBatch) -> None:
        super().__init__(batch.message)
        self.batch = batch


@dataclass(frozen=True)
class WriteCounts:
    inserted: int
    superseded: int
    unchanged: int


# ---------------------------------------------------------------------------- curves


def import_curves(
    *,
    community: Community,
    data: bytes,
    file_name: str,
    now: dt.datetime,
    kind: str = "auto",
    mapping: ColumnMapping | None = None,
    configuration: Configuration | None = None,
    uploaded_by: User | None = None,
) -> ImportBatch:
    """Import a load-curve file into hourly readings (source DSO) of one community.

    Only PODs of `community` (of `configuration`, if given) are written; lines of other
    PODs are rejected. `kind` is "auto", "edistribuzione", "sii" or "mapped". Returns the
    finished ImportBatch; raises ImportRefused (after saving the batch) when the file
    cannot be read as a whole.
    """
    points = ConnectionPoint.objects.filter(configuration__community=community)
    if configuration is not None:
        points = points.filter(configuration=configuration)
    pod_ids = dict(points.values_list("pod", "pk"))
    batch = _start_batch(
        kind=_curve_kind(data, kind, mapping),
        data=data,
        file_name=file_name,
        now=now,
        community=community,
        configuration=configuration,
        uploaded_by=uploaded_by,
    )
    try:
        parsed = curves.parse_curve_file(data, pod_ids=pod_ids, mapping=mapping, kind=kind)
    except FileRefused as refusal:
        raise _refuse(batch, str(refusal), now) from None
    hourly = curves.aggregate_hours(parsed)
    with transaction.atomic():
        # Stale cached dashboard figures are dropped by the writer (readings version).
        counts = _write_curves(hourly, now)
        rejections = list(parsed.rejections) + list(hourly.rejections)
        _store_rejections(batch, rejections)
        batch.layout = parsed.layout[:120]
        batch.rows_rejected = parsed.rejected_lines
        batch.rows_accepted = parsed.data_lines - parsed.ignored_lines - parsed.rejected_lines
        batch.rows_ignored = parsed.ignored_lines
        batch.intervals_inserted = counts.inserted
        batch.intervals_superseded = counts.superseded
        batch.intervals_unchanged = counts.unchanged
        batch.intervals_rejected = len(hourly.rejections)
        batch.status = ImportStatus.DONE
        batch.finished_at = now
        batch.save()
    logger.info(
        "imports.curves.done batch=%s file=%s rows=%s rejected=%s hours inserted=%s "
        "superseded=%s unchanged=%s",
        batch.pk,
        file_name,
        batch.rows_accepted,
        batch.rows_rejected,
        counts.inserted,
        counts.superseded,
        counts.unchanged,
    )
    return batch


def _curve_kind(data: bytes, kind: str, mapping: ColumnMapping | None) -> str:
    if mapping is not None:
        return ImportKind.CURVES_MAPPED
    if kind in _CURVE_KINDS:
        return _CURVE_KINDS[kind]
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return ImportKind.CURVES_SII if head.startswith(b"<") else ImportKind.CURVES_EDISTRIBUZIONE


def _write_curves(hourly: HourlyCurves, now: dt.datetime) -> recording.WriteCounts:
    """Upsert the hourly DSO readings; a quantity absent from the file keeps its stored value."""
    rows = recording.HourlyRows(
        point_id=hourly.point_id,
        hour_start_s=hourly.hour_start_s,
        injected_wh=hourly.injected_wh,
        withdrawn_wh=hourly.withdrawn_wh,
        has_injected=hourly.has_injected,
        has_withdrawn=hourly.has_withdrawn,
    )
    return recording.write_hourly(
        rows=rows,
        source=ReadingSource.GRID_OPERATOR,
        mode=recording.WriteMode.REPLACE,
        now=now,
    )


# ---------------------------------------------------------------------------- prices


def import_prices(
    *,
    data: bytes,
    file_name: str,
    now: dt.datetime,
    kind: str = "auto",
    uploaded_by: User | None = None,
) -> ImportBatch:
    """Import day-ahead zonal prices at their native resolution.

    Existing prices of the same interval are replaced when different (superseded);
    synthetic demo prices of the same zone overlapping an imported interval are deleted
    (synthetic_replaced). Raises ImportRefused when the file cannot be read as a whole.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    batch_kind = ImportKind.PRICES_GME
    if kind == "csv" or (kind == "auto" and not head.startswith(b"<") and b"zone" in head.lower()):
        batch_kind = ImportKind.PRICES_CSV
    batch = _start_batch(
        kind=batch_kind,
        data=data,
        file_name=file_name,
        now=now,
        community=None,
        configuration=None,
        uploaded_by=uploaded_by,
    )
    try:
        parsed = prices.parse_price_file(data, kind=kind)
    except FileRefused as refusal:
        raise _refuse(batch, str(refusal), now) from None
    with transaction.atomic():
        counts, synthetic = write_prices(parsed.intervals, source=parsed.source)
        _store_rejections(batch, list(parsed.rejections))
        batch.kind = ImportKind.PRICES_CSV if parsed.source == prices.SOURCE_CSV else batch.kind
        batch.layout = parsed.layout
        batch.rows_rejected = parsed.rejected_lines
        batch.rows_accepted = parsed.data_lines - parsed.rejected_lines
        batch.intervals_inserted = counts.inserted
        batch.intervals_superseded = counts.superseded
        batch.intervals_unchanged = counts.unchanged
        batch.synthetic_replaced = synthetic
        batch.status = ImportStatus.DONE
        batch.finished_at = now
        batch.save()
    logger.info(
        "imports.prices.done batch=%s file=%s intervals inserted=%s superseded=%s "
        "unchanged=%s synthetic_replaced=%s rejected=%s",
        batch.pk,
        file_name,
        counts.inserted,
        counts.superseded,
        counts.unchanged,
        synthetic,
        batch.rows_rejected,
    )
    return batch


def write_prices(
    intervals: tuple[prices.PriceInterval, ...], *, source: str
) -> tuple[WriteCounts, int]:
    """Upsert zonal prices and delete the synthetic ones they make obsolete.

    Returns the write counts and the number of synthetic rows replaced (overwritten in
    place or deleted because a real price now covers their interval).
    """
    if not intervals:
        return WriteCounts(0, 0, 0), 0
    inserted = superseded = unchanged = synthetic = 0
    by_zone: dict[str, list[prices.PriceInterval]] = defaultdict(list)
    for interval in intervals:
        by_zone[interval.zone].append(interval)
    with transaction.atomic():
        for zone, items in by_zone.items():
            first = _utc(min(i.start_s for i in items))
            last = _utc(max(i.start_s for i in items))
            existing = {
                (row.interval_start, row.interval_minutes): row
                for row in ZonalPrice.objects.filter(
                    market_zone=zone, interval_start__gte=first, interval_start__lte=last
                )
            }
            new_rows, changed = [], []
            for item in items:
                start = _utc(item.start_s)
                row = existing.get((start, item.minutes))
                if row is None:
                    new_rows.append(
                        ZonalPrice(
                            market_zone=zone,
                            interval_start=start,
                            interval_minutes=item.minutes,
                            price_eur_per_mwh=item.price_eur_per_mwh,
                            source=source,
                        )
                    )
                    continue
                if row.source == PriceSource.SYNTHETIC:
                    synthetic += 1
                elif row.price_eur_per_mwh != item.price_eur_per_mwh:
                    superseded += 1
                elif row.source == source:
                    unchanged += 1
                    continue
                else:
                    unchanged += 1
                row.price_eur_per_mwh = item.price_eur_per_mwh
                row.source = source
                changed.append(row)
            ZonalPrice.objects.bulk_create(new_rows, batch_size=2000)
            ZonalPrice.objects.bulk_update(
                changed, ["price_eur_per_mwh", "source"], batch_size=2000
            )
            inserted += len(new_rows)
            synthetic += _delete_covered_synthetic(zone, items)
    return WriteCounts(inserted, superseded, unchanged), synthetic


def _delete_covered_synthetic(zone: str, items: list[prices.PriceInterval]) -> int:
    """Delete synthetic prices of `zone` that overlap the imported intervals."""
    spans: list[list[int]] = []
    for item in sorted(items, key=lambda i: i.start_s):
        end = item.start_s + 60 * item.minutes
        if spans and item.start_s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([item.start_s, end])
    synthetic = ZonalPrice.objects.filter(market_zone=zone, source=PriceSource.SYNTHETIC)
    lengths = set(synthetic.values_list("interval_minutes", flat=True).distinct())
    overlap = Q()
    for minutes in lengths:
        for start, end in spans:
            # [s, s + m) overlaps [start, end) when s < end and s + m > start.
            overlap |= Q(
                interval_minutes=minutes,
                interval_start__lt=_utc(end),
                interval_start__gt=_utc(start - 60 * minutes),
            )
    if not overlap:
        return 0
    deleted, _ = synthetic.filter(overlap).delete()
    return deleted


# ---------------------------------------------------------------------------- shared


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _start_batch(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    now: dt.datetime,
    community: Community | None,
    configuration: Configuration | None,
    uploaded_by: User | None,
) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=kind,
        file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        community=community,
        configuration=configuration,
        uploaded_by=uploaded_by if uploaded_by is not None and uploaded_by.pk else None,
        started_at=now,
    )


def _refuse(batch: ImportBatch, message: str, now: dt.datetime) -> ImportRefused:
    batch.status = ImportStatus.REFUSED
    batch.message = message
    batch.finished_at = now
    batch.save(update_fields=["status", "message", "finished_at"])
    logger.warning("imports.refused batch=%s file=%s: %s", batch.pk, batch.file_name, message)
    return ImportRefused(batch)


def _store_rejections(batch: ImportBatch, rejections: list[Rejection]) -> None:
    RejectedRow.objects.bulk_create(
        [
            RejectedRow(
                batch=batch,
                line_number=rejection.line,
                field=rejection.field[:80],
                reason=rejection.reason[:300],
                raw_line=rejection.raw,
            )
            for rejection in sorted(rejections, key=lambda r: r.line)[:MAX_STORED_REJECTIONS]
        ],
        batch_size=1000,
    )
