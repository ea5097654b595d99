"""Overview pages of a community and of a plant: the noun's facts beside its readings.

They live here rather than in communities and plants because they draw readings (the
community's year, hour by hour; the plant's point over a period): the nouns' apps know
nothing of readings. Their paths and URL names are the ones they always had
(cer/dashboards/overview_urls.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cer.communities.models import Community
from cer.compliance import plant_checks
from cer.core.access import object_permission
from cer.dashboards import charts
from cer.dashboards.views import period_context, period_from_query, point_readings_context
from cer.incentives.models import PriceSource, ZonalPrice
from cer.members.models import ApplicationStatus, Membership, MembershipApplication
from cer.metering.series import (
    configuration_hourly_wh,
    latest_reading_at,
    latest_year_with_readings,
)
from cer.plants import eligibility, services
from cer.plants.models import ConnectionPoint, EligibilityStatus, Plant
from cer.plants.visibility import plant_rows
from cercalc import periods


@object_permission("communities.view_community", Community)
def community_detail(request: HttpRequest, community: Community) -> HttpResponse:
    today = timezone.localdate()
    role = _role_in(request.user, community, today=today)
    manager = request.user.has_perm("communities.manage_community", community)

    memberships = (
        Membership.objects.active_on(today)
        .filter(community=community)
        .select_related("member", "member__municipality")
        .order_by("member__last_name", "member__company_name")
    )
    points = ConnectionPoint.objects.filter(configuration__community=community)
    if not manager:
        # A member sees the community's aggregates and only their own personal data.
        user_id = request.user.pk or 0  # logged in: never None here
        memberships = memberships.filter(member__user_id=user_id)
        visible_points = points.filter(holder__user_id=user_id)
    else:
        visible_points = points
    plants = Plant.objects.filter(connection_point__configuration__community=community)

    point_ids = list(points.values_list("pk", flat=True))
    year = latest_year_with_readings(point_ids)
    chart = None
    if year is not None:
        period = periods.year(year)
        # One winning source per point and hour, as on the dashboards.
        injected_wh, withdrawn_wh, _ = configuration_hourly_wh(point_ids=point_ids, period=period)
        chart = {
            "year": year,
            "t": period.hour_starts_s().tolist(),
            "injected_kwh": (injected_wh / 1000).round(3).tolist(),
            "withdrawn_kwh": (withdrawn_wh / 1000).round(3).tolist(),
            # Exact kWh, shown through cer/core/formatting.py.
            "injected_total_kwh": Decimal(int(injected_wh.sum())).scaleb(-3),
            "withdrawn_total_kwh": Decimal(int(withdrawn_wh.sum())).scaleb(-3),
            "locale": charts.locale(),
        }
    zones = community.configurations.values_list("market_zone", flat=True)
    synthetic_prices = ZonalPrice.objects.filter(
        market_zone__in=list(zones), source=PriceSource.SYNTHETIC
    ).exists()

    context = {
        "community": community,
        "role": role,
        "manager": manager,
        "configurations": community.configurations.all(),
        "memberships": memberships,
        "member_count": Membership.objects.active_on(today).filter(community=community).count(),
        "points": visible_points.select_related("holder", "configuration"),
        # Other members' plants by a neutral label, without name or POD (as in the API).
        "plants": plant_rows(
            plants.select_related("connection_point"),
            community_id=community.pk,
            user=request.user,
            today=today,
        ),
        "plant_power_kw": plants.aggregate(total=Sum("power_kw"))["total"],
        # The managers' summary: the records themselves are the members' and plants' lists.
        "point_count": points.count() if manager else None,
        "pending_applications": MembershipApplication.objects.filter(
            community=community, status=ApplicationStatus.SUBMITTED
        ).count()
        if manager
        else 0,
        "plants_to_check": plants.filter(
            eligibility_status__in=[EligibilityStatus.TO_CHECK, EligibilityStatus.NOT_ELIGIBLE]
        ).count()
        if manager
        else 0,
        "chart": chart,
        "synthetic_prices": synthetic_prices,
    }
    return render(request, "dashboards/community_detail.html", context)


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
        "can_edit": request.user.has_perm("plants.change_plant", plant),
        "can_see_owner": request.user.has_perm("members.view_member_details", plant.owner),
        "can_see_readings": request.user.has_perm("plants.view_point_readings", point),
    }
    # A PNRR plant's compliance items (DNSH, components, biogas/biomass) beside its checks.
    if context["can_check"] and plant_checks.applies_to(plant):
        context["compliance"] = {
            "rows": plant_checks.checklist(plant),
            "complete": plant_checks.dnsh_complete(plant),
        }
    if context["can_see_readings"]:
        period = period_from_query(request.GET.get("period"))
        if period is None:
            newest = latest_reading_at([point.pk])
            period = periods.month_of(min(newest, now) if newest else now)
        context.update(period_context(period, now=now))
        context.update(point_readings_context(point, period=period, now=now))
    return render(request, "dashboards/plant_detail.html", context)


def _role_in(user: Any, community: Community, *, today: dt.date) -> str | None:
    """Return the user's role code in `community` on `today`, or None for an outsider."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.active_on(today)
        .filter(member__user=user, community=community)
        .order_by("role")
        .first()
    )
    return membership.role if membership else None
