"""Sessions that have not passed a required second factor reach only the pages that
let them pass it; a session whose privileges changed gets a new key.

Runs after django-otp's middleware, which tells whether the session is verified.
API requests are left to the API's own session authentication, which refuses such a
session (cer.api.authentication.VerifiedSessionAuthentication).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from cer.accounts import known_devices
from cer.accounts.login import needs_code
from cer.accounts.policy import privilege_fingerprint, second_factor_required
from cer.accounts.views import (
    AFTER_SECOND_FACTOR_KEY,
    PRIVILEGES_KEY,
    passed_strong_authentication,
)

# What a session that still owes its second factor may open.
OPEN_WHILE_UNVERIFIED = {
    "accounts:second-factor",
    "login",
    "login-code",
    "logout",
    "set_language",
}


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(("/api/", "/static/")):
            self._rotate_on_privilege_change(request)
            verified = passed_strong_authentication(request)
            if second_factor_required(user) and not verified:
                refused = self._owed_second_factor(request)
                if refused is not None:
                    return refused
        response = self.get_response(request)
        # A login from a browser without a device cookie left one to give it.
        known_devices.remember_cookie(request, response)
        return response

    @staticmethod
    def _rotate_on_privilege_change(request: HttpRequest) -> None:
        current = privilege_fingerprint(request.user)
        known = request.session.get(PRIVILEGES_KEY)
        if known != current:
            if known is not None:
                # A new role (or a lost one) is a new session: a key stolen before the
                # change is worth nothing after it (OWASP session management).
                request.session.cycle_key()
            request.session[PRIVILEGES_KEY] = current

    @staticmethod
    def _owed_second_factor(request: HttpRequest) -> HttpResponse | None:
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            name = ""
        if name in OPEN_WHILE_UNVERIFIED:
            return None
        if needs_code(request.user):
            # A session from before the second factor was set up: log in again with it.
            logout(request)
            return redirect_to_login(request.get_full_path())
        if request.method == "GET":
            request.session[AFTER_SECOND_FACTOR_KEY] = request.get_full_path()
        return redirect("accounts:second-factor")
