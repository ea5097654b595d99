"""`manage.py reconcile_broker` against the real Mosquitto, with mismatches made on purpose."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.core.management import CommandError, call_command

from cer.audit.models import AuditEntry
from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import Device, DeviceKind, DeviceStatus
from tests import factories
from tests.metering.conftest import make_device

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.django_db(transaction=True),
]

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
ORPHAN = "it001e99999999-ghost-0a0b0c"


def _reconcile(*args: str) -> tuple[str, str]:
    """Run the command; return its output and, if it failed, its error."""
    out = io.StringIO()
    try:
        call_command("reconcile_broker", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def _accounts() -> tuple[dict[str, broker.BrokerClient], dict[str, broker.BrokerRole]]:
    with broker.DynsecSession() as session:
        clients, roles = broker.list_accounts(session=session)
    return {c.username: c for c in clients}, {r.rolename: r for r in roles}


@pytest.fixture
def devices(community):
    """Two devices registered through the platform; every device account removed afterwards."""
    point = factories.make_connection_point(community, factories.make_member())
    created = [
        device_accounts.register_device(
            point=point, name=name, kind=DeviceKind.OWN_JSON, now=NOW
        ).device
        for name in ("meter", "spare")
    ]
    yield created
    with broker.DynsecSession() as session:
        for username in (*(d.mqtt_username for d in Device.objects.all()), ORPHAN):
            broker.delete_device_account(
                username=username, role=f"device-{username}", session=session
            )


def test_reconcile_reports_repairs_and_leaves_what_needs_a_new_secret(devices):
    meter, spare = devices
    with broker.DynsecSession() as session:
        # A registration whose COMMIT failed: the broker kept the account.
        broker.create_device_account(
            username=ORPHAN,
            password="x",
            role=f"device-{ORPHAN}",
            topic_prefix="cer/1/x/y",
            session=session,
        )
        # Someone widened a device's role by hand.
        session.execute(
            {
                "command": "addRoleACL",
                "rolename": meter.broker_role,
                "acltype": "publishClientSend",
                "topic": "cer/#",
                "allow": True,
            }
        )
    # An enable whose COMMIT failed: the row says disabled, the broker accepts the device.
    Device.objects.filter(pk=spare.pk).update(status=DeviceStatus.DISABLED)
    # A device row whose broker account never came to be.
    lost = make_device(spare.connection_point, mqtt_username="it001e00000001-lost-abcdef")

    output, error = _reconcile()

    assert f"ORPHAN_CLIENT {ORPHAN}" in output
    assert f"ROLE_ACL {meter.mqtt_username}" in output
    assert f"CLIENT_ENABLED {spare.mqtt_username}" in output
    assert f"MISSING_CLIENT {lost.mqtt_username}" in output
    # Accounts left on the shared test broker by earlier tests would add orphans here.
    assert error.endswith("mismatch(es) remain")

    output, error = _reconcile("--fix")

    clients, roles = _accounts()
    assert ORPHAN not in clients
    assert f"device-{ORPHAN}" not in roles
    assert clients[spare.mqtt_username].disabled
    assert roles[meter.broker_role].acls == broker.acl_triples(
        broker.device_acls(meter.topic_prefix)
    )
    assert meter.broker_role in clients[meter.mqtt_username].roles
    # The secret of the lost account is not kept: only a new one can recreate it.
    assert error == "1 mismatch(es) remain"
    assert AuditEntry.objects.filter(code="metering.broker.repaired").count() >= 3

    device_accounts.rotate_device_secret(device=lost, now=NOW)

    assert _reconcile() == (
        "broker and device rows agree\n",
        "",
    )
