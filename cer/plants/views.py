"""Plant pages: the community's plants, registration with eligibility checks, verification."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.dashboards.periods import month_of, parse_period
from cer.dashboards.queries import latest_reading_at
from cer.dashboards.views import period_context, point_readings_context
from cer.plants import eligibility, services
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
            return redirect("plants:plant_detail", pk=plant.pk)
    return render(request, "plants/register.html", {"community": community, "form": form})


@object_permission("communities.view_community", Plant)
def plant_detail(request: HttpRequest, plant: Plant) -> HttpResponse:
    now = timezone.now()
    point = plant.connection_point
    community = point.configuration.community
    checks = [
        {
            "result": result,
            "title": eligibility.RULE_TITLES[result.rule],
            "text": eligibility.explain(result),
        }
        for result in services.stored_results(plant)
    ]
    (row,) = plant_rows(
        [plant], community_id=community.pk, user=request.user, today=timezone.localdate()
    )
    context = {
        "plant": plant,
        "row": row,
        "point": point,
        "community": community,
        "checks": checks,
        "can_check": request.user.has_perm("plants.register_plant", plant),
        "can_verify": request.user.has_perm("plants.verify_plant", plant),
        "can_see_owner": request.user.has_perm("members.view_member_details", plant.owner),
        "can_see_readings": request.user.has_perm("plants.view_point_readings", point),
    }
    if context["can_see_readings"]:
        period = parse_period(request.GET.get("period"))
        if period is None:
            newest = latest_reading_at([point.pk])
            period = month_of(min(newest, now) if newest else now)
        context.update(period_context(period, now=now))
        context.update(point_readings_context(point, period=period, now=now))
    return render(request, "plants/plant_detail.html", context)


@object_permission("plants.register_plant", Plant)
@require_POST
def check_again(request: HttpRequest, plant: Plant) -> HttpResponse:
    community = plant.connection_point.configuration.community
    services.check_community_plants(community=community, actor=request.user, now=timezone.now())
    messages.info(request, _("Eligibility checked again for every plant of the community."))
    return redirect("plants:plant_detail", pk=plant.pk)


@object_permission("plants.verify_plant", Plant)
@require_POST
def verify(request: HttpRequest, plant: Plant) -> HttpResponse:
    services.verify_plant(plant=plant, actor=request.user, now=timezone.now())
    messages.success(request, _("Plant marked as verified."))
    return redirect("plants:plant_detail", pk=plant.pk)
