"""The upload page of a community's load curves, with the report of each import.

With workers (TASKS_ON_CELERY) an upload is imported in the background and the page
sends the person to the task's page, which links back to the batch when it is done.

Zonal prices are shared by every community and are loaded by the platform staff with
the import_prices command; their batches show in the admin.
"""

from __future__ import annotations

import json
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.core.models import TaskRecord
from cer.imports import services, tasks
from cer.imports.forms import CurveUploadForm
from cer.imports.models import ImportBatch

REJECTIONS_SHOWN = 200


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def curve_upload(request: HttpRequest, community: Community) -> HttpResponse:
    form = CurveUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            outcome = tasks.request_curve_import(
                community=community,
                data=upload.read(),
                file_name=upload.name,
                now=timezone.now(),
                kind=form.cleaned_data["format"],
                mapping=form.cleaned_data["mapping"] and json.loads(form.data["mapping"]),
                # object_permission let only a logged-in manager through.
                actor=cast(User, request.user),
            )
            if isinstance(outcome, TaskRecord):  # queued for the workers: its own page
                return redirect("tasks:task", record_id=outcome.pk)
            batch = outcome
        except services.ImportRefused as refusal:
            batch = refusal.batch
            messages.error(
                request, _("The file was refused: %(reason)s") % {"reason": batch.message}
            )
        url = reverse("imports:curve_upload", kwargs={"community_id": community.pk})
        return redirect(f"{url}?batch={batch.pk}")
    batches = ImportBatch.objects.filter(community=community)
    selected = None
    if request.GET.get("batch", "").isdigit():
        selected = get_object_or_404(batches, pk=int(request.GET["batch"]))
    context = {
        "community": community,
        "form": form,
        "batches": batches[:20],
        "batch": selected,
        "rejections": selected.rejected_rows.all()[:REJECTIONS_SHOWN] if selected else [],
        "shown": REJECTIONS_SHOWN,
    }
    return render(request, "imports/curve_upload.html", context)
