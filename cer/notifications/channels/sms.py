"""The SMS channel: a short text (subject and a link) to the user's mobile number.

The channel writes the text and finds the number (the members app tells it, through
hooks.register_phone_lookup); an `SmsProvider` carries it. One adapter is built: Skebby's
REST API v1.0 (https://api.skebby.it/API/v1.0/REST/): `GET login?username=&password=`
answers "user_key;session_key" (404 when the credentials are wrong), then `POST sms`
with those two keys as headers and a JSON body {message_type, message, recipient,
sender} answers 201 with {"result": "OK", "order_id": ...}.

What fails is told apart as delivery.py needs it: a refused number or refused
credentials (a 4xx) will not get better and is permanent; a 5xx, a 429, a timeout or a
refused connection is retried with back-off. Every failure names the provider's code,
which the DeliveryAttempt keeps. With no provider configured (SMS_PROVIDER empty) every
SMS fails for good with that reason: never dropped silently.

Digests never go by SMS (services.notify sends SMS deliveries one by one); a text is at
most two concatenated segments: 2 x 153 GSM-7 characters, or 2 x 67 when it needs
Unicode (UCS-2).
"""

from __future__ import annotations

import abc
import json
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy

from cer.notifications import hooks, links
from cer.notifications.channels.base import Channel, DeliveryFailed, Envelope

SMS = "sms"
TIMEOUT_S = 10

# GSM 03.38: the basic alphabet (one septet each) and the extension table (two: escape + char).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"
# Two segments of a concatenated SMS (each loses 7 septets, or 3 UCS-2 characters, to
# the header that joins them).
GSM_LIMIT = 2 * 153
UCS2_LIMIT = 2 * 67


def gsm_length(text: str) -> int | None:
    """Septets `text` takes in GSM-7, or None when a character needs Unicode."""
    length = 0
    for char in text:
        if char in GSM_BASIC:
            length += 1
        elif char in GSM_EXTENSION:
            length += 2
        else:
            return None
    return length


def fits(text: str) -> bool:
    """Whether `text` fits in two SMS segments."""
    septets = gsm_length(text)
    if septets is None:
        # Characters outside the BMP take two UCS-2 units.
        return sum(2 if ord(char) > 0xFFFF else 1 for char in text) <= UCS2_LIMIT
    return septets <= GSM_LIMIT


def sms_text(subject: str, link: str) -> str:
    """The subject, shortened with "…" if needed, then the link whole: two segments at most."""
    tail = f" {link}" if link else ""
    text = subject + tail
    if fits(text):
        return text
    words = subject
    while words and not fits(words.rstrip() + "..." + tail):
        words = words[:-1]
    return words.rstrip() + "..." + tail


class SmsProvider(abc.ABC):
    """Something that carries one text to one number."""

    code: str

    @abc.abstractmethod
    def send(self, to_e164: str, text: str, sender: str) -> str:
        """Send `text` to `to_e164` from `sender`; return the provider's message id.

        Raises DeliveryFailed (permanent for a refused number or credentials, temporary
        for a 5xx, a rate limit or a timeout), its message naming the provider's code.
        """


class SkebbyProvider(SmsProvider):
    """Skebby's REST API v1.0: log in for a session key, then POST the message."""

    code = "skebby"
    # "GP": Skebby's high-quality route, with delivery reports and the sender name shown.
    message_type = "GP"

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.username, self.password = username, password

    def send(self, to_e164: str, text: str, sender: str) -> str:
        user_key, session_key = self._login()
        body = {
            "message_type": self.message_type,
            "message": text,
            "recipient": [to_e164],
            "sender": sender,
            "returnCredits": False,
        }
        response = self._call(
            "post",
            "sms",
            json=body,
            headers={"user_key": user_key, "Session_key": session_key},
        )
        if response.status_code != 201:
            raise _failure("sms", response)
        try:
            answer = response.json()
        except ValueError as error:
            raise DeliveryFailed(f"skebby sms {response.status_code}: not JSON") from error
        if answer.get("result") != "OK":
            raise DeliveryFailed(f"skebby sms {response.status_code}: {json.dumps(answer)[:300]}")
        return str(answer.get("order_id", ""))

    def _login(self) -> tuple[str, str]:
        response = self._call(
            "get", "login", params={"username": self.username, "password": self.password}
        )
        if response.status_code != 200:
            raise _failure("login", response)
        keys = response.text.strip().split(";")
        if len(keys) != 2 or not all(keys):
            raise DeliveryFailed(f"skebby login {response.status_code}: unexpected answer")
        return keys[0], keys[1]

    def _call(self, method: str, path: str, **options: Any) -> requests.Response:
        try:
            return requests.request(method, self.base_url + path, timeout=TIMEOUT_S, **options)
        except requests.RequestException as error:
            raise DeliveryFailed(f"skebby {path}: {type(error).__name__}: {error}") from error


def _failure(step: str, response: requests.Response) -> DeliveryFailed:
    """A provider's refusal: temporary for 5xx, 429 and 408, permanent for other 4xx."""
    status = response.status_code
    temporary = status >= 500 or status in (408, 429)
    detail = response.text.strip()[:300]
    return DeliveryFailed(f"skebby {step} {status}: {detail}", permanent=not temporary)


def provider() -> SmsProvider | None:
    """The provider the settings name, or None when SMS are not configured."""
    name = (getattr(settings, "SMS_PROVIDER", "") or "").strip().lower()
    if not name:
        return None
    if name == SkebbyProvider.code:
        return SkebbyProvider(settings.SMS_API_URL, settings.SMS_USERNAME, settings.SMS_PASSWORD)
    raise DeliveryFailed(f"unknown SMS provider {name!r} (SMS_PROVIDER)", permanent=True)


class SmsChannel(Channel):
    code = SMS
    label = gettext_lazy("SMS")
    carries_digest = False

    def send(self, envelope: Envelope) -> None:
        if envelope.digest:
            raise DeliveryFailed("a digest is never sent by SMS", permanent=True)
        number = hooks.phone_of(envelope.user)
        if not number:
            raise DeliveryFailed("the user has no valid mobile number", permanent=True)
        carrier = provider()
        if carrier is None:
            raise DeliveryFailed("no SMS provider is configured (SMS_PROVIDER)", permanent=True)
        for notification in envelope.notifications:
            # The inbox item's own address: short, and it marks the notice read.
            link = links.absolute(
                links.site_path("notifications:open", notification.pk),
                language=envelope.language,
            )
            carrier.send(number, sms_text(notification.subject, link), settings.SMS_SENDER)
