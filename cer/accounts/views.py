"""The web login in two steps (password, then the code), logout, the second factor page
and the password change: the same service and lockout as the API login."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from cer.accounts import login, second_factor
from cer.accounts.forms import CodeForm, PasswordStepForm
from cer.accounts.policy import has_second_factor, privilege_fingerprint, second_factor_required
from cer.accounts.revocation import revoke_everything
from cer.audit.services import record
from cer.core.access import login_only, public
from cer.core.net import client_ip

PENDING_KEY = "accounts.pending_login"
PRIVILEGES_KEY = "accounts.privileges"
# Where a person sent to set up the second factor was going.
AFTER_SECOND_FACTOR_KEY = "accounts.after_second_factor"
# Set by a login that was itself strong authentication (SPID or CIE at level 2 or more,
# cer.eid): such a session counts as having passed the second factor.
STRONG_LOGIN_KEY = "accounts.strong_login"
# The code must follow the password within this time, or the login starts over.
PENDING_LIFETIME = dt.timedelta(minutes=5)
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request: HttpRequest, raw: str) -> str:
    if raw and url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return raw
    return reverse("home")


def safe_next_url(request: HttpRequest, raw: str) -> str:
    """Where to go after a login: `raw` when it is on this site, else the home page."""
    return _next_url(request, raw)


def passed_strong_authentication(request: HttpRequest) -> bool:
    """Whether the session passed the second factor, or began with a strong login."""
    verified = bool(getattr(request.user, "is_verified", lambda: False)())
    return verified or bool(request.session.get(STRONG_LOGIN_KEY))


def _locked_message(locked: login.LoginLockedOut) -> str:
    minutes = max(1, -(-locked.retry_after // 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute, or ask the platform "
        "administrator to unlock your account.",
        "Too many failed attempts. Try again in %(minutes)d minutes, or ask the platform "
        "administrator to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def complete_login(request: HttpRequest, user: Any, device: Any) -> None:
    """Start the session (a new key: Django cycles it) and note the privileges it has."""
    login.succeeded(user=user, ip_address=client_ip(request), now=timezone.now())
    if device is not None:
        user.otp_device = device  # django-otp stores it in the session at login
    django_login(request, user, backend=BACKEND)
    request.session[PRIVILEGES_KEY] = privilege_fingerprint(user)


@public
@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next", "")
    form = PasswordStepForm(request.POST or None)
    error, status, retry_after = "", 200, 0
    if request.method == "POST" and form.is_valid():
        try:
            user = login.check_password(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip_address=client_ip(request),
                now=timezone.now(),
            )
        except login.LoginLockedOut as locked:
            error, status, retry_after = _locked_message(locked), 429, locked.retry_after
        except login.LoginRefused:
            error = _("Wrong username or password. Please try again.")
        else:
            if login.needs_code(user):
                request.session.cycle_key()
                request.session[PENDING_KEY] = {
                    "user": user.pk,
                    "at": timezone.now().isoformat(),
                    "next": next_url,
                }
                return redirect("login-code")
            complete_login(request, user, device=None)
            if second_factor_required(user):
                request.session[AFTER_SECOND_FACTOR_KEY] = next_url
                return redirect("accounts:second-factor")
            return redirect(_next_url(request, next_url))
    elif request.method == "POST":
        error = _("Wrong username or password. Please try again.")
    response = render(
        request,
        "registration/login.html",
        {"form": form, "error": error, "next": next_url},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _pending_user(request: HttpRequest) -> tuple[Any, str] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    started = dt.datetime.fromisoformat(pending.get("at", "1970-01-01T00:00:00+00:00"))
    if timezone.now() - started > PENDING_LIFETIME:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    return (user, pending.get("next", "")) if user is not None else None


@public
@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    found = _pending_user(request)
    if found is None:
        # No password step in the last minutes: nothing to confirm, start again.
        return render(request, "accounts/login_code.html", {"expired": True})
    user, next_url = found
    form = CodeForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            device = login.check_second_factor(
                user=user,
                otp=form.cleaned_data["otp"],
                ip_address=client_ip(request),
                now=timezone.now(),
            )
        except login.LoginLockedOut as locked:
            request.session.pop(PENDING_KEY, None)
            error, status = _locked_message(locked), 429
        except login.SecondFactorRequired:
            error = _("The code is wrong or expired.")
        else:
            request.session.pop(PENDING_KEY, None)
            complete_login(request, user, device)
            return redirect(_next_url(request, next_url))
    return render(
        request,
        "accounts/login_code.html",
        {"form": form, "error": error, "demo_code": demo_code_hint(user)},
        status=status,
    )


def demo_code_hint(user: Any) -> str:
    """The current code of a demo login's published key, shown only while DEBUG is on."""
    from django.conf import settings

    return second_factor.demo_code(user) if settings.DEBUG else ""


@public
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST ends the session (and a half-done login); GET only asks for confirmation."""
    if request.method == "POST":
        django_logout(request)  # flushes the session: a new key, no data
        messages.success(request, _("You are logged out."))
        return redirect("login")
    return render(request, "accounts/logout.html")


def _is_verified(request: HttpRequest) -> bool:
    """Whether the session passed the second factor (django-otp's middleware tells)."""
    return bool(getattr(request.user, "is_verified", lambda: False)())


@login_only
@never_cache
def second_factor_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    context: dict[str, Any] = {"required": second_factor_required(user)}
    status = 200
    if action == "confirm":
        confirmed = second_factor.confirm_authenticator(
            user=user, otp=request.POST.get("otp", ""), now=now
        )
        if confirmed is not None:
            device, codes = confirmed
            request.session.cycle_key()
            otp_login(request, device)
            context["recovery_codes"] = codes
            context["continue_url"] = _next_url(
                request, request.session.pop(AFTER_SECOND_FACTOR_KEY, "")
            )
            messages.success(request, _("Your authenticator app is set up."))
        else:
            context["code_error"] = _("The code is wrong or expired.")
            status = 400
    elif action == "recovery" and _is_verified(request):
        context["recovery_codes"] = second_factor.regenerate_recovery_codes(user=user, now=now)
    elif action == "remove" and _is_verified(request) and not context["required"]:
        second_factor.remove(user=user, actor=user, now=now, reason="by the user")
        messages.success(request, _("The second factor is removed."))
        return redirect("accounts:second-factor")
    context["active"] = has_second_factor(user)
    if not context["active"]:
        device = second_factor.pending_authenticator(user)
        context["key"] = second_factor.readable_key(device)
        context["qr_svg"] = mark_safe(second_factor.qr_svg(device))  # noqa: S308 (our own SVG)
        context["config_url"] = device.config_url
    response = render(request, "accounts/second_factor.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_only
@sensitive_post_parameters()
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        now = timezone.now()
        ended = revoke_everything(
            user=user,
            now=now,
            reason="password changed",
            keep_session_key=request.session.session_key,
        )
        update_session_auth_hash(request, user)
        record(
            actor=user,
            code="accounts.password.changed",
            now=now,
            target=user,
            changes={key: str(value) for key, value in ended.items()},
        )
        messages.success(
            request,
            _("Your password is changed. Your other sessions and every API token have ended."),
        )
        return redirect("accounts:password")
    return render(request, "accounts/password_change.html", {"form": form})
