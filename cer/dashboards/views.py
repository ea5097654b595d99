"""Dashboards: a community's energy by period, one connection point's hours, a member's portal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.cache import caches
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.connection import ConnectionProxy
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core.access import login_only, object_permission
from cer.dashboards import charts, money, portal, services
from cer.dashboards.series import ratio_pct
from cer.dashboards.typical_day import community_typical_day_context, typical_day_context
from cer.members.models import Member, Membership
from cer.metering import series as readings
from cer.metering.models import ReadingSource
from cer.metering.versions import readings_version
from cer.plants.models import ConnectionPoint, Plant
from cer.plants.visibility import plant_rows
from cercalc import periods
from cercalc.periods import ROME, Period

# Each process's own memory: entries are versioned, and shared through snapshots.
cache = ConnectionProxy(caches, "local")

MAX_GAPS_LISTED = 30
MAX_POINTS_LISTED = 20


def period_from_query(text: str | None) -> Period | None:
    """Read the `period` query parameter, a year or a month; None for anything else.

    The dashboards show years and months only: a quarter falls back to the default period,
    as any other text does.
    """
    try:
        period = periods.parse(text or "")
    except ValueError:
        return None
    return period if period.is_year or period.is_month else None


def _period_options(selected: Period, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Years and their months for the selector, newest year first."""
    this_year = now.astimezone(ROME).year
    first = min(selected.start.year, this_year) - 2
    options: list[dict[str, Any]] = []
    for year in range(max(this_year, selected.start.year), first - 1, -1):
        options.append({"key": f"{year:04d}", "label": _("Whole year %(year)s") % {"year": year}})
        for month in range(12, 0, -1):
            period = periods.month(year, month)
            options.append({"key": period.key, "label": period.local_start().date()})
    return options


def period_context(period: Period, *, now: dt.datetime) -> dict[str, Any]:
    return {
        "period": period,
        "period_start": period.local_start().date(),
        "period_options": _period_options(period, now=now),
        "previous_period": period.previous(),
        "next_period": period.next(),
    }


def _labels() -> list[str]:
    return [_("Injected [kWh]"), _("Withdrawn [kWh]"), _("Shared [kWh]")]


def _kwh(value_wh: int) -> float:
    return round(value_wh / 1000, 3)


def _exact_kwh(value_wh: int) -> Decimal:
    """Integer Wh as exact kWh, for the pages to format with cer/core/formatting.py."""
    return Decimal(value_wh).scaleb(-3)


def _rows(buckets: services.Bucketed) -> list[dict[str, Any]]:
    return [
        {
            "start": dt.datetime.fromtimestamp(int(start), tz=dt.UTC).astimezone(ROME).date(),
            "injected_kwh": _exact_kwh(int(inj)),
            "withdrawn_kwh": _exact_kwh(int(wdr)),
            "shared_kwh": _exact_kwh(int(shr)),
        }
        for start, inj, wdr, shr in zip(
            buckets.label_starts_s,
            buckets.injected_wh,
            buckets.withdrawn_wh,
            buckets.shared_wh,
            strict=True,
        )
    ]


def _community_body_context(
    request: HttpRequest, community: Community, period: Period, *, now: dt.datetime, version: int
) -> dict[str, Any]:
    # The readings read for the energy figures also serve the estimate of unsettled months.
    windows: dict[int, readings.ReadingsWindow] = {}
    data = services.community_period_data(
        community=community, period=period, now=now, version=version, windows=windows
    )
    if period.is_year:
        chart = charts.community_chart(data, services.bucketed(data, by="day"))
        table = _rows(services.bucketed(data, by="month"))
    else:
        chart = charts.community_chart(data, None)
        table = _rows(services.bucketed(data, by="day"))
    chart["labels"] = _labels()
    completeness = services.completeness(data, now=now)
    plants = Plant.objects.filter(connection_point__configuration__community=community)
    worst_points = []
    if request.user.has_perm("communities.manage_community", community):
        # Per-point completeness names PODs: personal data, for the community's managers.
        listed = completeness.by_point[:MAX_POINTS_LISTED]
        pods = dict(
            ConnectionPoint.objects.filter(pk__in=[pk for pk, _, _ in listed]).values_list(
                "pk", "pod"
            )
        )
        worst_points = [
            {"pk": pk, "pod": pods.get(pk, ""), "present": present, "pct": pct}
            for pk, present, pct in listed
        ]
    figures = money.period_figures(community=community, period=period, now=now, readings=windows)
    return {
        "community": community,
        "totals": services.totals(data),
        "figures": figures,
        "totals_kwh": {
            "injected": _exact_kwh(int(data.injected_wh.sum())),
            "withdrawn": _exact_kwh(int(data.withdrawn_wh.sum())),
            # The settlement's shared energy (membership dates, plants in service), not the
            # readings' sum: the figure the statements print.
            "shared": _exact_kwh(figures.shared_wh),
        },
        "completeness": completeness,
        "worst_points": worst_points,
        "chart": chart,
        "table": table,
        **community_typical_day_context(data, now=now),
        # Counted with the figures: they follow the cache's lifetime, not the readings version.
        "member_count": Membership.objects.active_on(now.astimezone(ROME).date())
        .filter(community=community)
        .count(),
        "plant_count": plants.count(),
        "plant_power_kw": plants.aggregate(total=Sum("power_kw"))["total"],
        **period_context(period, now=now),
    }


@object_permission("communities.view_community", Community)
def community_dashboard(request: HttpRequest, community: Community) -> HttpResponse:
    now = timezone.now()
    version = readings_version(community.pk)
    period = period_from_query(request.GET.get("period")) or services.default_period(
        community=community, now=now, version=version
    )
    manager = request.user.has_perm("communities.manage_community", community)
    # The figures are the same for everyone with the same view of the same data: render
    # them once per readings version, language, role and hour, then reuse the HTML.
    key = ":".join(
        [
            "dashboards:html",
            str(community.pk),
            period.key,
            f"v{version}",
            money.money_version(community),
            get_language() or "",
            "manager" if manager else "member",
            str(services.expected_hours(period, now=now)),
            str(now.astimezone(ROME).year),
        ]
    )
    body = cache.get(key)
    if body is None:
        body = render_to_string(
            "dashboards/_community_body.html",
            _community_body_context(request, community, period, now=now, version=version),
            request=request,
        )
        cache.set(key, body, services.CACHE_SECONDS)
    context = {
        "community": community,
        "body": mark_safe(body),  # noqa: S308 (rendered by our own template above)
        "period": period,
        "period_start": period.local_start().date(),
    }
    return render(request, "dashboards/community.html", context)


def _gaps(present: np.ndarray, hour_starts_s: np.ndarray) -> list[dict[str, Any]]:
    """Return the runs of missing hours as local start and end, with their length."""
    missing = ~present
    if not missing.any():
        return []
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [
        {
            "start": dt.datetime.fromtimestamp(int(hour_starts_s[s]), tz=dt.UTC).astimezone(ROME),
            "end": dt.datetime.fromtimestamp(
                int(hour_starts_s[e - 1]) + 3600, tz=dt.UTC
            ).astimezone(ROME),
            "hours": int(e - s),
        }
        for s, e in zip(starts[:MAX_GAPS_LISTED], ends[:MAX_GAPS_LISTED], strict=True)
    ]


def _source_counts(point_series: readings.PointSeries) -> list[dict[str, Any]]:
    labels = dict(ReadingSource.choices)
    counts = np.bincount(
        point_series.source_index[point_series.present].astype(np.int64),
        minlength=len(readings.SOURCE_CODES),
    )
    return [
        {"code": code, "label": labels.get(code, code), "hours": int(counts[index])}
        for index, code in enumerate(readings.SOURCE_CODES)
        if counts[index]
    ]


@object_permission("plants.view_point_readings", ConnectionPoint)
def point_dashboard(request: HttpRequest, point: ConnectionPoint) -> HttpResponse:
    now = timezone.now()
    period = period_from_query(request.GET.get("period"))
    if period is None:
        newest = readings.latest_reading_at([point.pk])
        period = periods.month_of(min(newest, now) if newest else now)
    context = {
        "point": point,
        "community": point.configuration.community,
        # The plant behind a point may be someone else's: named only if the user may see it.
        "plants": plant_rows(
            point.plants.select_related("connection_point"),
            community_id=point.configuration.community_id,
            user=request.user,
            today=now.astimezone(ROME).date(),
        ),
        **point_readings_context(point, period=period, now=now),
        **typical_day_context(point, period=period),
        **period_context(period, now=now),
    }
    return render(request, "dashboards/point.html", context)


def point_readings_context(
    point: ConnectionPoint, *, period: Period, now: dt.datetime
) -> dict[str, Any]:
    """Chart, gaps and sources of one point over a period (also used by the plant page)."""
    point_series = readings.point_series(point_ids=[point.pk], period=period)[point.pk]
    hour_starts = period.hour_starts_s()
    expected = services.expected_hours(period, now=now)
    present_hours = int(point_series.present[:expected].sum())
    return {
        "point_chart": {
            "step": "hour",
            "t": hour_starts.tolist(),
            "series": [
                charts.kwh_with_gaps(point_series.injected_wh, point_series.present),
                charts.kwh_with_gaps(point_series.withdrawn_wh, point_series.present),
            ],
            "labels": [_("Injected [kWh]"), _("Withdrawn [kWh]")],
            "locale": charts.locale(),
        },
        "point_totals_kwh": {
            "injected": _exact_kwh(int(point_series.injected_wh.sum())),
            "withdrawn": _exact_kwh(int(point_series.withdrawn_wh.sum())),
        },
        "gaps": _gaps(point_series.present[:expected], hour_starts[:expected]),
        "sources": _source_counts(point_series),
        "source_order": " › ".join(
            str(ReadingSource(code).label)
            for code in readings.order_of_community(point.configuration.community_id)
        ),
        "present_hours": present_hours,
        # Winning readings estimated or interpolated across a gap (docs/metering.md, Gaps).
        "not_measured_hours": int(point_series.not_measured[:expected].sum()),
        "expected_hours": expected,
        "completeness_pct": ratio_pct(present_hours, expected),
    }


@login_only
def member_portal(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate()
    member = Member.objects.filter(user_id=request.user.pk or 0).first()
    memberships = (
        list(
            Membership.objects.active_on(today)
            .filter(member=member)
            .select_related("community")
            .order_by("community__name")
        )
        if member
        else []
    )
    context: dict[str, Any] = {"member": member, "memberships": memberships}
    if not memberships:
        # An applicant waiting for approval reads where their application stands.
        context["applications"] = portal.pending_applications(request.user.pk or 0)
        return render(request, "dashboards/member_portal.html", context)
    chosen = request.GET.get("community", "")
    membership = next((m for m in memberships if str(m.community_id) == chosen), memberships[0])
    community = membership.community
    period = period_from_query(request.GET.get("period")) or services.default_period(
        community=community, now=now
    )
    points = list(
        ConnectionPoint.objects.filter(holder=member, configuration__community=community)
        .select_related("configuration")
        .order_by("pod")
    )
    data = services.community_period_data(community=community, period=period, now=now)
    # The member's figures are the settlement's (or the engine's estimate for a month not
    # settled yet), over the configurations where they hold a point or own a plant.
    configuration_ids = {p.configuration_id for p in points} | set(
        Plant.objects.filter(
            owner=member, connection_point__configuration__community=community
        ).values_list("connection_point__configuration_id", flat=True)
    )
    figures = money.period_figures(
        community=community,
        period=period,
        now=now,
        configuration_ids=configuration_ids,
        with_members=True,
    )
    own = figures.member_hourly(membership.member_id)
    own_injected, own_withdrawn = own[money.INJECTED], own[money.WITHDRAWN]
    as_consumer, as_producer = own[money.AS_CONSUMER], own[money.AS_PRODUCER]
    own_series = readings.point_series(point_ids=[p.pk for p in points], period=period)
    present = np.zeros(data.hour_starts_s.size, dtype=bool)
    for point_series in own_series.values():
        present |= point_series.present
    own_shared = as_consumer + as_producer
    community_shared = money.period_figures(community=community, period=period, now=now)
    own_money = portal.member_money(
        community=community,
        member_id=membership.member_id,
        configuration_ids=configuration_ids,
        period=period,
        now=now,
    )
    context.update(
        {
            "membership": membership,
            "community": community,
            "points": points,
            "own_kwh": {
                "injected": _kwh(int(own_injected.sum())),
                "withdrawn": _kwh(int(own_withdrawn.sum())),
                "as_consumer": _kwh(int(as_consumer.sum())),
                "as_producer": _kwh(int(as_producer.sum())),
                "community_shared": _kwh(community_shared.shared_wh),
            },
            "own_wh": {
                "injected": int(own_injected.sum()),
                "withdrawn": int(own_withdrawn.sum()),
                "as_consumer": int(as_consumer.sum()),
                "as_producer": int(as_producer.sum()),
                "community_shared": community_shared.shared_wh,
            },
            # Each side on its own: the shared energy is counted once for the consumers and
            # once for the producers, so the two sides added would be twice the community's.
            "own_consumer_pct": ratio_pct(int(as_consumer.sum()), community_shared.shared_wh),
            "own_producer_pct": ratio_pct(int(as_producer.sum()), community_shared.shared_wh),
            "money": own_money,
            "communications": portal.recent_messages(
                member_id=membership.member_id, community_id=community.pk
            ),
            "estimated_months": figures.estimated_months,
            "is_producer": any(p.has_injection for p in points),
            "chart": {
                "step": "hour",
                "t": data.hour_starts_s.tolist(),
                "series": [
                    charts.kwh_with_gaps(own_injected, present),
                    charts.kwh_with_gaps(own_withdrawn, present),
                    charts.kwh(own_shared),
                ],
                "labels": [
                    _("Your injection [kWh]"),
                    _("Your withdrawal [kWh]"),
                    _("Your shared energy [kWh]"),
                ],
                "locale": charts.locale(),
            },
            **period_context(period, now=now),
        }
    )
    return render(request, "dashboards/member_portal.html", context)
