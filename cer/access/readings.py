"""Who may see which devices, as a queryset: the twin of metering.manage_devices.

It sits with the other twins (cer/access/visibility.py) but on the readings' floor, since
it reads the metering models (cer/layers.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from cer.access.rules import is_staff_or_superuser
from cer.access.visibility import managed_by
from cer.metering.models import Device


def devices(user: Any, *, today: dt.date) -> QuerySet[Device]:
    """metering.manage_devices, applied to the device's connection point."""
    if not user.is_authenticated:
        return Device.objects.none()
    if is_staff_or_superuser(user):
        return Device.objects.all()
    return Device.objects.filter(
        connection_point__configuration__community_id__in=managed_by(user, today)
    )
