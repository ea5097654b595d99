"""Second-factor helpers for tests: an authenticator with a known key, its codes."""

from __future__ import annotations

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.accounts.policy import second_factor_required


def authenticator(user) -> TOTPDevice:
    """The user's confirmed authenticator (created when missing)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the app shows now (or `steps_ahead` 30-second steps later).

    A device refuses a code of a step it already accepted: a second login within the
    same 30 s uses the next step's code, which the default tolerance of one step accepts.
    """
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    totp.time = now + steps_ahead * device.step
    if totp.t() <= device.last_t:
        totp.time = now + (device.last_t + 1 - totp.t() + steps_ahead) * device.step
    return f"{totp.token():0{device.digits}d}"


def mark_verified(client, user) -> None:
    """Make the client's session one that has passed the second factor, when required."""
    if not second_factor_required(user):
        return
    device = authenticator(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
