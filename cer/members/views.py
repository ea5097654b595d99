"""Inviting members, the invitee's onboarding, the manager's approval, membership history."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.communities.uniqueness import pod_problem
from cer.core.access import login_only, object_permission, public
from cer.core.confirm import confirmation_page, is_confirmed
from cer.core.validators import (
    validate_fiscal_code,
    validate_iban,
    validate_pod,
    validate_vat_number,
)
from cer.members import changes, services
from cer.members.forms import (
    ApprovalForm,
    DeclaredPointFormSet,
    EndMembershipForm,
    InviteForm,
    MembershipIbanForm,
    PersonalDataForm,
    ProfileForm,
    RegistrationForm,
)
from cer.members.models import (
    ApplicationStatus,
    ApplicationStep,
    Member,
    Membership,
    MembershipApplication,
)
from cer.privacy.forms import ConsentForm
from cer.privacy.models import Consent
from cer.privacy.services import NoPublishedNotice, current_notice, give_consents

FIELD_CHECKS: dict[str, Callable[[str], None]] = {
    "fiscal_code": validate_fiscal_code,
    "vat_number": validate_vat_number,
    "iban": validate_iban,
    "pod": validate_pod,
    "pec": validate_email,
}


@login_only
def check_field(request: HttpRequest) -> HttpResponse:
    """Answer whether one identifier is valid, with the server's own message (live checks)."""
    field = request.GET.get("field", "")
    value = request.GET.get("value", "")
    check = FIELD_CHECKS.get(field)
    if check is None or not value.strip():
        return JsonResponse({"valid": None, "message": ""})
    try:
        check(value.strip())
    except ValidationError as error:
        return JsonResponse({"valid": False, "message": " ".join(error.messages)})
    return JsonResponse({"valid": True, "message": _("Looks right.")})


# The manager's side --------------------------------------------------------------------


@object_permission("communities.manage_community", Community)
def invite(request: HttpRequest, community: Community) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    duplicate = None
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                services.invite(
                    community=community,
                    email=email,
                    actor=request.user,
                    now=timezone.now(),
                    url_for_token=lambda token: request.build_absolute_uri(
                        reverse("members:join", args=[token])
                    ),
                )
            except services.AlreadyInvited as already:
                # Offer the existing invitation's resend button rather than a second link.
                form.add_error(
                    "email",
                    _(
                        "%(email)s already has an invitation that still works: resend it "
                        "from the list below instead."
                    )
                    % {"email": already.invitation.email},
                )
                duplicate = already.invitation
            else:
                messages.success(
                    request, _("An invitation was sent to %(email)s.") % {"email": email}
                )
                return redirect("members:invite", community.pk)
        status = 400
    now = timezone.now()
    context = {
        "community": community,
        "form": form,
        "duplicate": duplicate,
        "invitations": [
            (invitation, invitation.status_at(now))
            for invitation in community.invitations.select_related("application")[:50]
        ],
        "applications": MembershipApplication.objects.filter(
            community=community, status=ApplicationStatus.SUBMITTED
        ).select_related("member"),
        "now": now,
    }
    return render(request, "members/invite.html", context, status=status)


@object_permission("communities.manage_community", MembershipApplication)
def application_detail(request: HttpRequest, application: MembershipApplication) -> HttpResponse:
    form = ApprovalForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    status = 200
    if request.method == "POST":
        now = timezone.now()
        try:
            if request.POST.get("action") == "reject":
                services.reject(application=application, actor=request.user, now=now)
                messages.info(request, _("The application was rejected."))
                return redirect("members:invite", application.community_id)
            if form.is_valid():
                services.approve(
                    application=application,
                    actor=request.user,
                    valid_from=form.cleaned_data["valid_from"],
                    now=now,
                )
                messages.success(request, _("The applicant is now a member."))
                return redirect("members:history", application.community_id)
        except services.ApplicationNotPending:
            messages.error(request, _("This application is not waiting for a decision."))
        except services.ApprovalFailed as failure:
            for error in failure.errors:
                messages.error(request, error)
        status = 400
    points = []
    configurations = {c.pk: c for c in application.community.configurations.all()}
    for declared in application.declared_points:
        # What would stop the approval, said before the referente presses the button.
        problem = pod_problem(declared["pod"], user=request.user, community=application.community)
        points.append(
            {
                **declared,
                "configuration": configurations.get(declared["configuration_id"]),
                "problem": " ".join(problem.messages) if problem is not None else "",
            }
        )
    context = {
        "application": application,
        "form": form,
        "points": points,
        "iban": changes.mask_iban(application.iban),
        "consents": Consent.objects.filter(user_id=application.user_id).order_by("purpose"),
    }
    return render(request, "members/application.html", context, status=status)


@object_permission("communities.manage_community", Community)
def history(request: HttpRequest, community: Community) -> HttpResponse:
    memberships = (
        Membership.objects.filter(community=community)
        .select_related("member")
        .order_by("member__last_name", "member__company_name", "valid_from")
    )
    return render(
        request,
        "members/history.html",
        {"community": community, "memberships": memberships, "today": timezone.localdate()},
    )


@object_permission("communities.manage_community", Membership)
def end_membership(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = EndMembershipForm(request.POST or None, initial={"valid_to": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.end_membership(
                    membership=membership,
                    valid_to=form.cleaned_data["valid_to"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except services.MembershipAlreadyEnded:
                messages.error(request, _("This membership has already ended."))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("%(name)s leaves the community.") % {"name": membership.member},
                )
                return redirect("members:history", membership.community_id)
        status = 400
    return render(
        request,
        "members/end_membership.html",
        {"membership": membership, "form": form},
        status=status,
    )


@object_permission("members.change_membership", Membership)
def membership_edit(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The community's IBAN for this membership and, unless shared, the person's data."""
    member = membership.member
    locked = not changes.may_change_shared_data(
        member=member, actor=request.user, today=timezone.localdate()
    )
    data = request.POST or None
    form = PersonalDataForm(data, instance=member, prefix="p", locked=locked)
    iban_form = MembershipIbanForm(data, membership=membership, prefix="m")
    status = 200
    if request.method == "POST":
        if _all_valid([form, iban_form]):
            if iban_form.has_new_iban() and not is_confirmed(request):
                # Payouts will go elsewhere: the manager reads where before it happens.
                return _iban_confirmation(request, membership, iban_form.cleaned_data["iban"])
            _save_changes(request, form, [iban_form])
            messages.success(request, _("The changes were saved."))
            return redirect("member_record", membership.pk)
        status = 400
    context = {"membership": membership, "form": form, "iban_form": iban_form, "locked": locked}
    return render(request, "members/membership_edit.html", context, status=status)


def _iban_confirmation(request: HttpRequest, membership: Membership, iban: str) -> HttpResponse:
    names = {
        "name": membership.member.display_name,
        "community": membership.community.name,
        "old": changes.mask_iban(membership.iban) or _("no account"),
        "new": changes.mask_iban(iban) or _("no account"),
    }
    return confirmation_page(
        request,
        title=_("Change the IBAN of %(name)s") % names,
        consequences=[
            _("From now on %(community)s pays %(name)s to %(new)s instead of %(old)s.") % names,
            _("%(name)s receives an e-mail saying who changed it and when.") % names,
            _("The change is recorded in the community's audit log."),
        ],
        action_label=_("Change the IBAN"),
        cancel_url=reverse("member_record", args=[membership.pk]),
    )


@login_only
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own data and the IBAN each of their communities pays them to."""
    member = Member.objects.filter(user_id=request.user.pk or 0).first()
    if member is None:
        return render(request, "members/profile_none.html")
    memberships = changes.memberships_for_iban(
        member=member, actor=request.user, today=timezone.localdate()
    )
    data = request.POST or None
    form = PersonalDataForm(data, instance=member, prefix="p")
    iban_forms = [MembershipIbanForm(data, membership=m, prefix=f"m{m.pk}") for m in memberships]
    status = 200
    if request.method == "POST":
        if _all_valid([form, *iban_forms]):
            _save_changes(request, form, iban_forms)
            messages.success(request, _("Your data were saved."))
            return redirect("members:profile")
        status = 400
    context = {
        "member": member,
        "form": form,
        "iban_forms": iban_forms,
        "has_errors": status == 400,
    }
    return render(request, "members/profile.html", context, status=status)


def _all_valid(forms: list) -> bool:
    # Every form is validated, so that each one shows its own errors.
    return all([form.is_valid() for form in forms])


def _save_changes(
    request: HttpRequest, form: PersonalDataForm, iban_forms: list[MembershipIbanForm]
) -> None:
    now = timezone.now()
    with transaction.atomic():
        changed = form.changes()
        if changed:
            form.save()
            changes.record_member_change(
                member=form.instance, actor=request.user, now=now, changes=changed
            )
        for iban_form in iban_forms:
            if iban_form.has_new_iban():
                changes.set_iban(
                    membership=iban_form.membership,
                    iban=iban_form.cleaned_data["iban"],
                    actor=request.user,
                    now=now,
                )


# The invitee's side --------------------------------------------------------------------


@public
def join(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    invitation = services.find_invitation(token)
    if invitation is None or not invitation.is_usable_at(now):
        # 410 rather than 404: the link existed in an email but no longer works.
        return render(request, "members/join_invalid.html", status=410)
    authenticated = request.user.is_authenticated
    form = (
        None
        if authenticated
        else RegistrationForm(request.POST or None, initial={"email": invitation.email})
    )
    status = 200
    if request.method == "POST":
        try:
            if authenticated:
                services.accept_invitation(invitation=invitation, user=request.user, now=now)
                return redirect("members:onboarding")
            if form is not None and form.is_valid():
                user, _application = services.register_with_invitation(
                    invitation=invitation,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    now=now,
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("members:onboarding")
        except services.InvitationNotUsable:
            return render(request, "members/join_invalid.html", status=410)
        status = 400
    return render(
        request,
        "members/join.html",
        {"invitation": invitation, "form": form},
        status=status,
    )


@login_only
def onboarding(request: HttpRequest) -> HttpResponse:
    application = (
        MembershipApplication.objects.filter(user_id=request.user.pk or 0)
        .filter(Q(status=ApplicationStatus.IN_PROGRESS) | Q(status=ApplicationStatus.SUBMITTED))
        .select_related("community")
        .first()
    )
    if application is None:
        return render(request, "members/onboarding_none.html")
    step = application.step
    context: dict[str, object] = {
        "application": application,
        "community": application.community,
        "steps": [(code, label, code == step) for code, label in ApplicationStep.choices],
    }
    now = timezone.now()
    status = 200
    if step == ApplicationStep.PROFILE:
        form = ProfileForm(
            request.POST or None,
            prefix="p",
            user=request.user,
            community=application.community,
            initial={
                "kind": "NATURAL",
                "category": "HOUSEHOLD",
                "email": getattr(request.user, "email", ""),
            },
        )
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.save_profile(
                        application=application,
                        member=form.save(commit=False),
                        now=now,
                        iban=form.cleaned_data["iban"],
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    return redirect("members:onboarding")
            status = 400
        context["form"] = form
    elif step == ApplicationStep.PRIVACY:
        try:
            notice = current_notice(now=now)
        except NoPublishedNotice:
            return render(request, "privacy/notice.html", {"notice": None}, status=503)
        consent_form = ConsentForm(request.POST or None, prefix="c")
        if request.method == "POST":
            if consent_form.is_valid():
                purposes = consent_form.purposes()
                give_consents(user=request.user, notice=notice, purposes=purposes, now=now)
                services.privacy_accepted(application=application)
                return redirect("members:onboarding")
            status = 400
        context.update({"form": consent_form, "notice": notice})
    elif step == ApplicationStep.POINTS:
        formset = DeclaredPointFormSet(
            request.POST or None,
            prefix="pt",
            form_kwargs={"community": application.community, "user": request.user},
        )
        if request.method == "POST":
            if request.POST.get("action") == "add_row":
                data = request.POST.copy()
                data["pt-TOTAL_FORMS"] = str(int(data.get("pt-TOTAL_FORMS") or 1) + 1)
                formset = DeclaredPointFormSet(
                    data,
                    prefix="pt",
                    form_kwargs={"community": application.community, "user": request.user},
                )
                formset.is_valid()
            elif formset.is_valid():
                services.submit_points(
                    application=application,
                    points=[form.as_declared() for form in formset.forms if form.cleaned_data],
                    now=now,
                )
                messages.success(request, _("Your application was sent to the referente."))
                return redirect("members:onboarding")
            else:
                status = 400
        context["formset"] = formset
    return render(request, f"members/onboarding_{step.lower()}.html", context, status=status)
