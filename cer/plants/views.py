"""Plant pages: the community's plants, registration with eligibility checks, verification.

One plant's page, which draws its point's readings, is cer.dashboards.overviews.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.plants import services
from cer.plants.forms import PlantRegistrationForm
from cer.plants.models import Plant
from cer.plants.visibility import plant_rows


@object_permission("communities.view_community", Community)
def plant_list(request: HttpRequest, community: Community) -> HttpResponse:
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
    context = {
        "community": community,
        "plants": rows,
        "can_register": request.user.has_perm("plants.register_plant", community),
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
