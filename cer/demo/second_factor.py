"""The demo's managers log in with a second factor like real ones, with a published key.

The key is as public as the demo password: the code page shows the current code for
these devices while DEBUG is on (`cer.accounts.views.demo_code_hint`), so that trying
the demo needs no phone. A production install (DEBUG off) never shows it.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.accounts.second_factor import DEMO_DEVICE_NAME, DEMO_KEY


def give_demo_authenticators(usernames: list[str]) -> None:
    for user in User.objects.filter(username__in=usernames):
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(
                user=user, name=DEMO_DEVICE_NAME, key=DEMO_KEY, confirmed=True
            )
