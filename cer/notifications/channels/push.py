"""The web push channel: the notice, encrypted, to every browser the user subscribed.

For each subscription the payload {title, body, url} (JSON, in the user's language: the
notice was written in it) is encrypted with http_ece per RFC 8291 (content coding
aes128gcm, a fresh server ECDH key each time, the browser's p256dh key and auth secret)
and POSTed to the endpoint with a VAPID Authorization header (RFC 8292, signed by
py_vapid with the server's key), TTL and Urgency (RFC 8030). No cryptography here.

The push service's answer decides: 2xx delivered; 404 or 410 the subscription is gone
and is removed; 429 or a 5xx (or no answer) is retried; another 4xx fails that browser.
The notice counts as delivered when one browser took it; with no browser left, the
failure is permanent.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import http_ece
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cer.notifications import links
from cer.notifications.channels.base import Channel, DeliveryFailed, Envelope
from cer.notifications.models import Notification, PushSubscription
from cer.notifications.webpush import b64url_decode, vapid

PUSH = "push"
TIMEOUT_S = 10
# How long a push service keeps a message for a browser that is offline (seconds).
TTL_S = 24 * 3600
# The VAPID token's lifetime; RFC 8292 allows at most 24 hours.
TOKEN_LIFETIME_S = 12 * 3600


def payload(notification: Notification, language: str) -> bytes:
    """What the service worker shows: title, body and the address to open on click."""
    # The inbox item's address: it marks the notice read, then goes to what it is about.
    url = links.absolute(links.site_path("notifications:open", notification.pk), language=language)
    data = {"title": notification.subject, "body": notification.body, "url": url}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def encrypt(data: bytes, subscription: PushSubscription) -> bytes:
    """The body of the push message: `data` encrypted for the subscription (RFC 8291)."""
    return http_ece.encrypt(
        data,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(subscription.p256dh),
        auth_secret=b64url_decode(subscription.auth),
        version="aes128gcm",
    )


def headers_for(endpoint: str, *, urgent: bool) -> dict[str, str]:
    """The VAPID Authorization (for the endpoint's origin), TTL, Urgency and encoding."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        # Push services check the token against their own clock: real time, not `now`.
        "exp": int(time.time()) + TOKEN_LIFETIME_S,
        "sub": settings.WEBPUSH_CONTACT,
    }
    headers: dict[str, Any] = dict(vapid().sign(claims))
    headers.update(
        {
            "TTL": str(TTL_S),
            "Urgency": "high" if urgent else "normal",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
    )
    return headers


class PushChannel(Channel):
    code = PUSH
    label = gettext_lazy("Push")
    carries_digest = False

    def send(self, envelope: Envelope) -> None:
        subscriptions = list(PushSubscription.objects.filter(user=envelope.user))
        if not subscriptions:
            raise DeliveryFailed("the user has no push subscription", permanent=True)
        for notification in envelope.notifications:
            self._send_one(notification, envelope.language, subscriptions)

    def _send_one(
        self, notification: Notification, language: str, subscriptions: list[PushSubscription]
    ) -> None:
        data = payload(notification, language)
        delivered, temporary, errors = 0, False, []
        for subscription in subscriptions:
            outcome = self._post(subscription, data, urgent=notification.urgent)
            if outcome is None:
                delivered += 1
                continue
            error, retry = outcome
            errors.append(error)
            temporary = temporary or retry
        if delivered:
            return
        message = "; ".join(errors)
        raise DeliveryFailed(message, permanent=not temporary)

    def _post(
        self, subscription: PushSubscription, data: bytes, *, urgent: bool
    ) -> tuple[str, bool] | None:
        """Send to one browser: None when delivered, else (error, whether to retry)."""
        host = urlsplit(subscription.endpoint).hostname
        try:
            response = requests.post(
                subscription.endpoint,
                data=encrypt(data, subscription),
                headers=headers_for(subscription.endpoint, urgent=urgent),
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            self._count_failure(subscription)
            return f"push {host}: {type(error).__name__}", True
        status = response.status_code
        if 200 <= status < 300:
            PushSubscription.objects.filter(pk=subscription.pk).update(
                last_success_at=timezone.now(), failures=0
            )
            return None
        if status in (404, 410):
            # The browser unsubscribed or the subscription expired: forget it.
            subscription.delete()
            return f"push {host} {status}: subscription gone, removed", False
        self._count_failure(subscription)
        detail = response.text.strip()[:200]
        return f"push {host} {status}: {detail}", status >= 500 or status == 429

    def _count_failure(self, subscription: PushSubscription) -> None:
        PushSubscription.objects.filter(pk=subscription.pk).update(failures=F("failures") + 1)
