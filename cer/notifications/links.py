"""Addresses in notifications: paths on this site, absolute URLs, unsubscribe tokens.

A notification keeps its link as a path of the default language ("/members/…"); an
e-mail turns it into an absolute URL in the reader's language. The site's address comes
from the SITE_URL setting, since no request is at hand when the sender runs.

An unsubscribe link carries a signed token (user, topic, channel): whoever holds the
e-mail may turn that topic's e-mails off without logging in, and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse, translate_url
from django.utils import translation

UNSUBSCRIBE_SALT = "cer.notifications.unsubscribe"


def site_path(viewname: str, *args: Any) -> str:
    """Reverse `viewname` in the default language: the form a notification stores."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(viewname, args=args)


def localised(path: str, language: str | None) -> str:
    """Return a stored path (default language) as the path of the same page in `language`."""
    if not language:
        return path
    # The stored path resolves only while the default language is active.
    with translation.override(settings.LANGUAGE_CODE):
        return translate_url(path, language)


def absolute(path: str, *, language: str | None = None) -> str:
    """Return the absolute URL of a site path, in `language` when given."""
    return settings.SITE_URL.rstrip("/") + localised(path, language)


def is_site_path(link: str) -> bool:
    """Return whether `link` is a path on this site (never another host: no open redirect)."""
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


def unsubscribe_token(*, user_id: int, topic: str, channel: str) -> str:
    """Sign what one unsubscribe link turns off."""
    return signing.dumps({"u": user_id, "t": topic, "c": channel}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str, str]:
    """Return (user id, topic, channel) of a token. Raises signing.BadSignature."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    return int(data["u"]), str(data["t"]), str(data["c"])


def unsubscribe_url(*, user_id: int, topic: str, channel: str, language: str) -> str:
    """The absolute unsubscribe URL of one topic on one channel, in `language`."""
    token = unsubscribe_token(user_id=user_id, topic=topic, channel=channel)
    return absolute(site_path("notifications:unsubscribe", token), language=language)
