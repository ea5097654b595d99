"""The referente's alerts: the list of a community's alerts, filters, and acknowledging one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cer.access import visibility
from cer.alerts.explain import explain
from cer.alerts.models import LIVE_STATES, Alert, AlertRule, AlertState
from cer.alerts.services import AlertNotLive, acknowledge
from cer.communities.models import Community
from cer.core.access import login_only, object_permission

PAGE_SIZE = 25


@login_only
def alert_index(request: HttpRequest) -> HttpResponse:
    """The communities the user manages, with their open alerts; straight to the only one."""
    communities = list(
        visibility.managed_communities(request.user, today=timezone.localdate())
        .annotate(live=Count("alerts", filter=Q(alerts__state__in=LIVE_STATES)))
        .order_by("name")
    )
    if len(communities) == 1:
        return redirect("alerts:list", communities[0].pk)
    return render(request, "alerts/index.html", {"communities": communities})


@object_permission("communities.manage_community", Community)
def alert_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's alerts, open first, filtered by rule and state, a page at a time."""
    rule = request.GET.get("rule", "")
    state = request.GET.get("state", "")
    alerts = Alert.objects.filter(community=community)
    if rule in AlertRule.values:
        alerts = alerts.filter(rule=rule)
    if state in AlertState.values:
        alerts = alerts.filter(state=state)
    elif state != "all":
        state = ""
        alerts = alerts.filter(state__in=LIVE_STATES)
    alerts = alerts.annotate(
        live_first=Case(
            When(state=AlertState.OPEN, then=Value(0)),
            When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("live_first", "-opened_at", "-pk")
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "community": community,
        "page": page,
        "rows": [(alert, explain(alert.rule, alert.figures)) for alert in page],
        "rules": AlertRule.choices,
        "states": AlertState.choices,
        "filters": {"rule": rule, "state": state},
        "query": query.urlencode(),
    }
    return render(request, "alerts/list.html", context)


@object_permission("communities.manage_community", Community)
@require_POST
def alert_acknowledge(request: HttpRequest, community: Community) -> HttpResponse:
    """Acknowledge one open alert of the community (the `alert` field names it); audited."""
    alert = get_object_or_404(Alert, pk=request.POST.get("alert") or 0, community=community)
    try:
        acknowledge(alert=alert, actor=request.user, now=timezone.now())
        messages.success(request, _("Alert acknowledged: it closes when its condition clears."))
    except AlertNotLive:
        messages.error(request, _("This alert is not open any more."))
    return redirect("alerts:list", community.pk)
