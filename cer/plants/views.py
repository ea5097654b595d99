"""Plant pages: the community's plants, registration with eligibility checks, verification.

One plant's page, which draws its point's readings, is cer.dashboards.overviews.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.table_export import EXPORT_FORMATS, export_response
from cer.plants import records, services
from cer.plants.forms import PlantRegistrationForm
from cer.plants.models import EligibilityStatus, EnergySource, IncentiveRegime, Plant
from cer.plants.visibility import PlantRow, plant_rows


@object_permission("communities.view_community", Community)
@require_safe
def plant_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's plants: records with search, filters and export for those who see
    them all (managers, staff, back office), neutral labels for a plain member."""
    can_register = request.user.has_perm("plants.register_plant", community)
    if can_register:
        return _plant_records(request, community)
    plants = (
        Plant.objects.filter(connection_point__configuration__community=community)
        .select_related("connection_point", "owner")
        .order_by("name", "pk")
    )
    # A plain member sees other members' plants by a neutral label, without name or POD,
    # listed by entry into service: an order by name would hint at the hidden names.
    rows = plant_rows(
        plants, community_id=community.pk, user=request.user, today=timezone.localdate()
    )
    if not all(row.visible for row in rows):
        rows.sort(key=lambda row: (row.plant.entry_into_service_date, row.plant.pk))
    context = {"community": community, "plants": rows, "can_register": False}
    return render(request, "plants/plant_list.html", context)


def _plant_records(request: HttpRequest, community: Community) -> HttpResponse:
    filters = records.PlantFilters.from_query(request.GET, community=community)
    rows = records.plant_records(community=community, filters=filters)
    kind = request.GET.get("export", "")
    if kind in EXPORT_FORMATS:
        return export_response(
            kind=kind,
            title=_("Plants"),
            filename_stem=f"plants-{community.pk}-{timezone.localdate():%Y%m%d}",
            header=records.export_header(),
            csv_rows=records.export_rows(rows, for_people=True),
            xlsx_rows=records.export_rows(rows, for_people=False),
        )
    page = Paginator(rows, records.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    context = {
        "community": community,
        "records": True,
        "filters": filters,
        "page": page,
        "plants": [PlantRow(plant, plant.name, plant.connection_point.pod, True) for plant in page],
        "query": query.urlencode(),
        "sources": EnergySource.choices,
        "statuses": EligibilityStatus.choices,
        "regimes": IncentiveRegime.choices,
        "sorts": records.SORT_CHOICES,
        "configurations": community.configurations.order_by("name"),
        "can_register": True,
    }
    return render(request, "plants/plant_list.html", context)


@object_permission("plants.register_plant", Community)
def register(request: HttpRequest, community: Community) -> HttpResponse:
    form = PlantRegistrationForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            plant = services.register_plant(
                plant=form.save(commit=False), actor=request.user, now=timezone.now()
            )
        except services.PlantNotInCommunity:
            form.add_error("owner", _("The owner is not a member of this community."))
        else:
            if plant.eligibility_status == "ELIGIBLE":
                messages.success(request, _("Plant registered: it meets every rule checked."))
            else:
                messages.warning(
                    request,
                    _("Plant registered with status “%(status)s”: see the checks below.")
                    % {"status": plant.get_eligibility_status_display()},
                )
            return redirect("plant_detail", pk=plant.pk)
    return render(request, "plants/register.html", {"community": community, "form": form})


@object_permission("plants.register_plant", Plant)
@require_POST
def check_again(request: HttpRequest, plant: Plant) -> HttpResponse:
    community = plant.connection_point.configuration.community
    services.check_community_plants(community=community, actor=request.user, now=timezone.now())
    messages.info(request, _("Eligibility checked again for every plant of the community."))
    return redirect("plant_detail", pk=plant.pk)


@object_permission("plants.verify_plant", Plant)
@require_POST
def verify(request: HttpRequest, plant: Plant) -> HttpResponse:
    services.verify_plant(plant=plant, actor=request.user, now=timezone.now())
    messages.success(request, _("Plant marked as verified."))
    return redirect("plant_detail", pk=plant.pk)
