"""The deploy check keeps uploaded files out of the code directory and the static files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cer.core.checks import media_root_problems

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "cer.example.org",
}


def _ids(media_root: Path, static_root: Path | None = None) -> list[str]:
    problems = media_root_problems(
        media_root=media_root, base_dir=Path("/srv/cer"), static_root=static_root
    )
    return [problem.id for problem in problems]


@pytest.mark.parametrize(
    "media_root",
    ["/srv/cer", "/srv/cer/cer/media", "/srv/cer/static/uploads", "/srv/cer/var", "/srv", "/"],
)
def test_media_root_inside_or_around_the_code_is_an_error(media_root):
    assert _ids(Path(media_root)) == ["cer.E010"]


@pytest.mark.parametrize("media_root", ["/srv/cer/var/media", "/var/lib/cercollettiva/media"])
def test_media_root_in_the_data_folder_or_outside_the_checkout_passes(media_root):
    assert _ids(Path(media_root), static_root=Path("/srv/cer/var/static")) == []


def test_media_root_sharing_the_static_root_is_an_error():
    assert _ids(Path("/var/www/files"), static_root=Path("/var/www")) == ["cer.E011"]


def test_a_path_that_climbs_back_into_the_code_is_resolved_first():
    assert _ids(Path("/srv/cer/var/../cer")) == ["cer.E010"]


def _deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(PRODUCTION, FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_production_deploy_check_refuses_media_root_in_the_code():
    result = _deploy_check(MEDIA_ROOT=str(ROOT / "cer" / "media"))

    assert result.returncode != 0
    assert "cer.E010" in result.stderr


def test_the_production_deploy_check_accepts_the_default_media_root():
    result = _deploy_check()

    assert "cer.E010" not in result.stderr + result.stdout
    assert "cer.E011" not in result.stderr + result.stdout
