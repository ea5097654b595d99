"""The metering app's scheduled work: pack closed months, make the readings table's monthly
partitions ahead (PostgreSQL), compare accounts with the broker."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from cer.core import periodic
from cer.metering import broker, partitions, reconcile
from cer.metering.packed import pack_closed_months


def _pack(now: dt.datetime) -> str:
    packed = pack_closed_months(now)
    return f"packed {packed} point-months" if packed else ""


def _partitions(now: dt.datetime) -> str:
    made = partitions.ensure_ahead(now)
    return f"made partitions {', '.join(made)}" if made else ""


def _reconcile(now: dt.datetime) -> str:
    """Report device accounts and broker clients that disagree (fixing is a person's choice)."""
    if not settings.MQTT_ADMIN_PASSWORD:
        return ""  # no broker to compare with (the embedded default)
    with broker.DynsecSession() as session:
        found = reconcile.find_mismatches(session=session)
    return f"{len(found)} mismatch(es) with the broker: manage.py reconcile_broker" if found else ""


periodic.register("metering.pack_closed_months", dt.timedelta(hours=1), _pack)
periodic.register("metering.partitions_ahead", dt.timedelta(days=1), _partitions)
periodic.register("metering.reconcile_broker", dt.timedelta(days=1), _reconcile)
