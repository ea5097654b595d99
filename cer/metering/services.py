"""Metering workflows: hourly series out, device accounts, readings in (exactly once)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import (
    check_password,
    get_hasher,
    is_password_usable,
    make_password,
)
from django.db import connection, transaction
from django.db.models import Max, Sum

from cer.communities.models import Configuration
from cer.dashboards.services import bump_readings_version
from cer.metering import broker, ingest, limits
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    Device,
    DeviceStatus,
    HourlyReading,
    IngestChannel,
    IngestedMessage,
    IntervalEnergy,
    ReadingQuality,
    ReadingSource,
    RejectedMessage,
)
from cer.plants.models import ConnectionPoint, Plant

logger = logging.getLogger(__name__)

ROME = ZoneInfo("Europe/Rome")
# How far back a redelivered MQTT message is looked for among the stored rejections: the
# broker redelivers after the worker restarts, which takes seconds, not days.
REDELIVERY_WINDOW = dt.timedelta(days=7)


def latest_year_with_readings(point_ids: list[int]) -> int | None:
    """Return the Europe/Rome year of the newest reading of these points, if any."""
    newest = HourlyReading.objects.filter(connection_point_id__in=point_ids).aggregate(
        newest=Max("hour_start")
    )["newest"]
    return newest.astimezone(ROME).year if newest else None


# --- device accounts ---------------------------------------------------------------------
#
# Order of writes: the database row is written first and the broker is called inside
# the same transaction. A broker failure raises, the transaction rolls back and
# neither side changes. The one gap left is a failed COMMIT after the broker
# succeeded; creation then repairs itself on retry (create_device_account replaces
# leftovers) and rotation is repeated by the referente. `manage.py reconcile_broker`
# (reconcile.py) finds and repairs whatever is left.


class DeviceNameTaken(Exception):
    """Another device of the connection point already uses this name."""


class DeviceDeleted(Exception):
    """The device was deleted; nothing can be done with it any more."""


@dataclass(frozen=True)
class DeviceSecret:
    """A device with its MQTT secret in clear: shown once, never stored."""

    device: Device
    secret: str


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


def register_device(
    *,
    point: ConnectionPoint,
    name: str,
    kind: str,
    now: dt.datetime,
    serial_number: str = "",
    meter_channel: int = 0,
    counter_rollover_wh: int | None = None,
    session: broker.DynsecSession | None = None,
) -> DeviceSecret:
    """Create a device, its MQTT account and a role limited to its own topic.

    Raises DeviceNameTaken, django.core.exceptions.ValidationError for a bad name,
    and broker.BrokerError when the broker refuses (nothing is saved then).
    """
    secret = _new_secret()
    device = Device(
        connection_point=point,
        name=name,
        kind=kind,
        serial_number=serial_number,
        meter_channel=meter_channel,
        counter_rollover_wh=counter_rollover_wh,
        # The random tail keeps a replacement device with the same name distinct.
        mqtt_username=f"{point.pod.lower()}-{name}-{secrets.token_hex(3)}",
        secret_hash=make_password(secret),
        status=DeviceStatus.ACTIVE,
        created_at=now,
    )
    device.full_clean(exclude=["connection_point"], validate_constraints=False)
    with transaction.atomic():
        if (
            Device.objects.filter(connection_point=point, name=name)
            .exclude(status=DeviceStatus.DELETED)
            .exists()
        ):
            raise DeviceNameTaken(name)
        device.save()
        with _session(session) as admin:
            broker.create_device_account(
                username=device.mqtt_username,
                password=secret,
                role=device.broker_role,
                topic_prefix=device.topic_prefix,
                session=admin,
            )
    logger.info("metering.device.created %s on %s", device.mqtt_username, point.pod)
    return DeviceSecret(device=device, secret=secret)


def rotate_device_secret(
    *, device: Device, now: dt.datetime, session: broker.DynsecSession | None = None
) -> DeviceSecret:
    """Give the device a new secret and disconnect it: the old secret stops working at once.

    A device whose broker account is missing gets a new one with the new secret.
    Raises DeviceDeleted and broker.BrokerError (the old secret then stays valid).
    """
    secret = _new_secret()
    with transaction.atomic():
        device = _locked(device)
        device.secret_hash = make_password(secret)
        device.rotated_at = now
        device.save(update_fields=["secret_hash", "rotated_at"])
        with _session(session) as admin:
            try:
                broker.set_device_password(
                    username=device.mqtt_username, password=secret, session=admin
                )
            except broker.BrokerCommandFailed as error:
                if "not found" not in error.error.lower():
                    raise
                # The account was lost (reconcile_broker reports it as MISSING_CLIENT):
                # the new secret is what lets us create it again.
                broker.create_device_account(
                    username=device.mqtt_username,
                    password=secret,
                    role=device.broker_role,
                    topic_prefix=device.topic_prefix,
                    session=admin,
                )
            if device.status == DeviceStatus.DISABLED:
                broker.disable_device(username=device.mqtt_username, session=admin)
    logger.info("metering.device.rotated %s", device.mqtt_username)
    return DeviceSecret(device=device, secret=secret)


def disable_device(
    *, device: Device, now: dt.datetime, session: broker.DynsecSession | None = None
) -> Device:
    """Refuse the device's connections and readings from now on; the broker drops it at once.

    Raises DeviceDeleted and broker.BrokerError.
    """
    return _set_status(device, DeviceStatus.DISABLED, now, session, broker.disable_device)


def enable_device(
    *, device: Device, now: dt.datetime, session: broker.DynsecSession | None = None
) -> Device:
    """Accept a disabled device again with its current secret. Raises DeviceDeleted."""
    return _set_status(device, DeviceStatus.ACTIVE, now, session, broker.enable_device)


def delete_device(
    *, device: Device, now: dt.datetime, session: broker.DynsecSession | None = None
) -> Device:
    """Remove the device's MQTT account and role; its readings stay. Raises BrokerError."""
    with transaction.atomic():
        device = _locked(device)
        device.status = DeviceStatus.DELETED
        device.status_changed_at = now
        device.save(update_fields=["status", "status_changed_at"])
        with _session(session) as admin:
            broker.delete_device_account(
                username=device.mqtt_username, role=device.broker_role, session=admin
            )
    logger.info("metering.device.deleted %s", device.mqtt_username)
    return device


def _set_status(device, status, now, session, broker_call) -> Device:
    with transaction.atomic():
        device = _locked(device)
        if device.status == status:
            return device
        device.status = status
        device.status_changed_at = now
        device.save(update_fields=["status", "status_changed_at"])
        with _session(session) as admin:
            broker_call(username=device.mqtt_username, session=admin)
    logger.info("metering.device.%s %s", status.lower(), device.mqtt_username)
    return device


def _locked(device: Device) -> Device:
    locked = Device.objects.select_for_update().select_related("connection_point").get(pk=device.pk)
    if locked.status == DeviceStatus.DELETED:
        raise DeviceDeleted(device.mqtt_username)
    return locked


@contextlib.contextmanager
def _session(session: broker.DynsecSession | None) -> Iterator[broker.DynsecSession]:
    if session is not None:
        yield session
        return
    with broker.DynsecSession() as opened:
        yield opened


class DeviceLockedOut(Exception):
    """Too many wrong secrets lately for this username or from this address.

    `retry_after` [s] is when the window ends and secrets are checked again.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked out for {retry_after} s")
        self.retry_after = retry_after


def authenticate_device(
    *, username: str, secret: str, client_address: str, now: dt.datetime
) -> Device | None:
    """Return the active device with these MQTT credentials, or None.

    Hash checks cost a fraction of a second by design, so their number is bounded:
    after too many wrong secrets for one username, or from one address, within the
    window (cer.metering.limits), DeviceLockedOut is raised without hashing until the
    window ends. Unknown, inactive and secret-less usernames are checked against a
    dummy hash, so the answer takes as long whether the username exists or not, and
    their failures count the same way. A successful check is remembered per process
    for the current hash (rotation invalidates it); a remembered secret gets in even
    during a lockout, since comparing it costs no hashing and so someone who merely
    knows a device's username cannot shut it out.
    """
    device = (
        Device.objects.select_related("connection_point")
        .filter(mqtt_username=username, status=DeviceStatus.ACTIVE)
        .first()
    )
    if device is not None and not is_password_usable(device.secret_hash):
        device = None
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()
    if device is not None:
        remembered = _verified_secrets.get((username, device.secret_hash), "")
        if hmac.compare_digest(remembered, fingerprint):
            return device
    by_device = limits.failed_secrets_per_device()
    by_address = limits.failed_secrets_per_address()
    waits = [
        window.retry_after(now=now)
        for window, subject in ((by_device, username), (by_address, client_address))
        if window.reached(subject, now=now)
    ]
    if waits:
        raise DeviceLockedOut(max(waits))
    encoded = device.secret_hash if device is not None else _dummy_hash()
    if not check_password(secret, encoded) or device is None:
        _count_failure(by_device, username, by_address, client_address, now)
        return None
    if len(_verified_secrets) > 10_000:
        _verified_secrets.clear()
    _verified_secrets[(username, device.secret_hash)] = fingerprint
    return device


_verified_secrets: dict[tuple[str, str], str] = {}


def _count_failure(
    by_device: limits.Window,
    username: str,
    by_address: limits.Window,
    client_address: str,
    now: dt.datetime,
) -> None:
    if by_device.count(username, now=now) == by_device.limit:
        logger.warning("metering.device.locked_out username=%r", username[:150])
    if by_address.count(client_address, now=now) == by_address.limit:
        logger.warning("metering.device.locked_out address=%s", client_address)


def _dummy_hash() -> str:
    """Return a hash of a random secret made by the preferred hasher, once per hasher."""
    algorithm = get_hasher().algorithm or ""
    if algorithm not in _dummy_hashes:
        _dummy_hashes[algorithm] = make_password(secrets.token_urlsafe(24))
    return _dummy_hashes[algorithm]


_dummy_hashes: dict[str, str] = {}


# --- recording readings ------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingMessage:
    """A message as received: topic, raw payload and the arrival instant (aware).

    `redelivered` is the MQTT DUP flag: the broker sent this message before and got
    no acknowledgement (the worker stopped between its commit and its PUBACK).
    """

    topic: str
    payload: bytes
    received_at: dt.datetime
    redelivered: bool = False


@dataclass
class IngestOutcome:
    """What a batch did; readings are counted one per interval or per counter value."""

    messages: int = 0
    rejected: int = 0
    ignored: int = 0
    new_readings: int = 0
    duplicate_readings: int = 0
    rejections: list[RejectedMessage] = field(default_factory=list)

    def add(self, other: IngestOutcome) -> None:
        self.messages += other.messages
        self.rejected += other.rejected
        self.ignored += other.ignored
        self.new_readings += other.new_readings
        self.duplicate_readings += other.duplicate_readings
        self.rejections.extend(other.rejections)


@dataclass
class _Accepted:
    device_id: int | None
    point_id: int
    rollover_wh: int | None
    parsed: ingest.ParsedMessage
    digest: str
    received_at: dt.datetime
    limits: ingest.PowerLimits


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
    outcome = IngestOutcome(messages=len(messages))
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
    accepted: list[_Accepted] = []
    rejected: list[RejectedMessage] = []
    redelivered: list[RejectedMessage] = []
    bounds = time_bounds()

    def reject(
        message: IncomingMessage,
        rejection: ingest.Rejection,
        configuration_id: int | None,
        device_id: int | None,
    ) -> None:
        stored = _rejection(message, rejection, configuration_id, device_id)
        rejected.append(stored)
        if message.redelivered:
            redelivered.append(stored)

    for message, address in zip(messages, addresses, strict=True):
        if isinstance(address, ingest.Rejection):
            reject(message, address, None, None)
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
            reject(message, reason, configuration_id, None)
            continue
        if device.status != DeviceStatus.ACTIVE:
            reason = ingest.Rejection("topic", f"device {device.name!r} is {device.status.lower()}")
            reject(message, reason, configuration_id, device.pk)
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
            reject(message, rejection, configuration_id, device.pk)
            continue
        if parsed.ignored:
            outcome.ignored += 1
            logger.debug("ignored %s: %s", message.topic, parsed.ignored)
            continue
        digest = ""
        if parsed.stamped_on_arrival:
            digest = hashlib.sha256(message.topic.encode() + b"\n" + message.payload).hexdigest()
        accepted.append(
            _Accepted(
                device.pk,
                device.point_id,
                device.counter_rollover_wh,
                parsed,
                digest,
                message.received_at,
                point_limits,
            )
        )
    with transaction.atomic():
        if redelivered:
            stored_before = _rejected_before(redelivered)
            rejected = [item for item in rejected if id(item) not in stored_before]
        if rejected:
            RejectedMessage.objects.bulk_create(rejected)
        changed_points = _record(accepted, outcome)
        if messages:
            newest = max(message.received_at for message in messages)
            _invalidate_dashboards_on_commit(changed_points, now=newest)
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
        message = IncomingMessage(topic=path, payload=body, received_at=received_at)
        stored = _rejection(
            message, rejection, point.configuration_id, device.pk if device else None
        )
        stored.channel = IngestChannel.HTTP
        stored.save()
        raise ReadingsRejected(rejection) from rejection
    outcome = IngestOutcome(messages=1)
    digest = hashlib.sha256(path.encode() + b"\n" + body).hexdigest()
    with transaction.atomic():
        device_id = device.pk if device else None
        rollover_wh = device.counter_rollover_wh if device else None
        accepted = _Accepted(device_id, point.pk, rollover_wh, parsed, digest, received_at, limits)
        changed_points = _record([accepted], outcome)
        _invalidate_dashboards_on_commit(changed_points, now=received_at)
    return outcome


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


def _invalidate_dashboards_on_commit(point_ids: set[int], *, now: dt.datetime) -> None:
    """Make the dashboards of the points' communities recompute once the batch is committed.

    After the commit, so that no dashboard caches the old sums under the new version;
    robust, because the readings are safely stored even if the bump fails (cached
    figures then expire on their own within minutes).
    """
    if not point_ids:
        return
    community_ids = set(
        ConnectionPoint.objects.filter(pk__in=point_ids).values_list(
            "configuration__community_id", flat=True
        )
    )
    transaction.on_commit(
        partial(bump_readings_version, community_ids=community_ids, now=now), robust=True
    )


def _devices_for(addresses: list[ingest.TopicAddress]) -> dict[tuple[int, str, str], _DeviceInfo]:
    pods = {address.pod for address in addresses}
    if not pods:
        return {}
    rows = (
        Device.objects.filter(connection_point__pod__in=pods)
        .exclude(status=DeviceStatus.DELETED)
        .annotate(plant_kw=Sum("connection_point__plants__power_kw"))
        .values_list(
            "pk",
            "name",
            "kind",
            "status",
            "meter_channel",
            "counter_rollover_wh",
            "connection_point_id",
            "connection_point__configuration_id",
            "connection_point__pod",
            "connection_point__contracted_power_kw",
            "plant_kw",
            "created_at",
        )
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
        plant_kw,
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
            limits=_limits(kw, plant_kw),
            created_at=created_at,
        )
        devices[(configuration_id, pod, name)] = info
    return devices


def _limits(contracted_kw: Decimal, plant_kw: Decimal | None) -> ingest.PowerLimits:
    # Injection is bounded by the plants' power; a point without plants by its contract.
    contracted_w = int(contracted_kw * 1000)
    injection_w = int(plant_kw * 1000) if plant_kw else contracted_w
    return ingest.PowerLimits(injection_w=injection_w, withdrawal_w=contracted_w)


def _rejection(
    message: IncomingMessage,
    rejection: ingest.Rejection,
    configuration_id: int | None,
    device_id: int | None,
) -> RejectedMessage:
    return RejectedMessage(
        channel=IngestChannel.MQTT,
        topic=message.topic[:500],
        payload=message.payload,
        received_at=message.received_at,
        field=rejection.field[:200],
        reason=rejection.reason,
        configuration_id=configuration_id,
        device_id=device_id,
    )


_Hourly = dict[tuple[int, dt.datetime], list[int]]  # (point, hour) -> [injected, withdrawn]


def _record(accepted: list[_Accepted], outcome: IngestOutcome) -> set[int]:
    """Write the readings of accepted messages; only readings seen for the first time count.

    Return the connection points whose hourly energy changed.
    """
    fresh = _first_time_stamped_on_arrival(accepted)
    hourly: _Hourly = defaultdict(lambda: [0, 0])
    _record_intervals(fresh, hourly, outcome)
    _record_counters(fresh, hourly, outcome)
    _add_to_hourly(hourly)
    return {point_id for (point_id, _), energy in hourly.items() if any(energy)}


def _first_time_stamped_on_arrival(accepted: list[_Accepted]) -> list[_Accepted]:
    """Drop messages stamped on arrival whose exact bytes were already recorded."""
    stamped: dict[tuple[int, str], _Accepted] = {}
    for item in accepted:
        if item.parsed.stamped_on_arrival and item.device_id is not None:
            stamped.setdefault((item.device_id, item.digest), item)
    if not stamped:
        return accepted
    table = IngestedMessage._meta.db_table
    rows = [
        (device_id, digest, _db_time(item.received_at))
        for (device_id, digest), item in stamped.items()
    ]
    inserted = {
        (device_id, digest)
        for device_id, digest in _insert_returning(
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


def _record_intervals(accepted: list[_Accepted], hourly: _Hourly, outcome: IngestOutcome) -> None:
    wanted: dict[tuple[int, dt.datetime], tuple[_Accepted, ingest.IntervalReading]] = {}
    for item in accepted:
        for reading in item.parsed.intervals:
            key = (item.point_id, reading.start_at)
            if key in wanted:
                outcome.duplicate_readings += 1
            else:
                wanted[key] = (item, reading)
    if not wanted:
        return
    rows = [
        (
            point_id,
            item.device_id,
            _db_time(reading.start_at),
            _db_time(reading.end_at),
            reading.injected_wh,
            reading.withdrawn_wh,
            _db_time(item.received_at),
        )
        for (point_id, _), (item, reading) in wanted.items()
    ]
    inserted = _insert_returning(
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
    new_keys = {(point_id, _from_db_time(start_at)) for point_id, start_at in inserted}
    outcome.duplicate_readings += len(wanted) - len(new_keys)
    outcome.new_readings += len(new_keys)
    for key in new_keys:
        _, reading = wanted[key]
        _spread(hourly, key[0], reading.start_at, reading.end_at, reading.injected_wh, 0)
        _spread(hourly, key[0], reading.start_at, reading.end_at, reading.withdrawn_wh, 1)


@dataclass
class _Sample:
    measured_at: dt.datetime
    value_wh: int
    delta_wh: int
    pk: int | None = None
    received_at: dt.datetime | None = None


def _record_counters(accepted: list[_Accepted], hourly: _Hourly, outcome: IngestOutcome) -> None:
    """Merge counter values into each device's sample chain and book the changed deltas.

    Every pair of consecutive samples carries the energy of its interval on the later
    sample. A late sample splits one pair into two: the old pair's energy is taken
    back from its hours and the two new ones are booked, so the hourly totals always
    equal the sum over the chain, whatever order the samples arrived in.
    """
    groups: dict[tuple[int, str], dict[dt.datetime, tuple[int, dt.datetime]]]
    groups = defaultdict(dict)
    context: dict[int, _Accepted] = {}
    for item in accepted:
        if item.device_id is None:
            continue
        for reading in item.parsed.counters:
            registers: tuple[tuple[str, int | None], ...] = (
                (CounterChannel.INJECTED.value, reading.injected_total_wh),
                (CounterChannel.WITHDRAWN.value, reading.withdrawn_total_wh),
            )
            for channel, value in registers:
                if value is None:
                    continue
                samples = groups[(item.device_id, channel)]
                if reading.measured_at in samples:
                    outcome.duplicate_readings += 1
                    continue
                samples[reading.measured_at] = (value, item.received_at)
                context[item.device_id] = item
    if not groups:
        return
    # One worker at a time per device: concurrent merges would read the same chain.
    list(
        Device.objects.select_for_update()
        .filter(pk__in=sorted({device_id for device_id, _ in groups}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    creations: list[CounterSample] = []
    updates: list[CounterSample] = []
    for (device_id, channel), incoming in groups.items():
        item = context[device_id]
        assert item.device_id is not None
        power_w = (
            item.limits.injection_w
            if channel == CounterChannel.INJECTED
            else item.limits.withdrawal_w
        )
        column = 0 if channel == CounterChannel.INJECTED else 1
        chain = _chain_window(device_id, channel, min(incoming), max(incoming))
        known = {sample.measured_at for sample in chain}
        new = [
            _Sample(moment, value, 0, received_at=received_at)
            for moment, (value, received_at) in incoming.items()
            if moment not in known
        ]
        outcome.duplicate_readings += len(incoming) - len(new)
        outcome.new_readings += len(new)
        if not new:
            continue
        old_previous = {id(chain[i]): chain[i - 1] for i in range(1, len(chain))}
        merged = sorted(chain + new, key=lambda sample: sample.measured_at)
        for index, sample in enumerate(merged):
            previous = merged[index - 1] if index else None
            if sample.pk is not None:
                before = old_previous.get(id(sample))
                if before is previous:
                    continue
                if before is not None and sample.delta_wh:
                    _spread(
                        hourly,
                        item.point_id,
                        before.measured_at,
                        sample.measured_at,
                        sample.delta_wh,
                        column,
                        sign=-1,
                    )
            delta = 0
            if previous is not None:
                delta = ingest.counter_delta_wh(
                    previous_wh=previous.value_wh,
                    value_wh=sample.value_wh,
                    seconds=(sample.measured_at - previous.measured_at).total_seconds(),
                    power_w=power_w,
                    rollover_wh=item.rollover_wh,
                )
                _spread(
                    hourly, item.point_id, previous.measured_at, sample.measured_at, delta, column
                )
            sample.delta_wh = delta
            if sample.pk is None:
                creations.append(
                    CounterSample(
                        device_id=device_id,
                        channel=channel,
                        measured_at=sample.measured_at,
                        value_wh=sample.value_wh,
                        delta_wh=delta,
                        received_at=sample.received_at or item.received_at,
                    )
                )
            else:
                updates.append(CounterSample(pk=sample.pk, delta_wh=delta))
    CounterSample.objects.bulk_create(creations, batch_size=1000)
    if updates:
        CounterSample.objects.bulk_update(updates, ["delta_wh"], batch_size=1000)


def _chain_window(
    device_id: int, channel: str, first: dt.datetime, last: dt.datetime
) -> list[_Sample]:
    """Return the stored samples in [first, last] plus their neighbours just outside."""
    samples = CounterSample.objects.filter(device_id=device_id, channel=channel)
    fields = ("pk", "measured_at", "value_wh", "delta_wh")
    before = samples.filter(measured_at__lt=first).order_by("-measured_at").values_list(*fields)[:1]
    inside = (
        samples.filter(measured_at__gte=first, measured_at__lte=last)
        .order_by("measured_at")
        .values_list(*fields)
    )
    after = samples.filter(measured_at__gt=last).order_by("measured_at").values_list(*fields)[:1]
    rows = [*before, *inside, *after]
    return [_Sample(measured_at=m, value_wh=v, delta_wh=d, pk=pk) for pk, m, v, d in rows]


def _spread(
    hourly: _Hourly,
    point_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    energy_wh: int,
    column: int,
    *,
    sign: int = 1,
) -> None:
    """Book energy [Wh] (sign +1) or take it back (sign -1) over the hours it covers.

    Taking back splits the same positive amount, so exactly the parts booked before
    are removed.
    """
    if not energy_wh:
        return
    for hour_start, part in ingest.split_over_hours(start_at, end_at, energy_wh):
        hourly[(point_id, hour_start)][column] += sign * part


def _add_to_hourly(hourly: _Hourly) -> None:
    """Add the deltas to the hourly rows with atomic increments.

    Deltas that take energy back go through UPDATE: PostgreSQL checks the CHECK
    constraint on the proposed row of an upsert before it sees the conflict, so a
    negative delta cannot ride on INSERT … ON CONFLICT even when the sum stays >= 0.
    """
    table = HourlyReading._meta.db_table
    additions: list[tuple[int, Any, int, int]] = []
    corrections: list[tuple[int, Any, int, int]] = []
    for (point_id, hour_start), (injected, withdrawn) in sorted(hourly.items()):
        if not (injected or withdrawn):
            continue
        row = (point_id, _db_time(hour_start), injected, withdrawn)
        (corrections if injected < 0 or withdrawn < 0 else additions).append(row)
    columns = {
        "connection_point_id": "bigint",
        "hour_start": "timestamptz",
        "source": "varchar",
        "quality": "varchar",
        "injected_wh": "bigint",
        "withdrawn_wh": "bigint",
    }
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    # An atomic increment: concurrent workers never overwrite each other's sums.
    tail = (
        " ON CONFLICT (connection_point_id, hour_start, source) DO UPDATE SET "
        f"injected_wh = {table}.injected_wh + excluded.injected_wh, "
        f"withdrawn_wh = {table}.withdrawn_wh + excluded.withdrawn_wh"
    )
    source, quality = ReadingSource.DEVICE.value, ReadingQuality.VALID.value
    rows = [(point_id, hour, source, quality, inj, wdr) for point_id, hour, inj, wdr in additions]
    with connection.cursor() as cursor:
        if rows:
            for sql, params in _row_statements(head, tail, columns, rows):
                cursor.execute(sql, params)
        if corrections:
            cursor.executemany(
                f"UPDATE {table} SET injected_wh = injected_wh + %s, "  # noqa: S608 - fixed names
                "withdrawn_wh = withdrawn_wh + %s "
                "WHERE connection_point_id = %s AND hour_start = %s AND source = %s",
                [
                    (inj, wdr, point_id, hour, ReadingSource.DEVICE.value)
                    for point_id, hour, inj, wdr in corrections
                ],
            )


def _insert_returning(
    table: str,
    columns: dict[str, str],
    rows: list[tuple[Any, ...]],
    *,
    conflict: list[str],
    returning: list[str],
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows that were really new.

    `columns` maps each column to its PostgreSQL type. On PostgreSQL the rows travel
    as one array per column (unnest), which keeps the statement short however many
    rows there are; other databases get a multi-row VALUES list.
    """
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    tail = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {', '.join(returning)}"
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for sql, params in _row_statements(head, tail, columns, rows):
            cursor.execute(sql, params)
            inserted.extend(cursor.fetchall())
    return inserted


def _row_statements(
    head: str, tail: str, columns: dict[str, str], rows: list[tuple[Any, ...]]
) -> Iterator[tuple[str, list[Any]]]:
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
        yield (
            f"{head}SELECT * FROM unnest({arrays}){tail}",  # noqa: S608 - fixed names
            [list(c) for c in zip(*rows, strict=True)],
        )
        return
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for chunk in _chunks(rows, 500):
        values = ", ".join([placeholder] * len(chunk))
        yield f"{head}VALUES {values}{tail}", [value for row in chunk for value in row]


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _db_time(moment: dt.datetime) -> Any:
    """Adapt an aware datetime for raw SQL the way the ORM does (naive UTC on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _from_db_time(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
