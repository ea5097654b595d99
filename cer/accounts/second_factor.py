"""Setting up, using and resetting the second factor (an authenticator app, TOTP, RFC
6238) and its recovery codes, each step recorded in the audit log."""

from __future__ import annotations

import base64
import datetime as dt
import io
import secrets
from typing import Any

import segno
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.accounts.revocation import revoke_everything
from cer.audit.services import record

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "app"
RECOVERY_NAME = "recovery"
# The demo community's managers share this published key (cer.demo.second_factor).
DEMO_DEVICE_NAME = "demo"
DEMO_KEY = "4365724d436f6c6c657474697661446d6f4b6579"  # 20 bytes, hex, as django-otp keeps keys


def demo_code(user: Any) -> str:
    """The current code of a demo login (published key), or "" for anyone else."""
    device = TOTPDevice.objects.filter(
        user=user, name=DEMO_DEVICE_NAME, key=DEMO_KEY, confirmed=True
    ).first()
    if device is None:
        return ""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def pending_authenticator(user: Any) -> TOTPDevice:
    """The unconfirmed authenticator being set up (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link of `device` as an inline SVG QR code, for the app's camera."""
    image = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        image, kind="svg", scale=4, border=2, xmldecl=False, title="otpauth"
    )
    return image.getvalue().decode()


def readable_key(device: TOTPDevice) -> str:
    """The shared key in base32, in groups of four, for typing into an app by hand."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirm_authenticator(
    *, user: Any, otp: str, now: dt.datetime
) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending authenticator with a current code; return it and fresh
    recovery codes, or None when the code is wrong."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token("".join(otp.split())):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        record(actor=user, code="accounts.second_factor.enabled", now=now, target=user)
    return device, codes


def regenerate_recovery_codes(*, user: Any, now: dt.datetime) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record(actor=user, code="accounts.recovery_codes.regenerated", now=now, target=user)
    return codes


def _new_recovery_codes(user: Any) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**10):010d}" for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def remove(*, user: Any, actor: Any, now: dt.datetime, reason: str) -> None:
    """Delete every device of `user`; when someone else does it (a platform administrator
    resetting a lost phone), every session and token of `user` ends too."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        ended: dict[str, int] = {}
        if actor is not None and actor.pk != user.pk:
            ended = revoke_everything(user=user, now=now, reason="second factor reset")
        record(
            actor=actor,
            code="accounts.second_factor.reset" if ended else "accounts.second_factor.removed",
            now=now,
            target=user,
            changes={"reason": reason, **{key: str(value) for key, value in ended.items()}},
        )
