"""The page where a logged-in user lists, creates and revokes personal access tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.accounts import tokens
from cer.accounts.forms import PersonalTokenForm
from cer.accounts.models import PersonalAccessToken
from cer.core.access import login_only


@login_only
def personal_tokens(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = PersonalTokenForm(request.POST if request.POST.get("action") == "create" else None)
    created = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token = PersonalAccessToken.objects.filter(
                owner_id=request.user.pk, pk=_int_or_zero(request.POST.get("token", ""))
            ).first()
            if token is not None and tokens.revoke_token(token=token, actor=request.user, now=now):
                messages.success(request, _("The token was revoked."))
            return redirect("tokens:list")
        if form.is_valid():
            # Rendered, not redirected: the secret must not travel through the session.
            created = tokens.create_token(
                owner=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                now=now,
                expires_at=now + dt.timedelta(days=form.cleaned_data["lifetime_days"]),
            )
            form = PersonalTokenForm()
        else:
            status = 400
    response = render(
        request,
        "accounts/personal_tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": PersonalAccessToken.objects.filter(owner_id=request.user.pk),
            "now": now,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _int_or_zero(raw: str) -> int:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else 0
