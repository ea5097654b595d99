"""Declaring who may open a view, so that every URL carries its rule.

Each view is wrapped by exactly one of these decorators. They enforce the rule
and also record it on the view (`view.access_rule`), which the route × persona
test reads to check every URL pattern with every persona: a view without a
declared rule fails that test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

View = Callable[..., HttpResponseBase]


@dataclass(frozen=True)
class AccessRule:
    """What a view requires: nothing, a login, or a permission on an object."""

    kind: str  # "public", "login", "object"
    permission: str = ""
    model: type[models.Model] | None = None
    url_kwarg: str = "pk"
    lookup: str = "pk"


def public(view: View) -> View:
    """Mark a view open to anyone, logged in or not (login page, invitation links)."""
    view.access_rule = AccessRule(kind="public")  # type: ignore[attr-defined]
    return view


def login_only(view: View) -> View:
    """Require a logged-in user and nothing more (the view filters by user itself)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.access_rule = AccessRule(kind="login")  # type: ignore[attr-defined]
    return wrapper


def object_permission(
    permission: str,
    model: type[models.Model],
    *,
    url_kwarg: str = "pk",
    lookup: str = "pk",
) -> Callable[[View], View]:
    """Require `user.has_perm(permission, obj)` for the object the URL names.

    The object is fetched as `model.objects.get(<lookup>=kwargs[url_kwarg])` (404 when
    missing) and passed to the view as its second argument instead of the raw kwarg.
    Anonymous users are sent to the login page; others without the permission get 403.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            obj = get_object_or_404(model, **{lookup: kwargs.pop(url_kwarg)})
            if not request.user.has_perm(permission, obj):
                raise PermissionDenied
            return view(request, obj, *args, **kwargs)

        wrapper.access_rule = AccessRule(  # type: ignore[attr-defined]
            kind="object", permission=permission, model=model, url_kwarg=url_kwarg, lookup=lookup
        )
        return wrapper

    return decorate
