"""The delivery channels: each turns notifications into a message on its medium.

E-mail is built; SMS and web push will register here behind the same interface
(channels/base.py) when they are written.
"""

from __future__ import annotations

from cer.notifications.channels.base import Channel
from cer.notifications.channels.email import EmailChannel

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
