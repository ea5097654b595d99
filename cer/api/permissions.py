"""Every API view declares its access rule; one permission class enforces it.

A view sets `access_rule` to one of:

- `PUBLIC`: anyone (login, token refresh, schema, the current privacy notice);
- `LOGGED_IN`: any authenticated user; the view's queryset shows only what the
  user may see and writes check a permission on the object they touch;
- `on_object(Model, view=..., change=...)`: the URL names one object. It is looked
  up among the objects the user may see (`view` permission), so any other id is a
  404, whether it exists or not; unsafe methods then need the `change` permission
  (403 when missing, since the user already knows the object); `read` adds a
  permission for reading too (the processing register is for managers only).

tests/api/test_route_matrix.py walks every route under /api/ with every persona
and fails for a view that declares no rule.

A request authenticated by a personal access token is further limited by the
token's scopes: reads need `read`, writes need the scope the view declares in
`token_scope`, and a view that declares none refuses a token's writes. Views that
manage the account itself (tokens, password, second factor) set `TOKENS_REFUSED`,
so a leaked token cannot mint more tokens or take the account over.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from cer.accounts.models import PersonalAccessToken, TokenScope


@dataclass(frozen=True)
class ApiRule:
    """Who may call a view: nobody in particular, a logged-in user, or per object."""

    kind: str  # "public", "login", "object"
    model: type[models.Model] | None = None
    view_permission: str = ""
    read_permission: str = ""
    change_permission: str = ""


PUBLIC = ApiRule(kind="public")
LOGGED_IN = ApiRule(kind="login")


def on_object(model: type[models.Model], *, view: str, read: str = "", change: str = "") -> ApiRule:
    """Require `view` on the object named by the URL (404 otherwise).

    Reading also needs `read` when given, writing needs `change` (403 when missing).
    """
    return ApiRule(
        kind="object",
        model=model,
        view_permission=view,
        read_permission=read,
        change_permission=change,
    )


class FollowsAccessRule(BasePermission):
    """Enforce the view's `access_rule`; a view without one is refused outright."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        rule = getattr(view, "access_rule", None)
        if rule is None:
            return False
        if rule.kind == "public":
            return True
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        rule: ApiRule = view.access_rule  # type: ignore[attr-defined]
        if rule.kind != "object":
            return True
        if request.method in SAFE_METHODS:
            return bool(
                request.user.has_perm(rule.view_permission, obj)
                and (not rule.read_permission or request.user.has_perm(rule.read_permission, obj))
            )
        return bool(rule.change_permission and request.user.has_perm(rule.change_permission, obj))


# A view's `token_scope` that refuses personal access tokens for every method.
TOKENS_REFUSED = "tokens-refused"


def required_scope(view: object, method: str) -> str | None:
    """Return the scope a token needs for `method` on `view`; None when tokens are refused."""
    declared = getattr(view, "token_scope", None)
    if declared == TOKENS_REFUSED:
        return None
    if method.upper() in SAFE_METHODS:
        return TokenScope.READ.value
    return declared if declared in TokenScope.values else None


class TokenScopes(BasePermission):
    """Limit requests made with a personal access token to the token's scopes.

    Session and JWT requests pass untouched; object rules still apply after this.
    """

    code = "missing_scope"

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, PersonalAccessToken):
            return True
        rule = getattr(view, "access_rule", None)
        if rule is not None and rule.kind == "public":
            return True
        scope = required_scope(view, request.method or "")
        if scope is None:
            self.code = "token_not_allowed"
            self.message = _("This operation cannot be done with a personal access token.")
            return False
        if not token.allows(scope):
            self.message = _("The token lacks the scope “%(scope)s”.") % {"scope": scope}
            return False
        return True
