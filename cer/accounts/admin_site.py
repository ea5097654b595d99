"""The admin site behind the platform's own login: no password-only door.

Its login page sends to `/login/` (lockout and second factor included), and it lets
in only active staff whose session has passed the second factor.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from cer.accounts.views import passed_strong_authentication


def _login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target)


def _has_permission(request: HttpRequest) -> bool:
    user = request.user
    verified = passed_strong_authentication(request)
    return bool(user.is_active and user.is_staff and verified)


def guard(site: AdminSite) -> None:
    site.login = _login  # type: ignore[method-assign]
    site.has_permission = _has_permission  # type: ignore[method-assign]
