"""Production settings refuse to start with development defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "0123456789abcdefghijklmnop"
FERNET_KEY = "pQ0ZJ8W1S6m3qKqj7y3sQm8c9kq4L2vXb0t1r5u6w7E="


def check_with(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "cer.example.org"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": GOOD_KEY}, "DJANGO_ALLOWED_HOSTS"),
        (
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": GOOD_KEY,
                "DJANGO_ALLOWED_HOSTS": "cer.example.org",
            },
            "FIELD_ENCRYPTION_KEYS",
        ),
        ({"DJANGO_DEBUG": "maybe"}, "not a boolean"),
    ],
)
def test_production_refuses_unsafe_settings(env, complaint):
    result = check_with(**env)

    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_starts_with_explicit_settings():
    result = check_with(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="cer.example.org",
        FIELD_ENCRYPTION_KEYS=FERNET_KEY,
    )

    assert result.returncode == 0, result.stderr


def test_passwords_are_hashed_with_argon2_first():
    # The tests hash with MD5 for speed (tests/conftest.py): the configured list is read here.
    from config import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
