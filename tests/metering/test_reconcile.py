"""Comparing the broker's device accounts with the device rows (pure: no broker, no database)."""

from __future__ import annotations

from cer.metering import broker
from cer.metering.reconcile import DeviceAccount, MismatchKind, compare

USERNAME = "it001e00000001-meter-a1b2c3"
PREFIX = "cer/7/IT001E00000001/meter"


def _device(status="ACTIVE", username=USERNAME) -> DeviceAccount:
    return DeviceAccount(
        username=username, role=f"device-{username}", topic_prefix=PREFIX, status=status
    )


def _client(username=USERNAME, *, disabled=False, roles=None) -> broker.BrokerClient:
    held = (f"device-{username}",) if roles is None else roles
    return broker.BrokerClient(username=username, disabled=disabled, roles=held)


def _role(username=USERNAME, acls=None) -> broker.BrokerRole:
    wanted = broker.device_acls(PREFIX) if acls is None else acls
    return broker.BrokerRole(rolename=f"device-{username}", acls=broker.acl_triples(wanted))


def _kinds(**state) -> list[tuple[MismatchKind, str]]:
    return [(mismatch.kind, mismatch.name) for mismatch in compare(**state)]


def test_matching_accounts_give_no_mismatch():
    assert _kinds(clients=[_client()], roles=[_role()], devices=[_device()]) == []


def test_the_admin_and_ingestion_accounts_are_not_judged():
    others = [
        broker.BrokerClient("cer-admin", False, ("admin",)),
        broker.BrokerClient("cer-ingest", False, ("cer-ingest",)),
    ]
    roles = [broker.BrokerRole("admin", frozenset()), broker.BrokerRole("cer-ingest", frozenset())]

    assert _kinds(clients=others, roles=roles, devices=[]) == []


def test_a_client_without_a_device_row_is_an_orphan():
    kinds = _kinds(clients=[_client()], roles=[_role()], devices=[])

    assert kinds == [(MismatchKind.ORPHAN_CLIENT, USERNAME)]


def test_a_client_named_by_the_scheme_is_an_orphan_even_without_its_role():
    kinds = _kinds(clients=[_client(roles=())], roles=[], devices=[])

    assert kinds == [(MismatchKind.ORPHAN_CLIENT, USERNAME)]


def test_an_active_device_without_a_client_is_reported_and_not_fixable():
    mismatches = compare(clients=[], roles=[_role()], devices=[_device()])

    assert [(m.kind, m.name, m.fixable) for m in mismatches] == [
        (MismatchKind.MISSING_CLIENT, USERNAME, False)
    ]
    assert "new secret" in mismatches[0].detail


def test_a_disabled_device_whose_client_is_enabled_is_fixable():
    mismatches = compare(clients=[_client()], roles=[_role()], devices=[_device("DISABLED")])

    assert [(m.kind, m.fixable) for m in mismatches] == [(MismatchKind.CLIENT_ENABLED, True)]


def test_a_disabled_device_with_a_disabled_client_agrees():
    state = {
        "clients": [_client(disabled=True)],
        "roles": [_role()],
        "devices": [_device("DISABLED")],
    }

    assert _kinds(**state) == []


def test_an_active_device_whose_client_is_disabled_needs_a_decision():
    mismatches = compare(clients=[_client(disabled=True)], roles=[_role()], devices=[_device()])

    assert [(m.kind, m.fixable) for m in mismatches] == [(MismatchKind.CLIENT_DISABLED, False)]


def test_a_deleted_device_whose_client_still_exists_is_reported():
    kinds = _kinds(clients=[_client()], roles=[_role()], devices=[_device("DELETED")])

    assert kinds == [(MismatchKind.DELETED_CLIENT, USERNAME)]


def test_a_deleted_device_without_client_or_role_agrees():
    assert _kinds(clients=[], roles=[], devices=[_device("DELETED")]) == []


def test_a_role_that_allows_more_than_the_devices_topic_is_wrong():
    wide = [*broker.device_acls(PREFIX), {"acltype": "publishClientSend", "topic": "cer/#"}]
    wide[-1]["allow"] = True

    kinds = _kinds(clients=[_client()], roles=[_role(acls=wide)], devices=[_device()])

    assert kinds == [(MismatchKind.ROLE_ACL, USERNAME)]


def test_a_missing_role_or_a_role_not_given_to_the_client_is_wrong():
    missing = _kinds(clients=[_client()], roles=[], devices=[_device()])
    not_held = _kinds(clients=[_client(roles=())], roles=[_role()], devices=[_device()])

    assert missing == [(MismatchKind.ROLE_ACL, USERNAME)]
    assert not_held == [(MismatchKind.ROLE_ACL, USERNAME)]


def test_a_device_role_nobody_holds_is_an_orphan_role():
    kinds = _kinds(clients=[], roles=[_role()], devices=[])

    assert kinds == [(MismatchKind.ORPHAN_ROLE, f"device-{USERNAME}")]


def test_the_role_of_an_active_device_without_client_is_not_an_orphan():
    kinds = _kinds(clients=[], roles=[_role()], devices=[_device()])

    assert kinds == [(MismatchKind.MISSING_CLIENT, USERNAME)]
