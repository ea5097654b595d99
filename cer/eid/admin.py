"""Digital identity links, read-only: a link is made only by a login. A pending account is
activated on the user's own admin page (the "active" box)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cer.eid.models import IdentityLink


@admin.register(IdentityLink)
class IdentityLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "issuer", "level", "first_login_at", "last_login_at")
    list_filter = ("provider", "level")
    readonly_fields = (
        "user",
        "provider",
        "issuer",
        "subject",
        "level",
        "first_login_at",
        "last_login_at",
    )
    exclude = ("tax_code", "tax_code_index")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
