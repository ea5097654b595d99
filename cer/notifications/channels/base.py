"""What a delivery channel is: one `send` of an envelope, or a failure saying what kind.

A channel receives an `Envelope`: one user, the language to write in, the community's
name as sender, and the notifications to carry (one, or a day's worth for a digest). It
sends them or raises `DeliveryFailed`; `permanent=True` says retrying cannot help (no
address, an address the server refuses), and the delivery stops retrying at once.
SMS and web push implement the same class.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from cer.notifications.models import Notification


class DeliveryFailed(Exception):
    """Raised by a channel when a message could not be sent; `permanent` stops retries."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Envelope:
    """What one send carries: the notifications to one user, in their language."""

    user: Any
    language: str
    sender_name: str
    notifications: Sequence[Notification]
    digest: bool


class Channel(abc.ABC):
    """A medium notifications go out on; `code` is stored on every delivery."""

    code: str
    label: str | Promise
    # False for channels that carry one notice per message (SMS, push): their ordinary
    # notices leave one by one after the quiet hours, never in a daily digest.
    carries_digest: bool = True

    @abc.abstractmethod
    def send(self, envelope: Envelope) -> None:
        """Send the envelope's notifications. Raises DeliveryFailed."""
