"""Web push subscriptions and the server's VAPID key: checked, stored, removed.

A browser that subscribes (static/js/push.js) gives an endpoint at its push service and
two keys (RFC 8291): `p256dh`, its P-256 public key as a 65-byte uncompressed point, and
`auth`, a 16-byte secret, both base64url. They are checked here before anything is
stored: a wrong one is refused naming the field. The endpoint must be https; plain http
is accepted only for 127.0.0.1 when WEBPUSH_LOCAL_HTTP is on (DEBUG, the tests).

The VAPID key pair (RFC 8292) identifies this server to the push services: its private
key lives in WEBPUSH_VAPID_PRIVATE_KEY_FILE, made on first use (or by `manage.py
webpush_keys`) with mode 0600; the public key is what the page subscribes with.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from py_vapid import Vapid02

from cer.notifications.models import PushSubscription


class BadSubscription(ValueError):
    """A subscription refused: `field` names what is wrong, the message says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without its padding. Raises ValueError."""
    text = (text or "").strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError(str(error)) from error


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def check_endpoint(endpoint: str) -> str:
    """Return the endpoint if a push may be posted there. Raises BadSubscription."""
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint)
    local_http = (
        parts.scheme == "http"
        and parts.hostname == "127.0.0.1"
        and bool(getattr(settings, "WEBPUSH_LOCAL_HTTP", settings.DEBUG))
    )
    if len(endpoint) > 1000 or not parts.hostname or not (parts.scheme == "https" or local_http):
        raise BadSubscription("endpoint", _("Not an https address of a push service."))
    return endpoint


def check_keys(p256dh: str, auth: str) -> tuple[str, str]:
    """Return both keys (base64url, unpadded) if they are what RFC 8291 asks for.

    Raises BadSubscription naming the key that is wrong.
    """
    try:
        point = b64url_decode(p256dh)
        if len(point) != 65 or point[0] != 4:
            raise ValueError("length")
        # Refuses a point that is not on the curve.
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as error:
        raise BadSubscription(
            "p256dh", _("Not an uncompressed P-256 public key (65 bytes, base64url).")
        ) from error
    try:
        secret = b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise BadSubscription("auth", _("Not a 16-byte authentication secret (base64url)."))
    return b64url_encode(point), b64url_encode(secret)


def subscribe(
    *, user: Any, endpoint: str, p256dh: str, auth: str, user_agent: str, now: dt.datetime
) -> PushSubscription:
    """Store (or refresh) the browser's subscription for `user`. Raises BadSubscription.

    An endpoint is one browser profile: subscribing it again replaces its keys, and
    moves it to the user now signed in on it.
    """
    endpoint = check_endpoint(endpoint)
    p256dh, auth = check_keys(p256dh, auth)
    with transaction.atomic():
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "user": user,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": (user_agent or "")[:300],
                "created_at": now,
                "failures": 0,
            },
        )
    return subscription


def unsubscribe(*, user: Any, subscription_id: int | None = None, endpoint: str = "") -> int:
    """Remove one of the user's subscriptions (by id or endpoint); return how many went."""
    mine = PushSubscription.objects.filter(user=user)
    if subscription_id is not None:
        mine = mine.filter(pk=subscription_id)
    elif endpoint:
        mine = mine.filter(endpoint=endpoint)
    else:
        return 0
    return mine.delete()[0]


def _key_file() -> Path:
    return Path(settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE)


def ensure_vapid_key() -> tuple[Path, bool]:
    """Make the VAPID private key file (mode 0600) if it is missing; return it and whether."""
    path = _key_file()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    vapid = Vapid02()
    vapid.generate_keys()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path, False  # another process made it first: use theirs
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(vapid.private_pem())
    return path, True


def vapid() -> Vapid02:
    """The server's VAPID key pair (made on first use)."""
    path, _made = ensure_vapid_key()
    return Vapid02.from_pem(path.read_bytes())


def public_key() -> str:
    """The VAPID public key as the page's applicationServerKey: base64url, uncompressed."""
    point = vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url_encode(point)
