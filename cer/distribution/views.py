"""The distribution policy page: a community's rules for splitting its money, dated.

The view parses the form and its two formsets, calls one service and renders.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core.access import object_permission
from cer.distribution import services
from cer.distribution.forms import ComponentFormSet, PolicyForm, PotFormSet


@object_permission("settlement.manage_distribution", Community)
def policy_edit(request: HttpRequest, community: Community) -> HttpResponse:
    form = PolicyForm(request.POST or None, community=community)
    pots = PotFormSet(request.POST or None, prefix="pots")
    components = ComponentFormSet(request.POST or None, prefix="components")
    if request.method == "POST" and form.is_valid() and pots.is_valid() and components.is_valid():
        pot_rows = [
            {key: value for key, value in p.items() if value not in (None, "")}
            for p in pots.cleaned_data
            if p.get("code")
        ]
        component_rows = [c for c in components.cleaned_data if c.get("basis")]
        try:
            services.set_policy(
                community=community,
                valid_from=form.cleaned_data["valid_from"],
                pots=pot_rows,
                components=component_rows,
                custom_weights=form.cleaned_data["custom_weights"],
                excess_policy=form.cleaned_data["excess_policy"],
                excess_to_social_percent=form.cleaned_data["excess_to_social_percent"],
                missing_data=form.cleaned_data["missing_data"],
                actor=request.user,
                now=timezone.now(),
            )
            messages.info(request, _("The distribution policy was saved."))
            return redirect("distribution:policy", pk=community.pk)
        except services.InvalidPlan as error:
            if error.field in form.fields:
                form.add_error(error.field, error.problem)
            else:
                form.add_error(None, f"{error.field}: {error.problem}")
        except services.PolicyConflict as error:
            form.add_error("valid_from", str(error))
    policies = community.distribution_policies.prefetch_related("pots", "components")
    return render(
        request,
        "distribution/policy.html",
        {
            "community": community,
            "form": form,
            "pots": pots,
            "components": components,
            "policies": policies,
        },
    )
