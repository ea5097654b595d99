"""A backup, a wipe and a restore give back the same rows and files, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cer.audit.models import AuditEntry
from cer.communities.models import Community, Configuration
from cer.documents.models import DocumentVersion
from cer.members.models import Member, Membership
from cer.metering.models import Device, HourlyReading
from cer.plants.models import ConnectionPoint, Plant
from tests import factories
from tests.factories.worlds import build_world

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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restore_that_fails_midway_leaves_every_table_as_it_was(tmp_path):
    build_world(factories.make_community(), "backup")
    before = snapshot()
    assert before["HourlyReading"][0] > 0
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    # Cut short without its checksum file: pg_restore fails while reading it, after the
    # script has begun (on PostgreSQL the readings' tables are dropped first).
    cut = tmp_path / "cut.backup"
    cut.write_bytes(output.read_bytes()[: output.stat().st_size * 2 // 3])

    with pytest.raises(CommandError):
        call_command("restore", str(cut), yes=True)

    assert snapshot() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_uploaded_document_comes_back_byte_for_byte(tmp_path, settings):
    community = factories.make_community()
    content = b"%PDF-1.4\n%statuto firmato\n" + bytes(range(256)) * 40
    document = factories.make_document(community, content=content)
    stored_name = document.latest_version.file.name
    output = tmp_path / "backups" / "cer.backup"

    call_command("backup", output=output)
    call_command("flush", interactive=False)
    shutil.rmtree(settings.MEDIA_ROOT)
    call_command("restore", str(output), yes=True)

    version = DocumentVersion.objects.get()
    assert version.file.name == stored_name
    with version.file.open("rb") as handle:
        assert handle.read() == content
    media = Path(f"{output}.media.tar.gz")
    assert (
        Path(f"{media}.sha256").read_text().split()[0]
        == hashlib.sha256(media.read_bytes()).hexdigest()
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_files_uploaded_after_the_backup_are_gone_after_the_restore(tmp_path, settings):
    community = factories.make_community()
    kept = factories.make_document(community).latest_version.file.name
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    later = factories.make_document(community).latest_version.file.name

    call_command("restore", str(output), yes=True)

    assert (Path(settings.MEDIA_ROOT) / kept).is_file()
    assert not (Path(settings.MEDIA_ROOT) / later).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_damaged_file_archive_is_refused_before_the_database_is_touched(tmp_path, settings):
    community = factories.make_community()
    stored = factories.make_document(community).latest_version.file.name
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    factories.make_community(name="CER Dopo", fiscal_code="00743110157")
    media = Path(f"{output}.media.tar.gz")
    media.write_bytes(media.read_bytes()[:-10] + b"0123456789")

    with pytest.raises(CommandError, match="checksum"):
        call_command("restore", str(output), yes=True)

    assert Community.objects.count() == 2
    assert (Path(settings.MEDIA_ROOT) / stored).is_file()


def test_an_archive_member_that_escapes_the_media_folder_is_refused(tmp_path):
    from cer.core.backup import BackupError, restore_media

    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload.txt"
    payload.write_bytes(b"x")
    with tarfile.open(evil, "w:gz") as archive:
        archive.add(payload, arcname="../outside.txt")
    media_root = tmp_path / "site" / "media"
    (media_root / "documents").mkdir(parents=True)
    (media_root / "documents" / "a.pdf").write_bytes(b"%PDF-1.4")

    with pytest.raises(BackupError, match="unpacking"):
        restore_media(source=evil, media_root=media_root)

    assert not (tmp_path / "site" / "outside.txt").exists()
    assert (media_root / "documents" / "a.pdf").read_bytes() == b"%PDF-1.4"
