"""The home page of the web shell: the communities the user may see.

One community's overview, which draws its readings, is cer.dashboards.overviews.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cer.access import visibility
from cer.core.access import login_only


@login_only
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    communities = (
        visibility.communities(request.user, today=today)
        .annotate(configuration_count=Count("configurations", distinct=True))
        .select_related("seat_municipality")
    )
    return render(request, "communities/home.html", {"communities": communities})
