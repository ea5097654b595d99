"""SPID's scheduled work: forget the used message IDs whose lifetime ended a day ago."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.eid.spid import forget_used_messages


def _forget(now: dt.datetime) -> str:
    deleted = forget_used_messages(now)
    return f"{deleted} forgotten" if deleted else ""


periodic.register("eid.forget_used_messages", dt.timedelta(hours=6), _forget)
