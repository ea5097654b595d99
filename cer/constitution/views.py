"""Pages of the constitution wizard: start or resume a draft, fill each step, constitute."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import CommunityKind, ConstitutionDraft
from cer.constitution import checklist
from cer.constitution.services import ConstitutionFailed, constitute_community
from cer.constitution.wizard import STEP_TITLES, STEPS, Wizard
from cer.core.access import login_only

FORMSET_PREFIXES = {"members": "others", "configurations": "cfg", "points": "pt"}


def step_url(step: str) -> str:
    return reverse(f"constitution:wizard_{step}")


@login_only
def wizard_start(request: HttpRequest) -> HttpResponse:
    draft = ConstitutionDraft.objects.filter(user_id=request.user.pk or 0).first()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "discard" and draft is not None:
            draft.delete()
            messages.info(request, _("The draft was discarded."))
            return redirect("constitution:wizard_start")
        if action == "start":
            if draft is None:
                ConstitutionDraft.objects.create(
                    user_id=request.user.pk or 0, step=STEPS[0], data={}, updated_at=timezone.now()
                )
                return redirect(step_url(STEPS[0]))
            return redirect(step_url(draft.step if draft.step in STEPS else STEPS[0]))
    return render(
        request,
        "constitution/wizard_start.html",
        {"draft": draft, "step_titles": [STEP_TITLES[s] for s in STEPS]},
    )


@login_only
def wizard_step(request: HttpRequest, step: str) -> HttpResponse:
    draft = ConstitutionDraft.objects.filter(user_id=request.user.pk or 0).first()
    if draft is None:
        return redirect("constitution:wizard_start")
    wizard = Wizard(draft, user=request.user, today=timezone.localdate())

    missing = wizard.first_incomplete(before=step)
    if missing is not None:
        messages.warning(request, _("Complete this step first."))
        return redirect(step_url(missing))

    forms = wizard.forms_for(step)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "next")
        now = timezone.now()
        if action == "add_row" and step in FORMSET_PREFIXES:
            wizard.add_row(step, request.POST, prefix=FORMSET_PREFIXES[step], now=now)
            return redirect(f"{step_url(step)}#row-last")
        forms = wizard.forms_for(step, request.POST)
        valid = forms.is_valid()
        if step != "review":
            wizard.store(step, request.POST, valid=valid, now=now)
        if action == "back":
            index = STEPS.index(step)
            return redirect(step_url(STEPS[max(index - 1, 0)]))
        if action == "save":
            messages.success(request, _("Draft saved: you can come back to it at any time."))
            return redirect(step_url(step))
        if valid and step != "review":
            return redirect(step_url(STEPS[STEPS.index(step) + 1]))
        if valid:
            try:
                community = constitute_community(
                    user=request.user,
                    plan=wizard.plan(forms),
                    now=now,
                    today=timezone.localdate(),
                )
            except ConstitutionFailed as failure:
                for error in failure.errors:
                    messages.error(request, error)
                status = 400
            else:
                messages.success(
                    request,
                    _("The community %(name)s is constituted: you are its referente.")
                    % {"name": community.name},
                )
                return HttpResponseRedirect(reverse("documents:archive", args=[community.pk]))
        else:
            status = 400

    requirements = wizard.requirements()
    context = {
        "step": step,
        "step_title": STEP_TITLES[step],
        "steps": [
            {
                "code": code,
                "title": STEP_TITLES[code],
                "url": step_url(code),
                "complete": code != "review" and wizard.is_complete(code),
            }
            for code in STEPS
        ],
        "step_number": STEPS.index(step) + 1,
        "step_count": len(STEPS),
        "forms": forms,
        "is_first": step == STEPS[0],
        "is_last": step == STEPS[-1],
        "formset_prefix": FORMSET_PREFIXES.get(step),
        "existing_member": wizard.existing_member,
        "requirements": requirements,
        "summary": checklist.summary(requirements),
        "draft": draft,
    }
    if step == "review":
        context["review"] = _review_summary(wizard)
    return render(request, f"constitution/wizard/{step}.html", context, status=status)


def _review_summary(wizard: Wizard) -> dict[str, object]:
    kind = wizard.stored("kind")["community"].cleaned_data
    facts = wizard.facts()
    return {
        "community": kind,
        "kind_label": CommunityKind(kind["kind"]).label,
        "members": facts.members,
        "substations": wizard.substations(),
        "points": facts.points,
        "plants": facts.plants,
        "distribution": wizard.stored("distribution")["distribution"].cleaned_data,
    }
