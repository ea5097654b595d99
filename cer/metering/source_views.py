"""The community's choice of which reading source wins when several exist for an hour."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Community
from cer.core.access import object_permission
from cer.metering import series
from cer.metering.forms import SourceOrderForm
from cer.metering.models import ReadingSource
from cer.metering.versions import bump_readings_version


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def reading_sources(request: HttpRequest, community: Community) -> HttpResponse:
    current = series.order_of_community(community.pk)
    form = SourceOrderForm(request.POST or None, order=current)
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["order"]
        if chosen != current:
            now = timezone.now()
            with transaction.atomic():
                community.reading_source_order = ",".join(chosen)
                community.save(update_fields=["reading_source_order"])
                record(
                    actor=request.user,
                    code="communities.reading_source_order.changed",
                    now=now,
                    target=community,
                    community=community,
                    changes={"reading_source_order": [",".join(current), ",".join(chosen)]},
                )
                # Every cached figure of the community may have another winner now.
                bump_readings_version(community_ids=[community.pk], now=now)
            messages.success(
                request,
                _("Precedence saved: dashboards use it at once, settlement runs from now on."),
            )
        return redirect("metering:reading_sources", community_id=community.pk)
    labels = dict(ReadingSource.choices)
    context = {
        "community": community,
        "form": form,
        "current": [labels[code] for code in current],
    }
    return render(request, "metering/reading_sources.html", context)
