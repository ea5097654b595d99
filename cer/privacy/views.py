"""The privacy notice, readable by anyone, and a user's own consents."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.core.access import login_only, public
from cer.privacy.forms import ConsentForm
from cer.privacy.models import Consent
from cer.privacy.services import (
    NoPublishedNotice,
    active_purposes,
    current_notice,
    give_consents,
    withdraw_consent,
)


@public
def notice(request: HttpRequest) -> HttpResponse:
    try:
        published = current_notice(now=timezone.now())
    except NoPublishedNotice:
        published = None
    return render(request, "privacy/notice.html", {"notice": published})


@login_only
def consents(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    try:
        published = current_notice(now=now)
    except NoPublishedNotice:
        return render(request, "privacy/notice.html", {"notice": None})
    active = active_purposes(request.user)
    form = ConsentForm(
        request.POST if request.POST.get("action") == "give" else None,
        initial={purpose.lower(): True for purpose in active},
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            if withdraw_consent(
                user=request.user, purpose=request.POST.get("purpose", ""), now=now
            ):
                messages.success(request, _("Your consent was withdrawn."))
            return redirect("privacy:consents")
        if form.is_valid():
            give_consents(user=request.user, notice=published, purposes=form.purposes(), now=now)
            messages.success(request, _("Your choices were recorded."))
            return redirect("privacy:consents")
        status = 400
    history = Consent.objects.filter(user_id=request.user.pk or 0).select_related("notice")
    return render(
        request,
        "privacy/consents.html",
        {"notice": published, "form": form, "history": history},
        status=status,
    )
