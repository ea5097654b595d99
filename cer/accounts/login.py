"""The one login service: web, admin and API logins all call `check_password` and
`check_second_factor`, so they share one lockout and one second factor.

A refused password and a refused code both count as failures for the lockout; a
locked username or address is refused before the password is even hashed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device

from cer.accounts import lockout
from cer.accounts.policy import has_second_factor, second_factor_required


class LoginRefused(Exception):
    """Wrong credentials (never says which part was wrong)."""


class LoginLockedOut(Exception):
    """Too many failures for this username, account or address; `retry_after` [s]."""

    def __init__(self, found: lockout.Lockout) -> None:
        super().__init__(f"locked out ({found.scope}) for {found.retry_after} s")
        self.scope = found.scope
        self.retry_after = found.retry_after


class SecondFactorRequired(Exception):
    """The user has an authenticator and sent no code (`missing`) or a wrong one."""

    def __init__(self, *, missing: bool) -> None:
        super().__init__("otp missing" if missing else "otp wrong")
        self.missing = missing


class SecondFactorEnrolmentRequired(Exception):
    """The user must use a second factor and has not set one up yet."""


def check_password(*, username: str, password: str, ip_address: str, now: dt.datetime) -> Any:
    """Return the active user with these credentials. Raises LoginLockedOut, LoginRefused."""
    found = lockout.current_lockout(username=username, ip_address=ip_address, now=now)
    if found is not None:
        raise LoginLockedOut(found)
    user = authenticate(username=username, password=password)
    if user is None:
        lockout.note_failure(username=username, ip_address=ip_address, now=now)
        raise LoginRefused(username)
    return user


def needs_code(user: Any) -> bool:
    """Whether a login of `user` must go on to ask for a code."""
    return any(True for _device in devices_for_user(user, confirmed=True))


def check_second_factor(*, user: Any, otp: str, ip_address: str, now: dt.datetime) -> Device:
    """Return the device (authenticator or recovery code) that accepts `otp`.

    Raises LoginLockedOut and SecondFactorRequired; a wrong code counts as a failure.
    """
    username = user.get_username()
    found = lockout.current_lockout(username=username, ip_address=ip_address, now=now)
    if found is not None:
        raise LoginLockedOut(found)
    otp = "".join(otp.split())
    if not otp:
        raise SecondFactorRequired(missing=True)
    device = _matching_device(user, otp)
    if device is None:
        lockout.note_failure(username=username, ip_address=ip_address, now=now)
        raise SecondFactorRequired(missing=False)
    return device


def _matching_device(user: Any, otp: str) -> Device | None:
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(otp):
                return device
    return None


def succeeded(*, user: Any, ip_address: str, now: dt.datetime) -> None:
    """Note a complete login: the pair's earlier refusals are forgotten."""
    lockout.clear_pair(username=user.get_username(), ip_address=ip_address)
    user.last_login = now
    user.save(update_fields=["last_login"])


def log_in(*, username: str, password: str, otp: str, ip_address: str, now: dt.datetime) -> Any:
    """Both steps at once, for the API: password, then the code when the user has one.

    Raises LoginLockedOut, LoginRefused, SecondFactorRequired and
    SecondFactorEnrolmentRequired (a manager without an authenticator: enrol on the web).
    """
    user = check_password(username=username, password=password, ip_address=ip_address, now=now)
    if needs_code(user):
        check_second_factor(user=user, otp=otp, ip_address=ip_address, now=now)
    elif second_factor_required(user) and not has_second_factor(user):
        raise SecondFactorEnrolmentRequired(username)
    succeeded(user=user, ip_address=ip_address, now=now)
    return user
