"""Pages of the PNRR grant file for the referente: the community's files, one plant's file
with its checks, deadlines, cost items, phases and other grants, and the submission ZIP.

Every write goes through cer.grants.services or cer.grants.phases; the forms only parse.
A refused input comes back on the file page, the field named with its rule.
"""

from __future__ import annotations

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
from cer.core import formatting
from cer.core.access import object_permission
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.downloads import attachment_response
from cer.grants import checks, export, phases, services
from cer.grants.forms import (
    ApplicationForm,
    CostItemForm,
    DecisionForm,
    DisbursementForm,
    ExpenseDocumentForm,
    OtherGrantForm,
    PhaseStateForm,
    RemoveCostItemForm,
    SubmitForm,
)
from cer.grants.models import GrantApplication, OtherGrant
from cer.plants.models import Plant

PERMISSION = "plants.register_plant"


@object_permission(PERMISSION, Community)
@require_safe
def application_list(request: HttpRequest, community: Community) -> HttpResponse:
    """The community's plants with their PNRR file, if any, its state and amounts."""
    plants = Plant.objects.filter(connection_point__configuration__community=community).order_by(
        "name", "pk"
    )
    files = {
        application.plant_id: application
        for application in GrantApplication.objects.filter(plant__in=plants)
    }
    rows = [
        {
            "plant": plant,
            "application": files.get(plant.pk),
            "received": _received(files.get(plant.pk)),
        }
        for plant in plants
    ]
    return render(request, "grants/application_list.html", {"community": community, "rows": rows})


def _received(application: GrantApplication | None) -> Any:
    return phases.received_total_eur(application) if application is not None else None


def _file_url(plant: Plant) -> str:
    return reverse("grants:file", kwargs={"pk": plant.pk})


def _application(plant: Plant) -> GrantApplication | None:
    return GrantApplication.objects.filter(plant=plant).first()


def _add_errors(form: forms.BaseForm, error: services.GrantError) -> None:
    for field, sentences in error.errors.items():
        target = field if field in form.fields else None
        for sentence in sentences:
            form.add_error(target, f"{field}: {sentence}" if target is None else sentence)


def _submitted(
    request: HttpRequest,
    plant: Plant,
    form: forms.BaseForm,
    *,
    page_key: str,
    write: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Run `write(cleaned data)` for a valid form; on success say `done` and go back to the file.

    A form that is not valid, or refused by the service (its errors put on the form's
    fields), comes back on the file page under `page_key`, with status 400.
    """
    if form.is_valid():
        try:
            write(dict(form.cleaned_data))
        except services.GrantError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(_file_url(plant))
    return _file_page(request, plant, status=400, **{page_key: form})


def _file_page(
    request: HttpRequest, plant: Plant, *, status: int = 200, **bound: forms.BaseForm
) -> HttpResponse:
    application = _application(plant)
    today = timezone.localdate()
    context: dict[str, Any] = {"plant": plant, "application": application}
    context["community"] = plant.connection_point.configuration.community
    if application is not None:
        results = checks.check_application(application, today=today)
        maximum = checks.maximum_grant(application, today=today)
        cap = checks.cost_cap_eur(application, today=today)
        context.update(
            checks=results,
            blocking=checks.blocking_failures(results),
            deadlines=checks.deadlines(application, today=today),
            maximum=maximum,
            cap=cap,
            cost_items=application.cost_items.prefetch_related("other_grants"),
            phases=application.disbursements.prefetch_related("documents__cost_item"),
            received=phases.received_total_eur(application),
            application_form=bound.get("application_form") or ApplicationForm(instance=application),
            cost_form=bound.get("cost_form") or CostItemForm(),
            remove_form=RemoveCostItemForm(application=application),
            submit_form=bound.get("submit_form") or SubmitForm(),
            decision_form=bound.get("decision_form") or DecisionForm(),
            phase_form=bound.get("phase_form") or DisbursementForm(),
            document_form=bound.get("document_form")
            or ExpenseDocumentForm(application=application),
            state_form=bound.get("state_form") or PhaseStateForm(application=application),
        )
    context["other_grants"] = OtherGrant.objects.filter(plant=plant).prefetch_related("cost_items")
    context["other_form"] = bound.get("other_form") or OtherGrantForm(application=application)
    return render(request, "grants/application_file.html", context, status=status)


@object_permission(PERMISSION, Plant)
def application_file(request: HttpRequest, plant: Plant) -> HttpResponse:
    """The plant's file; a POST opens it when there is none."""
    if request.method == "POST":
        try:
            services.open_application(plant=plant, actor=request.user, now=timezone.now())
        except services.GrantError as error:
            messages.error(request, str(error))
        return redirect(_file_url(plant))
    return _file_page(request, plant)


def _need_application(plant: Plant) -> GrantApplication:
    application = _application(plant)
    if application is None:
        raise services.GrantError({"plant": [_("Open the PNRR file first.")]})
    return application


@object_permission(PERMISSION, Plant)
@require_POST
def edit(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    form = ApplicationForm(request.POST, instance=GrantApplication.objects.get(pk=application.pk))
    return _submitted(
        request,
        plant,
        form,
        page_key="application_form",
        write=lambda _data: services.change_application(
            application=application, values=form.values(), actor=request.user, now=timezone.now()
        ),
        done=_("Application saved."),
    )


@object_permission(PERMISSION, Plant)
@require_POST
def cost_items(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    if "remove" in request.POST:
        remove = RemoveCostItemForm(request.POST, application=application)
        if remove.is_valid():
            try:
                services.remove_cost_item(
                    item=remove.cleaned_data["item"], actor=request.user, now=timezone.now()
                )
            except services.GrantError as error:
                messages.error(request, str(error))
        return redirect(_file_url(plant))
    return _submitted(
        request,
        plant,
        CostItemForm(request.POST),
        page_key="cost_form",
        write=lambda data: services.add_cost_item(
            application=application, **data, actor=request.user, now=timezone.now()
        ),
        done=_("Cost item added."),
    )


@object_permission(PERMISSION, Plant)
@require_POST
def ready(request: HttpRequest, plant: Plant) -> HttpResponse:
    try:
        services.mark_ready(
            application=_need_application(plant), actor=request.user, now=timezone.now()
        )
    except services.GrantError as error:
        for field, sentences in error.errors.items():
            for sentence in sentences:
                messages.error(request, f"{_label(field)} — {sentence}")
    else:
        messages.success(request, _("Every check passed: the file is ready to submit."))
    return redirect(_file_url(plant))


def _label(field: str) -> str:
    try:
        return str(GrantApplication._meta.get_field(field).verbose_name)  # type: ignore[union-attr]
    except Exception:  # a name that is not a model field, e.g. "cost_items"
        return field.replace("_", " ")


@object_permission(PERMISSION, Plant)
@require_POST
def submit(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _file_page(request, plant, status=400, submit_form=form)
    if not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Submit the PNRR application"),
            consequences=[
                _(
                    "The application for %(plant)s, asking %(amount)s, is recorded as submitted "
                    "to GSE; its data can no longer change."
                )
                % {
                    "plant": plant.name,
                    "amount": formatting.eur(application.requested_grant_eur or 0),
                }
            ],
            action_label=_("Submit"),
            cancel_url=_file_url(plant),
        )
    try:
        services.submit(
            application=application,
            gse_reference=form.cleaned_data["gse_reference"],
            actor=request.user,
            now=timezone.now(),
        )
    except services.GrantError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Application recorded as submitted."))
    return redirect(_file_url(plant))


@object_permission(PERMISSION, Plant)
@require_POST
def decision(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _file_page(request, plant, status=400, decision_form=form)
    granted = form.cleaned_data["granted_eur"]
    if not is_confirmed(request):
        if granted is not None:
            sentence = _(
                "The grant of %(amount)s is recorded and the plant's grant share is updated: "
                "the next settlement applies the reduced tariff (factor F)."
            ) % {"amount": formatting.eur(granted)}
        else:
            sentence = _("The application is recorded as refused.")
        return confirmation_page(
            request,
            title=_("Record GSE's decision"),
            consequences=[sentence],
            action_label=_("Record the decision"),
            cancel_url=_file_url(plant),
        )
    try:
        services.decide(
            application=application,
            granted_eur=granted,
            refusal_reason=form.cleaned_data["refusal_reason"],
            actor=request.user,
            now=timezone.now(),
        )
    except services.GrantError as error:
        _add_errors(form, error)
        return _file_page(request, plant, status=400, decision_form=form)
    messages.success(request, _("Decision recorded."))
    return redirect(_file_url(plant))


@object_permission(PERMISSION, Plant)
@require_safe
def download(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        messages.info(request, _("Open the PNRR file first."))
        return redirect(_file_url(plant))
    content = export.submission_zip(application, today=timezone.localdate())
    return attachment_response(
        content, filename_stem=f"pnrr-{plant.pk}", content_type="application/zip"
    )


@object_permission(PERMISSION, Plant)
@require_POST
def phase_create(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    return _submitted(
        request,
        plant,
        DisbursementForm(request.POST, request.FILES),
        page_key="phase_form",
        write=lambda data: phases.create_disbursement(
            application=application, **data, actor=request.user, now=timezone.now()
        ),
        done=_("Disbursement request opened."),
    )


@object_permission(PERMISSION, Plant)
@require_POST
def document_add(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))

    def write(data: dict[str, Any]) -> object:
        phase, item, upload = data.pop("request"), data.pop("cost_item"), data.pop("file")
        return phases.add_expense_document(
            request=phase,
            cost_item=item,
            values=data,
            upload=upload,
            actor=request.user,
            now=timezone.now(),
        )

    return _submitted(
        request,
        plant,
        ExpenseDocumentForm(request.POST, request.FILES, application=application),
        page_key="document_form",
        write=write,
        done=_("Document added."),
    )


@object_permission(PERMISSION, Plant)
@require_POST
def phase_state(request: HttpRequest, plant: Plant) -> HttpResponse:
    application = _application(plant)
    if application is None:
        return redirect(_file_url(plant))
    form = PhaseStateForm(request.POST, application=application)
    if not form.is_valid():
        return _file_page(request, plant, status=400, state_form=form)
    phase, action = form.cleaned_data["request"], form.cleaned_data["action"]
    if action == "send" and not is_confirmed(request):
        return confirmation_page(
            request,
            title=_("Send the disbursement request"),
            consequences=[
                _("%(phase)s asking %(amount)s is recorded as sent to GSE; it cannot change.")
                % {"phase": str(phase), "amount": formatting.eur(phase.requested_eur)}
            ],
            action_label=_("Send"),
            cancel_url=_file_url(plant),
        )
    now = timezone.now()
    try:
        if action == "send":
            phases.send_disbursement(request=phase, actor=request.user, now=now)
        elif action == "paid":
            phases.record_payment(
                request=phase,
                received_eur=form.cleaned_data["received_eur"],
                received_date=form.cleaned_data["received_date"],
                actor=request.user,
                now=now,
            )
        else:
            phases.reject_disbursement(
                request=phase, reason=form.cleaned_data["reason"], actor=request.user, now=now
            )
    except services.GrantError as error:
        _add_errors(form, error)
        return _file_page(request, plant, status=400, state_form=form)
    messages.success(request, _("Request updated."))
    return redirect(_file_url(plant))


@object_permission(PERMISSION, Plant)
@require_POST
def other_grant(request: HttpRequest, plant: Plant) -> HttpResponse:
    return _submitted(
        request,
        plant,
        OtherGrantForm(request.POST, application=_application(plant)),
        page_key="other_form",
        write=lambda data: services.add_other_grant(
            plant=plant, **data, actor=request.user, now=timezone.now()
        ),
        done=_("Other grant recorded."),
    )
