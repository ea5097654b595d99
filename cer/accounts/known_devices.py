"""The devices a staff person logs in from, and the notice of a login from a new one.

A device is recognised by a long-lived signed cookie holding a random id, hashed with the
browser's family (its name and system, from the User-Agent): never by the IP address
alone, which changes with every network. A login from a device the person never used
puts a security notice in their inbox and e-mails it at once (topics.SECURITY_NOTICE);
their very first login records the device silently, since nothing is known to be new.

Staff are who can move money or change other people's data: platform staff, superusers,
the back office, and the referenti and administrators of a community.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from cer.access.rules import BACK_OFFICE_GROUP
from cer.accounts import notices
from cer.accounts.models import KnownDevice
from cer.accounts.policy import MANAGING_ROLES, current_roles
from cer.core.net import client_ip

COOKIE_NAME = "cer_device"
COOKIE_SALT = "cer.accounts.known_device"
# Five years: the cookie names a browser, not a session; it carries no right of its own.
COOKIE_MAX_AGE_S = 5 * 365 * 24 * 3600
# Where a login that needs a new cookie leaves it for the response (SecondFactorMiddleware).
_PENDING_ATTRIBUTE = "_cer_new_device_cookie"

_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iOS", r"iPhone|iPad|iPod"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
)


def browser_family(user_agent: str) -> str:
    """The browser's name and system, e.g. "Firefox on Linux" ("other" when unknown)."""
    browser = next((name for name, rx in _BROWSERS if re.search(rx, user_agent)), "")
    system = next((name for name, rx in _SYSTEMS if re.search(rx, user_agent)), "")
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or (user_agent.split("/", 1)[0][:40] if user_agent else "other")


def is_staff_person(user: Any) -> bool:
    """Whether the user is platform staff, back office, or manages a community."""
    if user.is_staff or user.is_superuser:
        return True
    if user.groups.filter(name=BACK_OFFICE_GROUP).exists():
        return True
    return any(role in MANAGING_ROLES for _community, role in current_roles(user))


def _cookie_id(request: HttpRequest) -> str:
    found = request.get_signed_cookie(COOKIE_NAME, default="", salt=COOKIE_SALT)
    if found:
        return str(found)
    new = secrets.token_urlsafe(18)
    setattr(request, _PENDING_ATTRIBUTE, new)
    return new


def fingerprint(cookie_id: str, family: str) -> str:
    return hashlib.sha256(f"{cookie_id}|{family}".encode()).hexdigest()


def login_seen(*, request: HttpRequest | None, user: Any, now: dt.datetime) -> bool:
    """Note a staff person's login; tell them when its device is new. Returns whether it was.

    A login made by code (a shell, a test's force_login) has no client address and no
    response to carry the cookie back: there is nothing to recognise, and it is skipped.
    """
    if request is None or "REMOTE_ADDR" not in request.META or not is_staff_person(user):
        return False
    family = browser_family(request.META.get("HTTP_USER_AGENT", ""))
    key = fingerprint(_cookie_id(request), family)
    address = client_ip(request) or None
    first_ever = not KnownDevice.objects.filter(user=user).exists()
    try:
        with transaction.atomic():
            device, created = KnownDevice.objects.get_or_create(
                user=user,
                fingerprint=key,
                defaults={
                    "label": family[:100],
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "last_ip_address": address,
                },
            )
    except IntegrityError:  # the same browser logging in twice at once
        return False
    if not created:
        KnownDevice.objects.filter(pk=device.pk).update(last_seen_at=now, last_ip_address=address)
        return False
    if first_ever:
        return False
    notices.new_device_login(user, device=family, address=address or "?", now=now)
    return True


def remember_cookie(request: HttpRequest, response: HttpResponse) -> None:
    """Give the browser the device cookie a login made for it (called on every response)."""
    new = getattr(request, _PENDING_ATTRIBUTE, None)
    if new:
        response.set_signed_cookie(
            COOKIE_NAME,
            new,
            salt=COOKIE_SALT,
            max_age=COOKIE_MAX_AGE_S,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
