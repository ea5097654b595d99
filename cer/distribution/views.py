"""The distribution policy page and the yearly 55 %/45 % true-up.

The policy view parses the form and its two formsets, calls one service and renders; the
true-up view asks for a confirmation naming the amounts, then calls one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community, Configuration
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.distribution import services, true_up
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


@object_permission("settlement.run_settlement", Configuration)
def year_true_up(request: HttpRequest, configuration: Configuration, year: int) -> HttpResponse:
    year_url = reverse("settlement:year", kwargs={"pk": configuration.pk, "year": year})
    if request.method != "POST":
        # The true-up starts from the year page's button; a link to it shows that page.
        return redirect(year_url)
    try:
        if not is_confirmed(request):
            plan = true_up.plan_true_up(configuration=configuration, year=year)
            return confirmation_page(
                request,
                title=_("55 %%/45 %% true-up of %(year)s") % {"year": year},
                consequences=_true_up_consequences(plan),
                action_label=_("Apply the true-up"),
                cancel_url=year_url,
            )
        done = true_up.true_up_year(
            configuration=configuration, year=year, actor=request.user, now=timezone.now()
        )
        messages.info(
            request,
            _("The true-up of %(year)s moved %(moved)s EUR; the December statements carry it.")
            % {"year": year, "moved": done.moved_eur},
        )
    except true_up.ExcessCeilingExceeded as error:
        messages.error(
            request,
            _(
                "Refused by the policy: enterprises received %(enterprise)s EUR, above the "
                "ceiling of %(ceiling)s EUR (yearly excess %(excess)s EUR). Choose "
                "“correct” in the distribution policy to move the difference."
            )
            % {
                "enterprise": error.enterprise_eur,
                "ceiling": error.ceiling_eur,
                "excess": error.excess_eur,
            },
        )
    except (
        true_up.YearNotReady,
        true_up.NoPolicy,
        true_up.NothingChanged,
        true_up.NowhereToMove,
    ) as error:
        messages.error(request, str(error))
    return redirect(year_url)


def _true_up_consequences(plan: true_up.TrueUpPlan) -> list[str]:
    result = plan.result
    sentences = [
        _(
            "Yearly excess %(excess)s EUR; enterprises received %(enterprise)s EUR against a "
            "ceiling of %(ceiling)s EUR: %(moved)s EUR move for the year."
        )
        % {
            "excess": result.excess_eur,
            "enterprise": result.enterprise_eur,
            "ceiling": result.ceiling_eur,
            "moved": result.moved_eur,
        },
    ]
    if result.moved_to_social_eur:
        sentences.append(
            _("%(amount)s EUR go to the social pot “%(pot)s”.")
            % {"amount": result.moved_to_social_eur, "pot": plan.social_pot}
        )
    for member_id, amount in plan.additions.items():
        sentences.append(
            _("%(name)s: %(amount)s EUR on the December %(year)s statement.")
            % {"name": plan.names.get(member_id, member_id), "amount": amount, "year": plan.year}
        )
    if not plan.additions:
        sentences.append(_("No statement changes: the year is recorded as checked."))
    sentences.append(
        _(
            "The lines are added to the December statements and cannot be removed; the next "
            "payout nets them."
        )
    )
    return sentences
