"""Personal identifiers encrypted at rest, with keys from the environment.

FIELD_ENCRYPTION_KEYS holds Fernet keys, comma-separated: the first encrypts, every
one decrypts, so a new key is put first, `manage.py rotate_encryption_keys`
re-encrypts the rows, and the old key is then dropped (docs/security.md).

Stored values look like `fernet:<token>`; a value without the prefix is legacy
plaintext, read as is and encrypted by the next save or by the rotation command.
Without keys (development, tests) a key is derived from SECRET_KEY; the deploy
system check refuses production without explicit keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class DecryptionFailed(Exception):
    """No configured key opens the stored value: a key was dropped too early."""


def _keys() -> tuple[str, ...]:
    configured = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    if configured:
        return configured
    # Development and tests: a key derived from SECRET_KEY. `check --deploy` refuses
    # production without explicit keys (cer.E001).
    derived = hashlib.sha256(f"cer.field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return (base64.urlsafe_b64encode(derived).decode(),)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key."
        ) from error


def encrypt(plaintext: str) -> str:
    """Return `fernet:<token>` for a non-empty string; the empty string stays empty."""
    if plaintext == "":
        return ""
    return PREFIX + _fernet(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    """Return the plaintext of a stored value (legacy plaintext passes through).

    Raises DecryptionFailed.
    """
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet(_keys()).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise DecryptionFailed("no configured key decrypts this value") from error


def rotate(stored: str) -> str:
    """Re-encrypt a stored value with the first key (plaintext gets encrypted)."""
    if stored == "":
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    try:
        token = _fernet(_keys()).rotate(stored[len(PREFIX) :].encode())
    except InvalidToken as error:
        raise DecryptionFailed("no configured key decrypts this value") from error
    return PREFIX + token.decode()


def blind_index(value: str, *, purpose: str) -> str:
    """Return a keyed, deterministic digest of `value` for lookups and uniqueness.

    The key is derived from SECRET_KEY and `purpose`, never from the rotating
    encryption keys, so the index survives key rotation (docs/security.md).
    """
    key = hashlib.sha256(f"cer.blind-index:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code and validators see the plaintext.

    Encrypted values cannot be searched or compared in SQL: filter in Python, or
    add a blind_index column next to it.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value if value is None else decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value if value is None or not isinstance(value, str) else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or str(value).startswith(PREFIX):
            return value
        return encrypt(str(value))

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        # A short identifier (tax code, IBAN) is typed on one line, not in a text area.
        if self.max_length is not None and not self.choices:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(
            form_class=form_class, choices_form_class=choices_form_class, **kwargs
        )


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production needs FIELD_ENCRYPTION_KEYS, all of them valid Fernet keys."""
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        return [
            checks.Error("FIELD_ENCRYPTION_KEYS is empty.", id="cer.E001"),
        ]
    try:
        _fernet(keys)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="cer.E002")]
    return []
