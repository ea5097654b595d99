"""The managers' plant records: correcting a plant and changing a point's POD code.

Both writes go through the services the API calls (change_plant, change_pod), so the
eligibility checks rerun on save and every change is audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.core.access import object_permission
from cer.plants import points, services
from cer.plants.forms import PlantEditForm, PodChangeForm
from cer.plants.models import ConnectionPoint, EligibilityStatus, Plant


@object_permission("plants.change_plant", Plant)
def plant_edit(request: HttpRequest, plant: Plant) -> HttpResponse:
    """Correct a plant's data; the community's plants are checked again on save."""
    # The form works on its own copy: change_plant compares with the plant as stored.
    form = PlantEditForm(request.POST or None, instance=Plant.objects.get(pk=plant.pk))
    community = plant.connection_point.configuration.community
    status = 200
    if request.method == "POST":
        if form.is_valid():
            before = plant.eligibility_status
            try:
                changed = services.change_plant(
                    plant=plant, values=form.values(), actor=request.user, now=timezone.now()
                )
            except services.PlantNotInCommunity:
                form.add_error(None, _("The owner is not a member of the plant's community."))
            else:
                _tell_outcome(request, changed, before=before)
                return redirect("plant_detail", pk=plant.pk)
        status = 400
    context = {"plant": plant, "community": community, "form": form}
    return render(request, "plants/plant_edit.html", context, status=status)


def _tell_outcome(request: HttpRequest, plant: Plant, *, before: str) -> None:
    if plant.eligibility_status == EligibilityStatus.ELIGIBLE:
        messages.success(request, _("Changes saved: the plant meets every rule checked."))
        return
    text = _("Changes saved. Eligibility checked again: “%(status)s”, see the checks below.") % {
        "status": plant.get_eligibility_status_display()
    }
    if plant.eligibility_status != before:
        messages.warning(request, text)
    else:
        messages.info(request, text)


@object_permission("plants.change_connection_point", ConnectionPoint)
def pod_change(request: HttpRequest, point: ConnectionPoint) -> HttpResponse:
    """Give the point a new POD code from a date; the earlier codes stay listed."""
    form = PodChangeForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                points.change_pod(
                    point=point,
                    new_pod=form.cleaned_data["new_pod"],
                    valid_from=form.cleaned_data["valid_from"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except ValidationError as error:
                for field, texts in error.message_dict.items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                messages.success(request, _("The POD code is now %(pod)s.") % {"pod": point.pod})
                return redirect("plants:pod_change", point.pk)
        status = 400
    context = {
        "point": point,
        "community": point.configuration.community,
        "form": form,
        "changes": point.pod_changes.select_related("changed_by").order_by("-valid_from", "-pk"),
    }
    return render(request, "plants/pod_change.html", context, status=status)
