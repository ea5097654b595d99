"""Counters that bound the HTTP ingestion endpoints: requests and wrong device secrets.

Each allows `limit` events per subject (a client address, a device username) in fixed
windows of `seconds` (`cer.core.rate_limits.Window`). The limits are settings with
working defaults (see `requests_per_address` and below).
"""

from __future__ import annotations

from django.conf import settings

from cer.core.rate_limits import Window


def _setting(name: str, default: int) -> int:
    # Read at each request, so that tests (and a settings change) take effect at once.
    return int(getattr(settings, name, default))


def requests_per_address() -> Window:
    """Requests from one client address, whoever they claim to be (per minute)."""
    return Window("metering-address", _setting("METERING_HTTP_REQUESTS_PER_ADDRESS", 120), 60)


def requests_per_device() -> Window:
    """Requests presenting one device username with HTTP Basic (per minute)."""
    return Window("metering-device", _setting("METERING_HTTP_REQUESTS_PER_DEVICE", 30), 60)


def failed_secrets_per_device() -> Window:
    """Wrong secrets for one device username, existing or not, before a lockout."""
    return Window(
        "metering-device-failures",
        _setting("METERING_HTTP_FAILED_SECRETS_PER_DEVICE", 10),
        _setting("METERING_HTTP_LOCKOUT_SECONDS", 900),
    )


def failed_secrets_per_address() -> Window:
    """Wrong device secrets from one client address, over all usernames, before a lockout."""
    return Window(
        "metering-address-failures",
        _setting("METERING_HTTP_FAILED_SECRETS_PER_ADDRESS", 30),
        _setting("METERING_HTTP_LOCKOUT_SECONDS", 900),
    )
