"""Backups, restored files and uploads are private to the service's user; backups may be sealed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from cer.communities.models import Community
from cer.core.backup_encryption import MAGIC
from cer.members.models import Member
from tests import factories

EMAIL = "giulia.bianchi@example.org"
ADDRESS = "Via dei Mille 27"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def a_community_with_a_person_and_a_document() -> Community:
    community = factories.make_community()
    factories.make_member(email=EMAIL, address=ADDRESS)
    factories.make_document(community, content=b"%PDF-1.4\n%" + EMAIL.encode() + b"\n")
    return community


def backup_files(output: Path) -> list[Path]:
    return sorted(path for path in output.parent.iterdir() if path.is_file())


def test_backup_files_and_a_new_folder_are_readable_by_the_owner_only(tmp_path):
    a_community_with_a_person_and_a_document()
    output = tmp_path / "new-folder" / "cer.backup"

    call_command("backup", output=output)

    files = backup_files(output)
    assert [path.name for path in files] == [
        "cer.backup",
        "cer.backup.media.tar.gz",
        "cer.backup.media.tar.gz.sha256",
        "cer.backup.sha256",
    ]
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    assert mode(output.parent) == 0o700


def test_a_backup_file_that_already_existed_becomes_private(tmp_path):
    factories.make_community()
    output = tmp_path / "cer.backup"
    output.write_bytes(b"old")
    output.chmod(0o644)

    call_command("backup", output=output)

    assert mode(output) == 0o600


def test_uploaded_documents_and_their_folders_are_private(settings):
    community = factories.make_community()

    document = factories.make_document(community)

    stored = Path(document.latest_version.file.path)
    assert mode(stored) == 0o600
    assert mode(stored.parent) == 0o700


def test_an_encrypted_backup_shows_no_personal_data(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    a_community_with_a_person_and_a_document()
    clear, sealed = tmp_path / "clear" / "cer.backup", tmp_path / "sealed" / "cer.backup"

    call_command("backup", output=sealed, encrypt=True)
    settings.BACKUP_ENCRYPTION_KEY = ""
    call_command("backup", output=clear)

    sealed_media = Path(f"{sealed}.media.tar.gz.enc")
    for path in (sealed, sealed_media):
        content = path.read_bytes()
        assert content.startswith(MAGIC)
        assert EMAIL.encode() not in content
        assert ADDRESS.encode() not in content
        assert mode(path) == 0o600
    if connection.vendor == "sqlite":
        # The same data in clear do show them: the check above can fail.
        assert EMAIL.encode() in clear.read_bytes()
    assert not any(path.name.startswith(".cer-backup-") for path in sealed.parent.iterdir())


def test_an_encrypted_backup_comes_back_with_its_key(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    community = a_community_with_a_person_and_a_document()
    stored = community.documents.get().latest_version.file.name
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)

    call_command("flush", interactive=False)
    call_command("restore", str(output), yes=True)

    assert Member.objects.get().email == EMAIL
    restored = Path(settings.MEDIA_ROOT) / stored
    assert EMAIL.encode() in restored.read_bytes()
    assert mode(restored) == 0o600
    assert not any(path.name.startswith(".cer-backup-") for path in tmp_path.iterdir())


def test_the_wrong_key_is_refused_and_nothing_is_touched(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    factories.make_community()
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    factories.make_community(name="CER Dopo", fiscal_code="00743110157")
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(CommandError, match="wrong key"):
        call_command("restore", str(output), yes=True)

    assert Community.objects.count() == 2


def test_an_encrypted_backup_without_a_key_is_refused(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    factories.make_community()
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    settings.BACKUP_ENCRYPTION_KEY = ""

    with pytest.raises(CommandError, match="BACKUP_ENCRYPTION_KEY"):
        call_command("restore", str(output), yes=True)

    assert Community.objects.count() == 1


def test_asking_for_encryption_without_a_key_writes_nothing(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""
    output = tmp_path / "cer.backup"

    with pytest.raises(CommandError, match="BACKUP_ENCRYPTION_KEY"):
        call_command("backup", output=output, encrypt=True)

    assert not output.exists()


def test_a_malformed_key_is_named(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = "not-a-key"

    with pytest.raises(CommandError, match="not a valid Fernet key"):
        call_command("backup", output=tmp_path / "cer.backup")


def test_a_cut_encrypted_backup_is_refused(tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    factories.make_community()
    output = tmp_path / "cer.backup"
    call_command("backup", output=output)
    output.write_bytes(output.read_bytes()[:-40])
    Path(f"{output}.sha256").unlink()

    with pytest.raises(CommandError, match=r"damaged|cut short"):
        call_command("restore", str(output), yes=True)

    assert Community.objects.count() == 1
