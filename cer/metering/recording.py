"""Recording hourly readings: the one writer of HourlyReading, and device ingestion.

`write_hourly` is the only way readings are written: device messages (MQTT and HTTP), the
API, file imports, gap estimates and the demo loader all go through it. It writes in bulk
(cer.metering.bulk_writes), records an audit entry per point when asked, and bumps the
communities' readings version (cer.metering.versions) so the dashboards recompute.

Device readings are recorded exactly once: intervals and counter samples are stored with
idempotency keys, and only what is new is added to the hourly rows. Replaying a message,
or a whole stream in any order, leaves the totals as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.metering import bulk_writes, counters, gaps, ingest, intervals, packed, partitions
from cer.metering.batches import (
    AcceptedMessage,
    AuditNote,
    HourlyRows,
    IncomingMessage,
    IngestOutcome,
    ScreenedBatch,
    WriteCounts,
    WriteMode,
)
from cer.metering.batches import rejected_row as _rejection
from cer.metering.models import (
    Device,
    DeviceStatus,
    IngestChannel,
    IngestedMessage,
    IntervalEnergy,
    ReadingQuality,
    ReadingSource,
    RejectedMessage,
)
from cer.metering.versions import bump_readings_version
from cer.plants.models import ConnectionPoint, Plant

logger = logging.getLogger(__name__)

# How far back a redelivered MQTT message is looked for among the stored rejections: the
# broker redelivers after the worker restarts, which takes seconds, not days.
REDELIVERY_WINDOW = dt.timedelta(days=7)
_IDS_PER_QUERY = 500  # point ids per IN list (SQLite bounds the parameters of a query)


# --- the one writer ----------------------------------------------------------------------


def write_hourly(
    *,
    rows: HourlyRows,
    source: str,
    mode: WriteMode,
    now: dt.datetime,
    audit: AuditNote | None = None,
) -> WriteCounts:
    """Write hourly readings of one source (a ReadingSource code) in bulk, in one transaction.

    With `audit`, one entry is recorded per point of the rows. When readings changed, the
    readings version of their communities is bumped: within the transaction, or after the
    commit for ADD (device batches, many per minute: a failed bump must not lose the
    readings, and cached figures expire on their own within minutes).
    """
    if len(rows) == 0:
        return WriteCounts(0, 0, 0)
    changes = (rows.injected_wh != 0) | (rows.withdrawn_wh != 0)
    candidates = rows.point_id[changes] if mode is WriteMode.ADD else rows.point_id
    # Read before writing: the rows written stay locked until the commit (on SQLite, the
    # whole table), so nothing slow runs between the write and the end of the transaction.
    community_ids = _community_ids(np.unique(candidates).tolist())
    with transaction.atomic():
        # Packed months this write touches become rows again first (cer/metering/packed.py),
        # so an addition or a correction applies to the readings as they were.
        packed.unpack_touched(rows.point_id, rows.hour_start_s, now)
        if mode is WriteMode.ADD:
            bulk_writes.add_to_hourly(rows, source=source)
            changed = int(changes.sum())
            counts = WriteCounts(0, changed, len(rows) - changed)
        else:
            superseded, inserted = bulk_writes.upsert_hourly(
                rows, source=source, replace=mode is WriteMode.REPLACE
            )
            changed = inserted + superseded
            counts = WriteCounts(inserted, superseded, len(rows) - changed)
            # An import of many rows: fresh statistics of its months as soon as it commits.
            partitions.analyze_after_commit(
                int(rows.hour_start_s.min()), int(rows.hour_start_s.max()), rows=inserted
            )
        if audit is not None:
            _audit(rows, audit, now)
        if changed and community_ids:
            bump = partial(bump_readings_version, community_ids=community_ids, now=now)
            if mode is WriteMode.ADD:
                # After the commit, so that no dashboard caches the old sums under the new
                # version.
                transaction.on_commit(bump, robust=True)
            else:
                bump()
    return counts


def _community_ids(point_ids: list[int]) -> set[int]:
    point, configuration = ConnectionPoint._meta, Configuration._meta
    rows = bulk_writes.select_with_rows(
        "q",
        {"point_id": "bigint"},
        [(point_id,) for point_id in point_ids],
        f"SELECT DISTINCT c.community_id FROM q JOIN {point.db_table} p "  # noqa: S608 - model names
        f"ON p.id = q.point_id JOIN {configuration.db_table} c ON c.id = p.configuration_id",
    )
    return {community_id for (community_id,) in rows}


def _audit(rows: HourlyRows, note: AuditNote, now: dt.datetime) -> None:
    """Record one entry per point, in the order the points first appear in the rows."""
    hours: dict[int, int] = {}
    for point_id in rows.point_id.tolist():
        hours[point_id] = hours.get(point_id, 0) + 1
    points = ConnectionPoint.objects.select_related("configuration__community").in_bulk(list(hours))
    for point_id, count in hours.items():
        point = points[point_id]
        record(
            actor=note.actor,
            code=note.code,
            now=now,
            target=point,
            community=point.configuration.community,
            changes={**note.details, "hours": count},
        )


def write_point_readings(
    *,
    point: ConnectionPoint,
    source: str,
    readings: Sequence[Mapping[str, Any]],
    actor: Any,
    now: dt.datetime,
) -> int:
    """Create or replace hourly readings of one source at one point; return the hours.

    Each of `readings` holds an aware `hour_start` (each hour once), `injected_wh`,
    `withdrawn_wh` [Wh] and a `quality` code. Recorded as `metering.readings.written`.
    """
    hours = sorted(item["hour_start"] for item in readings)
    rows = HourlyRows(
        point_id=np.full(len(readings), point.pk, dtype=np.int64),
        hour_start_s=np.array(
            [int(item["hour_start"].timestamp()) for item in readings], dtype=np.int64
        ),
        injected_wh=np.array([item["injected_wh"] for item in readings], dtype=np.int64),
        withdrawn_wh=np.array([item["withdrawn_wh"] for item in readings], dtype=np.int64),
        quality=np.array([str(item["quality"]) for item in readings], dtype=str),
    )
    details = {"source": source, "first": hours[0].isoformat(), "last": hours[-1].isoformat()}
    write_hourly(
        rows=rows,
        source=source,
        mode=WriteMode.REPLACE,
        now=now,
        audit=AuditNote(code="metering.readings.written", actor=actor, details=details),
    )
    return len(readings)


# --- device ingestion --------------------------------------------------------------------


@dataclass(frozen=True)
class _DeviceInfo:
    """What recording needs of a device, read in one query per batch (no model instances)."""

    pk: int
    name: str
    kind: str
    status: str
    meter_channel: int
    counter_rollover_wh: int | None
    point_id: int
    configuration_id: int
    pod: str
    limits: ingest.PowerLimits
    created_at: dt.datetime


def time_bounds(*, max_age: bool = True) -> ingest.TimeBounds:
    """Return the bounds on readings' instants from the settings.

    METERING_MAX_SAMPLE_AGE_DAYS [days] back from the arrival (`max_age=False` lifts
    it), METERING_MAX_HOURS_PER_MESSAGE [h] reached over by one message.
    """
    days = getattr(settings, "METERING_MAX_SAMPLE_AGE_DAYS", ingest.DEFAULT_MAX_SAMPLE_AGE_DAYS)
    hours = getattr(
        settings, "METERING_MAX_HOURS_PER_MESSAGE", ingest.DEFAULT_MAX_HOURS_PER_MESSAGE
    )
    return ingest.TimeBounds(max_age=dt.timedelta(days=days) if max_age else None, max_hours=hours)


def power_limits(points: list[ConnectionPoint]) -> dict[int, ingest.PowerLimits]:
    """Return each point's largest injection (its plants' power) and withdrawal [W]."""
    plant_kw = dict(
        Plant.objects.filter(connection_point__in=points)
        .values("connection_point")
        .annotate(total=Sum("power_kw"))
        .values_list("connection_point", "total")
    )
    return {
        point.pk: _limits(point.contracted_power_kw, plant_kw.get(point.pk)) for point in points
    }


def ingest_messages(*, messages: Sequence[IncomingMessage]) -> IngestOutcome:
    """Record a batch of MQTT messages exactly once, in one transaction.

    Readings of known active devices go to the hourly table (source DEVICE); any
    message that cannot be accepted is stored with its reason. Replaying a message,
    or a whole stream in any order, leaves the totals as they are.
    """
    return record_screened(screen_messages(messages=messages))


def screen_messages(*, messages: Sequence[IncomingMessage]) -> ScreenedBatch:
    """Check a batch of MQTT messages without writing: the first half of ingest_messages.

    Reads the batch's devices (one query, outside any transaction, as ingest_messages
    always did), parses every payload and sorts the messages into accepted, rejected and
    ignored. The ingestion worker screens the next batch while the previous one is being
    written; record_screened does the rest.
    """
    batch = ScreenedBatch(messages=messages)
    addresses: list[ingest.TopicAddress | ingest.Rejection] = []
    for message in messages:
        try:
            addresses.append(ingest.parse_topic(message.topic))
        except ingest.Rejection as rejection:
            addresses.append(rejection)
    devices = _devices_for([a for a in addresses if isinstance(a, ingest.TopicAddress)])
    known_configurations = set(
        Configuration.objects.filter(
            pk__in={a.configuration_id for a in addresses if isinstance(a, ingest.TopicAddress)}
        ).values_list("pk", flat=True)
    )
    bounds = time_bounds()
    for message, address in zip(messages, addresses, strict=True):
        if isinstance(address, ingest.Rejection):
            batch.reject(message, address, None, None)
            continue
        configuration_id = (
            address.configuration_id if address.configuration_id in known_configurations else None
        )
        device = devices.get((address.configuration_id, address.pod, address.device_name))
        if device is None:
            reason = ingest.Rejection(
                "topic",
                f"no device {address.device_name!r} at POD {address.pod} in configuration "
                f"{address.configuration_id}",
            )
            batch.reject(message, reason, configuration_id, None)
            continue
        if device.status != DeviceStatus.ACTIVE:
            reason = ingest.Rejection("topic", f"device {device.name!r} is {device.status.lower()}")
            batch.reject(message, reason, configuration_id, device.pk)
            continue
        point_limits = device.limits
        try:
            parsed = ingest.parse_payload(
                kind=device.kind,
                suffix=address.suffix,
                payload=message.payload,
                received_at=message.received_at,
                meter_channel=device.meter_channel,
                registered_at=device.created_at,
                bounds=bounds,
            )
            ingest.check_plausible(parsed, limits=point_limits)
        except ingest.Rejection as rejection:
            batch.reject(message, rejection, configuration_id, device.pk)
            continue
        if parsed.ignored:
            batch.ignored += 1
            logger.debug("ignored %s: %s", message.topic, parsed.ignored)
            continue
        digest = ""
        if parsed.stamped_on_arrival:
            digest = hashlib.sha256(message.topic.encode() + b"\n" + message.payload).hexdigest()
        batch.accepted.append(
            AcceptedMessage(
                device.pk,
                device.point_id,
                device.counter_rollover_wh,
                parsed,
                digest,
                message.received_at,
                point_limits,
            )
        )
        batch.origins.append((message, configuration_id))
    return batch


def record_screened(screened: ScreenedBatch) -> IngestOutcome:
    """Record a screened batch in one transaction: the second half of ingest_messages.

    Locks the baselines, refuses overlapping intervals, stores the rejections (a
    redelivered one once) and books the readings. Use a batch once: a failed attempt
    screens its messages again (the rejections it built may carry ids of the rollback).
    """
    outcome = IngestOutcome(messages=len(screened.messages), ignored=screened.ignored)
    accepted = screened.accepted
    rejected = screened.rejected
    with transaction.atomic():
        lock_baselines(accepted)
        plan = intervals.screen(accepted)
        for index, overlap in plan.rejections.items():
            message, configuration_id = screened.origins[index]
            screened.reject(message, overlap, configuration_id, accepted[index].device_id)
        if plan.rejections:
            accepted = [item for i, item in enumerate(accepted) if i not in plan.rejections]
        if screened.redelivered:
            stored_before = _rejected_before(screened.redelivered)
            rejected = [item for item in rejected if id(item) not in stored_before]
        if rejected:
            RejectedMessage.objects.bulk_create(rejected)
        if screened.messages:
            now = max(message.received_at for message in screened.messages)
            _record(accepted, outcome, now=now, plan=plan)
    outcome.rejected = len(rejected)
    outcome.rejections = rejected
    for stored in rejected:
        logger.warning("rejected %s: %s %s", stored.topic, stored.field, stored.reason)
    return outcome


class ReadingsRejected(Exception):
    """Readings sent over HTTP were refused; `rejection` names the field."""

    def __init__(self, rejection: ingest.Rejection) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


def ingest_http_readings(
    *,
    point: ConnectionPoint,
    device: Device | None,
    path: str,
    body: bytes,
    received_at: dt.datetime,
) -> IngestOutcome:
    """Record readings in the platform's JSON format posted for one connection point.

    Same validation and idempotency as MQTT. A refused body is stored as a rejected
    message and ReadingsRejected is raised.
    """
    limits = power_limits([point])[point.pk]
    try:
        document = ingest.decode_json(body)
        # No age bound: a referente or a gateway may upload history on purpose; a
        # device's readings still may not precede its registration.
        parsed = ingest.parse_own_readings(
            document,
            received_at=received_at,
            registered_at=device.created_at if device else None,
            bounds=time_bounds(max_age=False),
        )
        ingest.check_plausible(parsed, limits=limits)
        if parsed.counters and device is None:
            # A counter's baseline belongs to one meter: counters need the device that sent them.
            raise ingest.Rejection("at", "counter readings must be sent by a device, not a user")
    except ingest.Rejection as rejection:
        _store_http_rejection(point, device, path, body, received_at, rejection)
        raise ReadingsRejected(rejection) from rejection
    outcome = IngestOutcome(messages=1)
    digest = hashlib.sha256(path.encode() + b"\n" + body).hexdigest()
    with transaction.atomic():
        device_id = device.pk if device else None
        rollover_wh = device.counter_rollover_wh if device else None
        accepted = AcceptedMessage(
            device_id, point.pk, rollover_wh, parsed, digest, received_at, limits
        )
        lock_baselines([accepted])
        plan = intervals.screen([accepted])
        if not plan.rejections:
            _record([accepted], outcome, now=received_at, plan=plan)
    if plan.rejections:
        # Stored after the readings' transaction, which recorded nothing of the body.
        overlap = plan.rejections[0]
        _store_http_rejection(point, device, path, body, received_at, overlap)
        raise ReadingsRejected(overlap)
    return outcome


def lock_baselines(accepted: Sequence[AcceptedMessage]) -> None:
    """Lock what the accepted messages' readings are judged against, before reading any of it.

    Workers sharing the stream (MQTT shared subscriptions) may get one device's messages at
    once: the points whose intervals are screened for overlaps, then the devices whose
    counter chains are merged, each set in id order so that workers lock in the same order
    (docs/metering.md, Several workers). The second worker waits for the first's commit,
    then reads its intervals and counter values. No key lock (FOR NO KEY UPDATE): rows
    that refer to a locked point or device can still be inserted meanwhile.
    """
    point_ids = {item.point_id for item in accepted if item.parsed.intervals}
    device_ids = {
        item.device_id for item in accepted if item.parsed.counters and item.device_id is not None
    }
    if point_ids:
        list(
            ConnectionPoint.objects.select_for_update(no_key=True)
            .filter(pk__among=sorted(point_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if device_ids:
        counters.lock_devices(device_ids)


def _store_http_rejection(
    point: ConnectionPoint,
    device: Device | None,
    path: str,
    body: bytes,
    received_at: dt.datetime,
    rejection: ingest.Rejection,
) -> None:
    message = IncomingMessage(topic=path, payload=body, received_at=received_at)
    stored = _rejection(message, rejection, point.configuration_id, device.pk if device else None)
    stored.channel = IngestChannel.HTTP
    stored.save()


def _rejected_before(redelivered: list[RejectedMessage]) -> set[int]:
    """Return the ids (Python's) of redelivered rejections already stored once.

    Rejections have no idempotency key of their own: the same bad bytes may be sent
    again on purpose. A copy flagged as redelivered by the broker is the same message,
    though, and storing it twice would count one message as two.
    """
    seen = set()
    for stored in redelivered:
        same_place = RejectedMessage.objects.filter(channel=IngestChannel.MQTT)
        if stored.configuration_id is None:
            same_place = same_place.filter(configuration__isnull=True)
        else:
            same_place = same_place.filter(configuration_id=stored.configuration_id)
        if same_place.filter(
            topic=stored.topic,
            payload=stored.payload,
            received_at__gte=stored.received_at - REDELIVERY_WINDOW,
        ).exists():
            seen.add(id(stored))
    return seen


def _devices_for(addresses: list[ingest.TopicAddress]) -> dict[tuple[int, str, str], _DeviceInfo]:
    """Read the batch's devices, not deleted, by the PODs of their topics: one query."""
    pods = sorted({address.pod for address in addresses})
    device, point, plant = Device._meta.db_table, ConnectionPoint._meta.db_table, Plant._meta
    plant_kw = (
        f"(SELECT sum(pl.power_kw) FROM {plant.db_table} pl "  # noqa: S608 - model names
        "WHERE pl.connection_point_id = p.id)"
    )
    rows = bulk_writes.select_with_rows(
        "q",
        {"pod": "varchar"},
        [(pod,) for pod in pods],
        "SELECT d.id, d.name, d.kind, d.status, d.meter_channel, d.counter_rollover_wh, "  # noqa: S608
        f"p.id, p.configuration_id, p.pod, p.contracted_power_kw, {plant_kw}, d.created_at "
        f"FROM q JOIN {point} p ON p.pod = q.pod JOIN {device} d ON d.connection_point_id = p.id "
        f"WHERE d.status <> '{DeviceStatus.DELETED.value}'",
    )
    devices: dict[tuple[int, str, str], _DeviceInfo] = {}
    for (
        pk,
        name,
        kind,
        status,
        channel,
        rollover,
        point_id,
        configuration_id,
        pod,
        kw,
        plant_kw_sum,
        created_at,
    ) in rows:
        info = _DeviceInfo(
            pk=pk,
            name=name,
            kind=kind,
            status=status,
            meter_channel=channel,
            counter_rollover_wh=rollover,
            point_id=point_id,
            configuration_id=configuration_id,
            pod=pod,
            limits=_limits(Decimal(str(kw)), _decimal(plant_kw_sum)),
            created_at=bulk_writes.from_db_time(created_at),
        )
        devices[(configuration_id, pod, name)] = info
    return devices


def _decimal(value: Any) -> Decimal | None:
    # SQLite hands a decimal column back as int or float: read it through its text.
    return None if value is None else Decimal(str(value))


def _limits(contracted_kw: Decimal, plant_kw: Decimal | None) -> ingest.PowerLimits:
    # Injection is bounded by the plants' power; a point without plants by its contract.
    contracted_w = int(contracted_kw * 1000)
    injection_w = int(plant_kw * 1000) if plant_kw else contracted_w
    return ingest.PowerLimits(injection_w=injection_w, withdrawal_w=contracted_w)


def _record(
    accepted: list[AcceptedMessage],
    outcome: IngestOutcome,
    *,
    now: dt.datetime,
    plan: intervals.IntervalPlan,
) -> None:
    """Write the readings of accepted messages; only readings seen for the first time count.

    Hours that receive energy spread across a gap are written as INTERPOLATED
    (cer.metering.gaps); the others keep their quality.
    """
    fresh = _first_time_stamped_on_arrival(accepted)
    hourly: counters.Hourly = defaultdict(lambda: [0, 0])
    # Read before the counters are merged: the gaps are those of the chain as it was.
    interpolated = gaps.counter_gap_hours(fresh)
    _record_intervals(plan, hourly, outcome, interpolated)
    counters.record_counters(fresh, hourly, outcome)
    book_device_hours(hourly, now=now, interpolated=interpolated)


def book_device_hours(
    hourly: counters.Hourly, *, now: dt.datetime, interpolated: set[gaps.Key] | None = None
) -> None:
    """Add device energy [Wh] per (point, UTC hour), possibly negative, to the hourly rows.

    The hours in `interpolated` received energy spread across a gap and are written as
    INTERPOLATED; the others keep their quality.
    """
    if not hourly:
        return
    keys = list(hourly)
    energies = np.array(list(hourly.values()), dtype=np.int64).reshape(-1, 2)
    quality = None
    if interpolated:
        marked, valid = ReadingQuality.INTERPOLATED.value, ReadingQuality.VALID.value
        quality = np.array([marked if key in interpolated else valid for key in keys], dtype=str)
    rows = HourlyRows(
        point_id=np.array([point_id for point_id, _ in keys], dtype=np.int64),
        hour_start_s=np.array([int(hour.timestamp()) for _, hour in keys], dtype=np.int64),
        injected_wh=energies[:, 0],
        withdrawn_wh=energies[:, 1],
        quality=quality,
    )
    write_hourly(rows=rows, source=ReadingSource.DEVICE, mode=WriteMode.ADD, now=now)


def _first_time_stamped_on_arrival(accepted: list[AcceptedMessage]) -> list[AcceptedMessage]:
    """Drop messages stamped on arrival whose exact bytes were already recorded."""
    stamped: dict[tuple[int, str], AcceptedMessage] = {}
    for item in accepted:
        if item.parsed.stamped_on_arrival and item.device_id is not None:
            stamped.setdefault((item.device_id, item.digest), item)
    if not stamped:
        return accepted
    table = IngestedMessage._meta.db_table
    db_time = bulk_writes.time_adapter()
    rows = [
        (device_id, digest, db_time(item.received_at))
        for (device_id, digest), item in stamped.items()
    ]
    inserted = {
        (device_id, digest)
        for device_id, digest in bulk_writes.insert_returning(
            table,
            {"device_id": "bigint", "digest": "varchar", "received_at": "timestamptz"},
            rows,
            conflict=["device_id", "digest"],
            returning=["device_id", "digest"],
        )
    }
    kept = []
    for item in accepted:
        if item.parsed.stamped_on_arrival and item.device_id is not None:
            key = (item.device_id, item.digest)
            if key not in inserted or stamped.get(key) is not item:
                continue
        kept.append(item)
    return kept


def _record_intervals(
    plan: intervals.IntervalPlan,
    hourly: counters.Hourly,
    outcome: IngestOutcome,
    interpolated: set[gaps.Key],
) -> None:
    """Insert the batch's new intervals, apply its corrections, book both in `hourly`.

    `plan` comes from intervals.screen, which refused overlaps and unasked corrections. The
    insert still skips a (point, start) already stored, should another worker have stored
    it since. A correction takes the old energy back from its hours and books the new.
    """
    outcome.duplicate_readings += plan.duplicates
    wanted = plan.new
    inserted = []
    if wanted:
        db_time = bulk_writes.time_adapter()
        rows = [
            (
                point_id,
                item.device_id,
                db_time(reading.start_at),
                db_time(reading.end_at),
                reading.injected_wh,
                reading.withdrawn_wh,
                db_time(item.received_at),
            )
            for (point_id, _), (item, reading) in wanted.items()
        ]
        inserted = bulk_writes.insert_returning(
            IntervalEnergy._meta.db_table,
            {
                "connection_point_id": "bigint",
                "device_id": "bigint",
                "start_at": "timestamptz",
                "end_at": "timestamptz",
                "injected_wh": "bigint",
                "withdrawn_wh": "bigint",
                "received_at": "timestamptz",
            },
            rows,
            conflict=["connection_point_id", "start_at"],
            returning=["connection_point_id", "start_at"],
        )
    new_keys = {(point_id, bulk_writes.from_db_time(start_at)) for point_id, start_at in inserted}
    outcome.duplicate_readings += len(wanted) - len(new_keys)
    outcome.new_readings += len(new_keys)
    for key in new_keys:
        _, reading = wanted[key]
        _book_interval(hourly, key[0], reading, interpolated)
    for correction in plan.corrections:
        reading = correction.reading
        IntervalEnergy.objects.filter(
            connection_point_id=correction.point_id, start_at=reading.start_at
        ).update(injected_wh=reading.injected_wh, withdrawn_wh=reading.withdrawn_wh)
        start, end = reading.start_at, reading.end_at
        counters.spread(
            hourly, correction.point_id, start, end, correction.old_injected_wh, 0, sign=-1
        )
        counters.spread(
            hourly, correction.point_id, start, end, correction.old_withdrawn_wh, 1, sign=-1
        )
        _book_interval(hourly, correction.point_id, reading, interpolated)
        outcome.new_readings += 1


def _book_interval(
    hourly: counters.Hourly,
    point_id: int,
    reading: ingest.IntervalReading,
    interpolated: set[gaps.Key],
) -> None:
    start, end = reading.start_at, reading.end_at
    counters.spread(hourly, point_id, start, end, reading.injected_wh, 0)
    counters.spread(hourly, point_id, start, end, reading.withdrawn_wh, 1)
    interpolated |= gaps.interval_gap_hours(point_id, reading)
