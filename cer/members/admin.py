from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from cer.members.models import Member, MemberQuerySet, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "category", "fiscal_code", "email", "municipality"]
    list_filter = ["kind", "category"]
    # Tax and VAT codes are encrypted: an exact code is found through its blind index
    # in get_search_results; a partial code finds nothing.
    search_fields = ["first_name", "last_name", "company_name", "email"]
    autocomplete_fields = ["municipality", "user"]
    inlines = [MembershipInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Member], search_term: str
    ) -> tuple[QuerySet[Member], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            members = cast(MemberQuerySet, queryset)
            found |= members.with_fiscal_code(search_term) | members.with_vat_number(search_term)
        return found, may_have_duplicates


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "community", "role", "kind", "valid_from", "valid_to"]
    list_filter = ["role", "kind", "community"]
    search_fields = ["member__last_name", "member__company_name", "community__name"]
    autocomplete_fields = ["member"]
