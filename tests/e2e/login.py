"""Logging in through the real pages, the second step included where the person has one."""

from __future__ import annotations

from django.contrib.auth.models import User

from cer.accounts.policy import second_factor_required
from tests.accounts.helpers import authenticator, code

PASSWORD = "prova-password-2025"


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    """Type the password; a manager then types the code of their authenticator app."""
    user = User.objects.get(username=username)
    device = authenticator(user) if second_factor_required(user) else None
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if device is not None:
        page.fill("#id_otp", code(device))
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def set_up_authenticator(page) -> None:
    """On the second-factor page, do what a person does with their phone: add the key
    shown to an authenticator app and type back the code it shows."""
    import base64
    import time

    from django_otp.oath import TOTP

    key = page.locator("#totp-key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    totp = TOTP(secret, step=30, t0=0, digits=6)
    totp.time = time.time()
    page.fill("#id_otp", f"{totp.token():06d}")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
