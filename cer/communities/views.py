"""Pages of the web shell: the user's communities and one community's overview."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cer.access import visibility
from cer.communities.models import Community
from cer.core.access import login_only, object_permission
from cer.dashboards.periods import Period
from cer.dashboards.queries import configuration_hourly_wh
from cer.incentives.models import PriceSource, ZonalPrice
from cer.members.models import Membership
from cer.metering.services import latest_year_with_readings
from cer.plants.models import ConnectionPoint, Plant
from cer.plants.visibility import plant_rows


@login_only
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    communities = (
        visibility.communities(request.user, today=today)
        .annotate(configuration_count=Count("configurations", distinct=True))
        .select_related("seat_municipality")
    )
    return render(request, "communities/home.html", {"communities": communities})


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
        period = Period(year)
        # One winning source per point and hour, as on the dashboards.
        injected_wh, withdrawn_wh, _ = configuration_hourly_wh(point_ids=point_ids, period=period)
        chart = {
            "year": year,
            "t": period.hour_starts_s().tolist(),
            "injected_kwh": (injected_wh / 1000).round(3).tolist(),
            "withdrawn_kwh": (withdrawn_wh / 1000).round(3).tolist(),
            "injected_total_kwh": int(injected_wh.sum()) // 1000,
            "withdrawn_total_kwh": int(withdrawn_wh.sum()) // 1000,
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
        "chart": chart,
        "synthetic_prices": synthetic_prices,
    }
    return render(request, "communities/community_detail.html", context)


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
