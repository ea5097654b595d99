"""Pages of the compliance files for a community's managers: the office holders and the
anti-mafia file with its export, and a PNRR plant's compliance checklist.

Every write goes through cer.compliance.antimafia or plant_checks; the forms only parse.
A refused input comes back on the page with the field named; ending an office and
accepting an item ask for a confirmation first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cer.communities.models import Community
from cer.compliance import antimafia, plant_checks, rules
from cer.compliance.errors import ComplianceError
from cer.compliance.forms import (
    AcceptForm,
    DeclarationForm,
    EndOfficeForm,
    EvidenceForm,
    OfficeHolderForm,
)
from cer.compliance.models import OfficeHolder
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response
from cer.plants.models import Plant

MANAGE = "communities.manage_community"
PLANT_RULE = "plants.register_plant"
_RELATIVE_FIELD = re.compile(r"^relatives\[(\d+)\]\.(\w+)$")


def _add_errors(form: forms.BaseForm, error: ComplianceError) -> None:
    """Put the service's errors on the form's fields; a family member's row on `relatives`."""
    for field, sentences in error.errors.items():
        match = _RELATIVE_FIELD.match(field)
        for sentence in sentences:
            if match and "relatives" in form.fields:
                form.add_error(
                    "relatives",
                    _("Family member %(row)d, %(field)s: %(message)s")
                    % {"row": int(match[1]) + 1, "field": match[2], "message": sentence},
                )
            elif field in form.fields:
                form.add_error(field, sentence)
            else:
                form.add_error(None, f"{field}: {sentence}")


def _submitted(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    write: Callable[[dict[str, Any]], object],
    done: str,
    back: str,
    page: Callable[..., HttpResponse],
    page_key: str,
) -> HttpResponse:
    if form.is_valid():
        try:
            write(dict(form.cleaned_data))
        except ComplianceError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(back)
    return page(status=400, **{page_key: form})


# The anti-mafia file --------------------------------------------------------------------------


def _antimafia_url(community: Community) -> str:
    return reverse("compliance:antimafia", kwargs={"pk": community.pk})


def _antimafia_page(
    request: HttpRequest, community: Community, *, status: int = 200, **bound: forms.BaseForm
) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "community": community,
        "need": antimafia.file_need(community, day=today),
        "holders": OfficeHolder.objects.filter(community=community).order_by(
            "-valid_to", "role", "full_name"
        ),
        "subjects": antimafia.subject_rows(community, day=today),
        "changes": antimafia.recent_changes(community, day=today),
        "change_days": rules.CHANGE_NOTICE_DAYS,
        "change_source": rules.CHANGE_NOTICE_SOURCE,
        "relatives_source": rules.RELATIVES_SOURCE,
        "validity_months": rules.DECLARATION_VALID_MONTHS,
        "today": today,
        "holder_form": bound.get("holder_form") or OfficeHolderForm(),
        "end_form": bound.get("end_form") or EndOfficeForm(community=community),
        "declaration_form": bound.get("declaration_form") or DeclarationForm(community=community),
    }
    return render(request, "compliance/antimafia.html", context, status=status)


@object_permission(MANAGE, Community)
@require_safe
def antimafia_file(request: HttpRequest, community: Community) -> HttpResponse:
    """When the file is needed, the office holders, the subjects and their declarations."""
    return _antimafia_page(request, community)


@object_permission(MANAGE, Community)
@require_POST
def holder_add(request: HttpRequest, community: Community) -> HttpResponse:
    form = OfficeHolderForm(request.POST)
    return _submitted(
        request,
        form,
        write=lambda data: antimafia.add_office_holder(
            community=community, actor=request.user, now=timezone.now(), **data
        ),
        done=_("Office holder recorded."),
        back=_antimafia_url(community),
        page=lambda **kw: _antimafia_page(request, community, **kw),
        page_key="holder_form",
    )


@object_permission(MANAGE, Community)
@require_POST
def holder_end(request: HttpRequest, community: Community) -> HttpResponse:
    form = EndOfficeForm(request.POST, community=community)
    if form.is_valid() and not is_confirmed(request):
        holder = form.cleaned_data["holder"]
        return confirmation_page(
            request,
            title=_("End an office"),
            consequences=[
                _(
                    "%(name)s will be recorded as out of office as %(role)s from %(day)s; "
                    "the record is kept and cannot be reopened."
                )
                % {
                    "name": holder.full_name,
                    "role": holder.get_role_display(),
                    "day": formatting.day(form.cleaned_data["valid_to"]),
                },
                _(
                    "Within %(days)d days the legal representative sends the prefect the acts "
                    "recording the change (%(source)s)."
                )
                % {"days": rules.CHANGE_NOTICE_DAYS, "source": rules.CHANGE_NOTICE_SOURCE},
            ],
            action_label=_("End the office"),
            cancel_url=_antimafia_url(community),
        )
    return _submitted(
        request,
        form,
        write=lambda data: antimafia.end_office(
            holder=data["holder"], valid_to=data["valid_to"], actor=request.user, now=timezone.now()
        ),
        done=_("Office ended."),
        back=_antimafia_url(community),
        page=lambda **kw: _antimafia_page(request, community, **kw),
        page_key="end_form",
    )


@object_permission(MANAGE, Community)
@require_POST
def declaration_add(request: HttpRequest, community: Community) -> HttpResponse:
    form = DeclarationForm(request.POST, request.FILES, community=community)
    return _submitted(
        request,
        form,
        write=lambda data: antimafia.record_declaration(
            holder=data["holder"],
            signed_date=data["signed_date"],
            relatives=data["relatives"],
            upload=data["file"],
            actor=request.user,
            now=timezone.now(),
        ),
        done=_("Declaration stored."),
        back=_antimafia_url(community),
        page=lambda **kw: _antimafia_page(request, community, **kw),
        page_key="declaration_form",
    )


@object_permission(MANAGE, Community)
@require_safe
def antimafia_export(request: HttpRequest, community: Community) -> HttpResponse:
    """The ZIP for the BDNA: the subjects' index, their family members, the declarations."""
    now = timezone.now()
    content = antimafia.export_zip(community, actor=request.user, now=now)
    return attachment_response(
        content,
        filename_stem=f"antimafia-{community.pk}-{timezone.localdate(now):%Y%m%d}",
        content_type="application/zip",
    )


# A plant's compliance checklist ---------------------------------------------------------------


def _plant_url(plant: Plant) -> str:
    return reverse("compliance:plant", kwargs={"pk": plant.pk})


def _plant_page(
    request: HttpRequest, plant: Plant, *, status: int = 200, **bound: forms.BaseForm
) -> HttpResponse:
    rows = plant_checks.checklist(plant)
    bound_form = bound.get("evidence_form")
    context = {
        "plant": plant,
        "community": plant.connection_point.configuration.community,
        "applies": plant_checks.applies_to(plant),
        "rows": [
            {
                "row": row,
                "form": bound_form
                if bound_form is not None and bound_form.data.get("code") == row.item.code
                else EvidenceForm(initial={"code": row.item.code}),
            }
            for row in rows
        ],
        "complete": plant_checks.dnsh_complete(plant),
    }
    return render(request, "compliance/plant_checklist.html", context, status=status)


@object_permission(PLANT_RULE, Plant)
@require_safe
def plant_checklist(request: HttpRequest, plant: Plant) -> HttpResponse:
    """The plant's DNSH, components and biogas/biomass items with evidence and status."""
    return _plant_page(request, plant)


@object_permission(PLANT_RULE, Plant)
@require_POST
def plant_evidence(request: HttpRequest, plant: Plant) -> HttpResponse:
    form = EvidenceForm(request.POST, request.FILES)
    return _submitted(
        request,
        form,
        write=lambda data: plant_checks.provide_evidence(
            plant=plant,
            code=data["code"],
            upload=data.get("file"),
            answer=data.get("answer") or "",
            note=data.get("note") or "",
            actor=request.user,
            now=timezone.now(),
        ),
        done=_("Evidence stored."),
        back=_plant_url(plant),
        page=lambda **kw: _plant_page(request, plant, **kw),
        page_key="evidence_form",
    )


@object_permission(PLANT_RULE, Plant)
@require_POST
def plant_accept(request: HttpRequest, plant: Plant) -> HttpResponse:
    form = AcceptForm(request.POST)
    if not form.is_valid() or form.cleaned_data["code"] not in rules.ITEMS_BY_CODE:
        messages.error(request, _("code: This item is not part of the plant's checklist."))
        return redirect(_plant_url(plant))
    item = rules.ITEMS_BY_CODE[form.cleaned_data["code"]]
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Accept the evidence"),
            consequences=[
                _(
                    "“%(item)s” of %(plant)s will be marked accepted: you state that its "
                    "evidence was checked. Only new evidence reopens it."
                )
                % {"item": item.title, "plant": plant.name}
            ],
            action_label=_("Accept"),
            cancel_url=_plant_url(plant),
        )
    try:
        plant_checks.accept(plant=plant, code=item.code, actor=request.user, now=timezone.now())
    except ComplianceError as error:
        for field, sentences in error.errors.items():
            messages.error(request, f"{field}: {' '.join(sentences)}")
    else:
        messages.success(request, _("Item accepted."))
    return redirect(_plant_url(plant))
