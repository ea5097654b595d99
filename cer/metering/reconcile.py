"""Device rows against the broker's accounts: find, and where safe repair, what drifted apart.

Every device workflow writes its Device row and calls the broker inside one database
transaction. A broker refusal rolls the row back; the gap left is a COMMIT that fails
after the broker already changed (a lost connection, a restarted database): the broker
then holds a client the database does not know, or still accepts a device the
referente disabled. `manage.py reconcile_broker` lists such mismatches and, with
`--fix`, repairs those that need no secret.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cer.audit.services import record
from cer.metering import broker
from cer.metering.models import Device, DeviceStatus

logger = logging.getLogger(__name__)

# The platform's naming scheme: register_device names a client `<pod>-<name>-<6 hex>`
# and its role `device-<username>`. Other accounts (the admin, the ingestion worker)
# are not the platform's to judge.
DEVICE_ROLE_PREFIX = "device-"
DEVICE_USERNAME = re.compile(r"^it\d{3}e\d{8}-[a-z0-9][a-z0-9_-]{0,39}-[0-9a-f]{6}$")


class MismatchKind(enum.StrEnum):
    """Stable codes of the mismatches, as printed by the command."""

    ORPHAN_CLIENT = "ORPHAN_CLIENT"  # broker client without a device row
    MISSING_CLIENT = "MISSING_CLIENT"  # device (active or disabled) without a broker client
    CLIENT_ENABLED = "CLIENT_ENABLED"  # disabled device whose client is still enabled
    CLIENT_DISABLED = "CLIENT_DISABLED"  # active device whose client is disabled
    DELETED_CLIENT = "DELETED_CLIENT"  # deleted device whose client still exists
    ROLE_ACL = "ROLE_ACL"  # device role missing, with other ACLs, or not given to the client
    ORPHAN_ROLE = "ORPHAN_ROLE"  # device role that no client holds and no live device needs


# Repaired by --fix; the others need a person: a new secret, or a decision.
FIXABLE = frozenset(
    {
        MismatchKind.ORPHAN_CLIENT,
        MismatchKind.CLIENT_ENABLED,
        MismatchKind.DELETED_CLIENT,
        MismatchKind.ROLE_ACL,
        MismatchKind.ORPHAN_ROLE,
    }
)


@dataclass(frozen=True)
class DeviceAccount:
    """What the database says a device's broker account should be."""

    username: str
    role: str
    topic_prefix: str
    status: str


@dataclass(frozen=True)
class Mismatch:
    kind: MismatchKind
    name: str  # the client's username, or the role's name for ORPHAN_ROLE
    detail: str

    @property
    def fixable(self) -> bool:
        return self.kind in FIXABLE

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.detail}"


def _is_platform_client(client: broker.BrokerClient, known: set[str]) -> bool:
    return (
        client.username in known
        or bool(DEVICE_USERNAME.fullmatch(client.username))
        or any(role.startswith(DEVICE_ROLE_PREFIX) for role in client.roles)
    )


def compare(
    *,
    clients: Iterable[broker.BrokerClient],
    roles: Iterable[broker.BrokerRole],
    devices: Iterable[DeviceAccount],
) -> list[Mismatch]:
    """Return every mismatch between the broker's accounts and the device rows, sorted."""
    by_username = {device.username: device for device in devices}
    clients_by_name = {client.username: client for client in clients}
    roles_by_name = {role.rolename: role for role in roles}
    found: list[Mismatch] = []
    for client in clients_by_name.values():
        if not _is_platform_client(client, set(by_username)):
            continue
        device = by_username.get(client.username)
        if device is None:
            found.append(
                Mismatch(MismatchKind.ORPHAN_CLIENT, client.username, "no device row has it")
            )
        elif device.status == DeviceStatus.DELETED:
            found.append(
                Mismatch(MismatchKind.DELETED_CLIENT, client.username, "the device is deleted")
            )
        elif device.status == DeviceStatus.DISABLED and not client.disabled:
            found.append(
                Mismatch(
                    MismatchKind.CLIENT_ENABLED,
                    client.username,
                    "the device is disabled but the broker still accepts it",
                )
            )
        elif device.status == DeviceStatus.ACTIVE and client.disabled:
            found.append(
                Mismatch(
                    MismatchKind.CLIENT_DISABLED,
                    client.username,
                    "the device is active but the broker refuses it: disable and enable it "
                    "again on the Metering devices page",
                )
            )
    for device in by_username.values():
        if device.status == DeviceStatus.DELETED:
            continue
        own_client = clients_by_name.get(device.username)
        if own_client is None:
            found.append(
                Mismatch(
                    MismatchKind.MISSING_CLIENT,
                    device.username,
                    "the broker has no client for this device; its secret is not kept, so "
                    "give it a new secret on the Metering devices page (this recreates the "
                    "account) and configure the device with it",
                )
            )
            continue
        role = roles_by_name.get(device.role)
        wanted = broker.acl_triples(broker.device_acls(device.topic_prefix))
        if role is None:
            problem = f"role {device.role} is missing"
        elif role.acls != wanted:
            problem = f"role {device.role} does not allow exactly {device.topic_prefix}/#"
        elif device.role not in own_client.roles:
            problem = f"the client does not hold role {device.role}"
        else:
            continue
        found.append(Mismatch(MismatchKind.ROLE_ACL, device.username, problem))
    held = {role for client in clients_by_name.values() for role in client.roles}
    live_roles = {d.role for d in by_username.values() if d.status != DeviceStatus.DELETED}
    for role in roles_by_name.values():
        name = role.rolename
        if name.startswith(DEVICE_ROLE_PREFIX) and name not in held and name not in live_roles:
            found.append(
                Mismatch(
                    MismatchKind.ORPHAN_ROLE, name, "no client holds it and no device needs it"
                )
            )
    return sorted(found, key=lambda mismatch: (mismatch.kind, mismatch.name))


def device_accounts() -> list[DeviceAccount]:
    """Return what the database expects of the broker, one entry per device row."""
    return [
        DeviceAccount(
            username=device.mqtt_username,
            role=device.broker_role,
            topic_prefix=device.topic_prefix,
            status=device.status,
        )
        for device in Device.objects.select_related("connection_point")
    ]


def find_mismatches(*, session: broker.DynsecSession) -> list[Mismatch]:
    """Compare the broker's accounts with the device rows.

    The broker is read first: a device registered meanwhile has its row committed by
    the time the database is read, so it does not look like an orphan.
    """
    clients, roles = broker.list_accounts(session=session)
    return compare(clients=clients, roles=roles, devices=device_accounts())


def repair(
    *, mismatches: Iterable[Mismatch], session: broker.DynsecSession, now: dt.datetime
) -> list[Mismatch]:
    """Repair the fixable mismatches on the broker; return those repaired.

    Each repair reads the device row again just before acting, so a device created or
    changed since the comparison is left alone. Raises broker.BrokerError.
    """
    repaired = []
    for mismatch in mismatches:
        if not mismatch.fixable:
            continue
        username = mismatch.name
        if mismatch.kind == MismatchKind.ORPHAN_ROLE:
            username = username.removeprefix(DEVICE_ROLE_PREFIX)
        device = (
            Device.objects.select_related("connection_point").filter(mqtt_username=username).first()
        )
        if _repair_one(mismatch, device, session):
            repaired.append(mismatch)
            record(
                actor=None,
                code="metering.broker.repaired",
                now=now,
                target=device,
                changes={"kind": str(mismatch.kind), "name": mismatch.name},
            )
            logger.info("metering.broker.repaired %s", mismatch)
    return repaired


def _repair_one(mismatch: Mismatch, device: Device | None, session: broker.DynsecSession) -> bool:
    """Repair one mismatch if the device row still calls for it; return whether it did."""
    name = mismatch.name
    status = device.status if device is not None else None
    kind = mismatch.kind
    if kind == MismatchKind.ORPHAN_CLIENT and device is None:
        # Nobody was shown this account's secret (its registration failed), so no meter
        # can be using it: deleting is safe.
        role = f"{DEVICE_ROLE_PREFIX}{name}"
        broker.delete_device_account(username=name, role=role, session=session)
    elif kind == MismatchKind.DELETED_CLIENT and device and status == DeviceStatus.DELETED:
        broker.delete_device_account(username=name, role=device.broker_role, session=session)
    elif kind == MismatchKind.CLIENT_ENABLED and status == DeviceStatus.DISABLED:
        broker.disable_device(username=name, session=session)
    elif kind == MismatchKind.ROLE_ACL and device and status != DeviceStatus.DELETED:
        clients, roles = broker.list_accounts(session=session)
        client = next((c for c in clients if c.username == name), None)
        if client is None:
            return False
        broker.repair_role(
            username=name,
            role=next((r for r in roles if r.rolename == device.broker_role), None),
            rolename=device.broker_role,
            topic_prefix=device.topic_prefix,
            client_has_role=device.broker_role in client.roles,
            session=session,
        )
    elif kind == MismatchKind.ORPHAN_ROLE and status in (None, DeviceStatus.DELETED):
        session.execute(
            {"command": "deleteRole", "rolename": name}, tolerate=frozenset({"not found"})
        )
    else:
        return False
    return True
