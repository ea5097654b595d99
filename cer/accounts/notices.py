"""What the accounts app tells a person: a login from a device they never used.

The topic is the platform's security notice (cer.notifications.topics.SECURITY_NOTICE):
mandatory and urgent, in the inbox and by e-mail at once, whatever the quiet hours.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cer.core import formatting
from cer.notifications import links, topics
from cer.notifications.services import notify

logger = logging.getLogger(__name__)


class _NewDeviceEvent:
    """The event's words, written in the recipient's language when the notice is made."""

    def __init__(self, family: str, address: str, at: dt.datetime) -> None:
        self.family, self.address, self.at = family, address, at

    def __str__(self) -> str:
        return _("A login from a new device (%(device)s, address %(address)s) on %(at)s") % {
            "device": self.family,
            "address": self.address,
            "at": formatting.moment(self.at),
        }


def new_device_login(user: Any, *, device: str, address: str, now: dt.datetime) -> None:
    """Tell the person, after commit, of a login from a device (browser family) new to them."""

    def send() -> None:
        try:
            notify(
                [user],
                topics.SECURITY_NOTICE.code,
                {"event": _NewDeviceEvent(device, address, now)},
                link=links.site_path("accounts:password"),
                now=now,
                urgent=True,
            )
        except Exception:
            # The login stands whatever happens to its notice; the failure is in the log.
            logger.exception("new device notice for user %s failed", user.pk)

    transaction.on_commit(send)
