"""Plants on a page, as the user may see them: in full, or with a neutral label.

Which points and plants a user may see in full is the rule plants.view_plant and its
queryset twin (cer/access/rules.py, cer/access/visibility.py). The web pages may still
count a community's other plants and show their power: they name them with a neutral
label, never with their name or POD, which often carry the owner's surname.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from cer.access.visibility import plants as plants_visible_to
from cer.plants.models import Plant


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
