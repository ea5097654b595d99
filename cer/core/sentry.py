"""Error reporting to Sentry, when the operator asks for it with SENTRY_DSN.

sentry-sdk is not a dependency: an operator who wants it runs `pip install sentry-sdk`
in the virtualenv and sets SENTRY_DSN. The settings call `init_sentry`; when the DSN is
set but the package is missing, the system check below warns at every start (and
`manage.py check --deploy`) instead of the site failing to start.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from django.conf import settings
from django.core import checks


def sentry_installed() -> bool:
    return importlib.util.find_spec("sentry_sdk") is not None


def init_sentry(dsn: str, *, environment: str, traces_sample_rate: float) -> bool:
    """Start the Sentry client; return False (and do nothing) when sentry-sdk is missing."""
    if not dsn or not sentry_installed():
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        # Members' names, addresses and tax codes stay here: no request bodies, no users.
        send_default_pii=False,
    )
    return True


@checks.register()
def sentry_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when SENTRY_DSN is set but sentry-sdk cannot be imported."""
    if getattr(settings, "SENTRY_DSN", "") and not sentry_installed():
        return [
            checks.Warning(
                "SENTRY_DSN is set but the sentry-sdk package is not installed: "
                "errors are not reported to Sentry.",
                hint="Run `pip install sentry-sdk` in the virtualenv, or unset SENTRY_DSN.",
                id="cer.W031",
            )
        ]
    return []
