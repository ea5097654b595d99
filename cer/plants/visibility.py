"""Which connection points and plants a user may see in full, for the API and the web pages.

A plain member sees the points they hold and the plants they own; a community's managers
see all of their community's; platform staff see everything, the back office every point
and plant (but not the readings). These are the querysets of the rules
plants.view_connection_point, plants.view_point_readings and plants.view_plant
(cer/access/rules.py). The web pages may still count a community's other plants
and show their power: they name them with a neutral label, never with their name or POD,
which often carry the owner's surname.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cer.access.rules import MANAGER_ROLES, is_staff_or_back_office, is_staff_or_superuser
from cer.members.models import Membership
from cer.plants.models import ConnectionPoint, Plant


def _managed_by(user: Any, today: dt.date) -> QuerySet:
    return (
        Membership.objects.active_on(today)
        .filter(member__user_id=user.pk, role__in=MANAGER_ROLES)
        .values("community_id")
    )


def connection_points_visible_to(user: Any, *, today: dt.date) -> QuerySet[ConnectionPoint]:
    """plants.view_connection_point: the points whose POD and holder the user may see."""
    if not user.is_authenticated:
        return ConnectionPoint.objects.none()
    if is_staff_or_back_office(user):
        return ConnectionPoint.objects.all()
    return ConnectionPoint.objects.filter(
        Q(holder__user_id=user.pk) | Q(configuration__community_id__in=_managed_by(user, today))
    )


def points_with_readings_visible_to(user: Any, *, today: dt.date) -> QuerySet[ConnectionPoint]:
    """plants.view_point_readings: the points whose hourly readings the user may see."""
    if not user.is_authenticated:
        return ConnectionPoint.objects.none()
    if is_staff_or_superuser(user):
        return ConnectionPoint.objects.all()
    return ConnectionPoint.objects.filter(
        Q(holder__user_id=user.pk) | Q(configuration__community_id__in=_managed_by(user, today))
    )


def plants_visible_to(user: Any, *, today: dt.date) -> QuerySet[Plant]:
    """plants.view_plant: the plants whose name, POD and owner the user may see."""
    if not user.is_authenticated:
        return Plant.objects.none()
    if is_staff_or_back_office(user):
        return Plant.objects.all()
    return Plant.objects.filter(
        Q(owner__user_id=user.pk)
        | Q(connection_point__configuration__community_id__in=_managed_by(user, today))
    )


def neutral_plant_label(number: int, power_kw: Decimal) -> str:
    """Return the name shown for a plant the user may not see in full, e.g. "Plant 3 — 45 kW"."""
    return _("Plant %(number)s — %(power)s kW") % {
        "number": number,
        "power": f"{power_kw.normalize():f}",
    }


@dataclass(frozen=True)
class PlantRow:
    """A plant as a page shows it: in full, or masked with a neutral label and no POD."""

    plant: Plant
    label: str
    pod: str
    visible: bool


def plant_rows(
    plants: Iterable[Plant], *, community_id: int, user: Any, today: dt.date
) -> list[PlantRow]:
    """Return the community's plants as `user` may see them, in the order given.

    A masked plant's number is its place among the community's plants by entry into service,
    so the same plant has the same label on every page.
    """
    plants = list(plants)
    visible = set(
        plants_visible_to(user, today=today)
        .filter(pk__in=[plant.pk for plant in plants])
        .values_list("pk", flat=True)
    )
    numbers: dict[int, int] = {}
    if len(visible) < len(plants):
        ordered = Plant.objects.filter(
            connection_point__configuration__community_id=community_id
        ).order_by("entry_into_service_date", "pk")
        numbers = {pk: index for index, pk in enumerate(ordered.values_list("pk", flat=True), 1)}
    rows = []
    for plant in plants:
        if plant.pk in visible:
            rows.append(PlantRow(plant, plant.name, plant.connection_point.pod, True))
        else:
            label = neutral_plant_label(numbers.get(plant.pk, 0), plant.power_kw)
            rows.append(PlantRow(plant, label, "", False))
    return rows
