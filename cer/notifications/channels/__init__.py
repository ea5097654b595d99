"""The delivery channels: each turns notifications into a message on its medium.

E-mail (channels/email.py) over SMTP; SMS (channels/sms.py) through a provider's HTTP
API; web push (channels/push.py) to the browsers a user subscribed, encrypted per
RFC 8291. All implement channels/base.py; the preferences page shows one column each, in
the order they are registered here.
"""

from __future__ import annotations

from cer.notifications.channels.base import Channel
from cer.notifications.channels.email import EmailChannel
from cer.notifications.channels.push import PushChannel
from cer.notifications.channels.sms import SmsChannel

_channels: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Make `channel` available under its code (registering a code again replaces it)."""
    _channels[channel.code] = channel
    return channel


def get(code: str) -> Channel:
    """Return the channel registered under `code`. Raises KeyError."""
    return _channels[code]


def all_channels() -> list[Channel]:
    """Every registered channel, in the order of registration."""
    return list(_channels.values())


register(EmailChannel())
register(SmsChannel())
register(PushChannel())
