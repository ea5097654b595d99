"""A backup, a wipe and a restore give back the same rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cer.audit.models import AuditEntry
from cer.communities.models import Community, Configuration
from cer.members.models import Member, Membership
from cer.metering.models import Device, HourlyReading
from cer.plants.models import ConnectionPoint, Plant
from tests import factories
from tests.api.conftest import build_world

KEY_MODELS = [
    Community,
    Configuration,
    Member,
    Membership,
    ConnectionPoint,
    Plant,
    Device,
    HourlyReading,
    AuditEntry,
]


def snapshot() -> dict[str, tuple[int, str]]:
    """Return each key table's row count and a checksum of its rows in key order."""
    state = {}
    for model in KEY_MODELS:
        rows = list(model.objects.order_by("pk").values_list())
        state[model.__name__] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_wipe_and_restore_give_back_the_same_data(tmp_path):
    build_world(factories.make_community(), "backup")
    before = snapshot()
    output = tmp_path / "cer.backup"

    call_command("backup", output=output)
    call_command("flush", interactive=False)
    assert snapshot()["Community"][0] == 0
    call_command("restore", str(output), yes=True)

    assert snapshot() == before
    assert (
        Path(f"{output}.sha256").read_text().split()[0]
        == hashlib.sha256(output.read_bytes()).hexdigest()
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_damaged_backup_is_refused_and_the_data_stay(tmp_path):
    factories.make_community()
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    output.write_bytes(output.read_bytes()[:-10] + b"0123456789")

    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(output), yes=True)

    assert Community.objects.count() == 1
