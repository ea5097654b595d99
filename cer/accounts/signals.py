"""A changed password ends every credential issued before it, wherever it was changed
(the web page, the API, the admin site, a reset link, `manage.py changepassword`); a
staff person's login from a new device tells them (cer/accounts/known_devices.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from cer.accounts import known_devices
from cer.accounts.revocation import revoke_all_tokens, revoke_personal_tokens


@receiver(post_save, sender=get_user_model())
def password_changed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # set_password() leaves the raw password in `_password` until the save completes.
    if created or getattr(instance, "_password", None) is None:
        return
    now = timezone.now()
    # In the same transaction as the new password: both happen or neither does.
    # Sessions need nothing: Django drops those whose password hash no longer matches.
    revoke_all_tokens(user=instance, now=now, reason="password changed")
    revoke_personal_tokens(user=instance, now=now)


@receiver(user_logged_in)
def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    known_devices.login_seen(request=request, user=user, now=timezone.now())
