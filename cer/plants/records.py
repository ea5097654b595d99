"""The plant list of a community for its managers: search, filters, sorting, export.

Only a community's managers (and the platform staff) get these: a plain member sees other
members' plants by a neutral label (cer.plants.visibility), and a search by name would
tell them whose plant is whose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.communities.models import Community
from cer.core import formatting, list_filters
from cer.plants.models import EligibilityStatus, EnergySource, IncentiveRegime, Plant

PAGE_SIZE = 25

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "power": ("power_kw", "pk"),
    "-power": ("-power_kw", "-pk"),
    "entry": ("entry_into_service_date", "pk"),
    "-entry": ("-entry_into_service_date", "-pk"),
    "status": ("eligibility_status", "name", "pk"),
}
SORT_CHOICES = (
    ("name", gettext_lazy("Name A–Z")),
    ("-name", gettext_lazy("Name Z–A")),
    ("-power", gettext_lazy("Largest first")),
    ("power", gettext_lazy("Smallest first")),
    ("entry", gettext_lazy("Oldest first")),
    ("-entry", gettext_lazy("Newest first")),
    ("status", gettext_lazy("Eligibility")),
)


@dataclass(frozen=True)
class PlantFilters:
    """What the manager asked for; unknown values fall back to the defaults."""

    q: str = ""
    source: str = ""
    status: str = ""
    regime: str = ""
    configuration: int | None = None
    sort: str = "name"

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, community: Community) -> PlantFilters:
        """Read the filters from a query string, dropping values that are not choices."""
        return cls(
            q=list_filters.search_text(query),
            source=list_filters.choice(query, "source", EnergySource.values),
            status=list_filters.choice(query, "status", EligibilityStatus.values),
            regime=list_filters.choice(query, "regime", IncentiveRegime.values),
            configuration=list_filters.configuration_id(query, community.configurations),
            sort=list_filters.choice(query, "sort", SORTS, "name"),
        )


def plant_records(*, community: Community, filters: PlantFilters) -> QuerySet[Plant]:
    """Return the community's plants that match `filters`, in the asked order."""
    rows = Plant.objects.filter(
        connection_point__configuration__community=community
    ).select_related("connection_point__configuration", "owner")
    if filters.source:
        rows = rows.filter(source=filters.source)
    if filters.status:
        rows = rows.filter(eligibility_status=filters.status)
    if filters.regime:
        rows = rows.filter(regime=filters.regime)
    if filters.configuration is not None:
        rows = rows.filter(connection_point__configuration_id=filters.configuration)
    for word in filters.q.split():
        rows = rows.filter(
            Q(name__icontains=word)
            | Q(connection_point__pod__icontains=word)
            | Q(primary_substation__icontains=word)
            | Q(censimp_code__icontains=word)
            | Q(owner__last_name__icontains=word)
            | Q(owner__first_name__icontains=word)
            | Q(owner__company_name__icontains=word)
        )
    return rows.order_by(*SORTS[filters.sort])


def export_header() -> list[str]:
    return [
        _("Plant"),
        _("POD"),
        _("Configuration"),
        _("Owner"),
        _("Source"),
        _("Power [kW]"),
        _("Entry into service"),
        _("Incentive regime"),
        _("Primary substation"),
        _("Storage power [kW]"),
        _("Storage capacity [kWh]"),
        _("Capital grant [%]"),
        _("Eligibility"),
    ]


def export_rows(rows: QuerySet[Plant], *, for_people: bool) -> list[list[object]]:
    """Return one list of cells per plant: figures and dates as text when `for_people`."""

    def figure(value: object) -> object:
        return formatting.number(value, 3, trim=True) if for_people else value  # type: ignore[arg-type]

    table: list[list[object]] = []
    for plant in rows:
        table.append(
            [
                plant.name,
                plant.connection_point.pod,
                plant.connection_point.configuration.name,
                plant.owner.display_name,
                plant.get_source_display(),
                figure(plant.power_kw),
                formatting.day(plant.entry_into_service_date)
                if for_people
                else plant.entry_into_service_date,
                plant.get_regime_display(),
                plant.primary_substation,
                figure(plant.storage_power_kw),
                figure(plant.storage_capacity_kwh),
                figure(plant.capital_grant_pct),
                plant.get_eligibility_status_display(),
            ]
        )
    return table
