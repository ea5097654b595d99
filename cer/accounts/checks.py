"""A deploy check: a production install where managers log in with a password alone."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def second_factor_for_managers(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "SECOND_FACTOR_REQUIRED_FOR_MANAGERS", True):
        return []
    return [
        checks.Warning(
            "SECOND_FACTOR_REQUIRED_FOR_MANAGERS is false: referenti and community "
            "administrators can move money with a password alone.",
            hint="Unset it (the default is true) unless this is a one-person test install.",
            id="cer.W020",
        )
    ]
