"""Platform administrators unlock accounts, reset a lost second factor and revoke tokens;
each of these is recorded in the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.accounts import lockout, second_factor, tokens
from cer.accounts.models import LoginFailure, PersonalAccessToken
from cer.audit.services import record


def _unlock(request: HttpRequest, usernames: set[str]) -> int:
    now = timezone.now()
    forgotten = 0
    for username in sorted(usernames):
        forgotten += lockout.unlock_account(username=username)
        record(
            actor=request.user,
            code="accounts.login.unlocked",
            now=now,
            changes={"username": username},
        )
    return forgotten


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "ip_address"]
    list_filter = ["at"]
    search_fields = ["username", "ip_address"]
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Unlock these usernames (forget their failed logins)"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginFailure]) -> None:
        forgotten = _unlock(request, set(queryset.values_list("username", flat=True)))
        self.message_user(request, _("%(n)d failed logins forgotten.") % {"n": forgotten})


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "prefix", "created_at", "expires_at", "revoked_at"]
    search_fields = ["name", "prefix", "owner__username"]
    readonly_fields = [field.name for field in PersonalAccessToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke these tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[PersonalAccessToken]) -> None:
        now = timezone.now()
        revoked = sum(
            tokens.revoke_token(token=token, actor=request.user, now=now) for token in queryset
        )
        self.message_user(request, _("%(n)d tokens revoked.") % {"n": revoked})


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    actions = ["reset_second_factor", "unlock_login"]

    @admin.action(description=_("Reset the second factor (after checking who the person is)"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        now = timezone.now()
        for user in queryset:
            second_factor.remove(
                user=user, actor=request.user, now=now, reason="reset by an administrator"
            )
        self.message_user(
            request,
            _("Second factor reset for %(n)d users: they set it up again at their next login.")
            % {"n": queryset.count()},
            messages.WARNING,
        )

    @admin.action(description=_("Unlock the login of these users"))
    def unlock_login(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        forgotten = _unlock(request, set(queryset.values_list("username", flat=True)))
        self.message_user(request, _("%(n)d failed logins forgotten.") % {"n": forgotten})
