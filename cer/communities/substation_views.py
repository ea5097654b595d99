"""The referente's page for the distributor's list of primary substations (CSV upload)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.communities.models import Community, PrimarySubstation
from cer.communities.substation_list import SubstationListInvalid, import_substation_list
from cer.core.access import object_permission

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class SubstationListForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("List of primary substations (CSV)"),
        help_text=gettext_lazy(
            "A header line with the columns code, name and, if known, municipalities "
            "(ISTAT codes or names separated by |)."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from error


@object_permission("communities.manage_community", Community, url_kwarg="community_id")
def substation_list(request: HttpRequest, community: Community) -> HttpResponse:
    """Show the community's imported substations; import a new list, all or nothing."""
    form = SubstationListForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = import_substation_list(
                    community=community,
                    text=form.cleaned_data["file"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except SubstationListInvalid as error:
                problems = [str(problem) for problem in error.problems]
            else:
                messages.success(
                    request,
                    _("%(count)d primary substations imported; the plants were checked again.")
                    % {"count": len(outcome.substations)},
                )
                for configuration in outcome.unlisted_configurations:
                    messages.warning(
                        request,
                        _(
                            "Configuration %(name)s uses code %(code)s, which is not in the "
                            "list: correct it."
                        )
                        % {"name": configuration.name, "code": configuration.primary_substation},
                    )
                return redirect("substations", community_id=community.pk)
        status = 400
    substations = PrimarySubstation.objects.filter(community=community).prefetch_related(
        "municipalities"
    )
    context = {
        "community": community,
        "form": form,
        "problems": problems,
        "substations": substations,
    }
    return render(request, "communities/substations.html", context, status=status)
