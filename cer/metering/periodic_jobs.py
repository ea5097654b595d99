"""The metering app's scheduled work: pack the readings of closed months for fast reads."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.metering.packed import pack_closed_months


def _pack(now: dt.datetime) -> str:
    packed = pack_closed_months(now)
    return f"packed {packed} point-months" if packed else ""


periodic.register("metering.pack_closed_months", dt.timedelta(hours=1), _pack)
