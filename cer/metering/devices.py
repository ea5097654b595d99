"""Device accounts on the MQTT broker: register, rotate, disable, enable, delete, log in.

Each device has a database row and a broker account with a role limited to its own topic;
its secret is shown once and only its hash is stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import (
    check_password,
    get_hasher,
    is_password_usable,
    make_password,
)
from django.db import transaction

from cer.metering import broker, limits, notices
from cer.metering.models import Device, DeviceStatus
from cer.plants.models import ConnectionPoint

logger = logging.getLogger(__name__)

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
        notices.device_created(device, now=now)
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
        if status == DeviceStatus.DISABLED:
            notices.device_disabled(device, now=now)
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
