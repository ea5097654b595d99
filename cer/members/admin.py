"""The platform administrators' pages for people and memberships.

Changes made here move money (the memberships' IBANs) and access (roles): each save is
logged in the audit log for the communities concerned, as the web pages and the API
do, and a changed IBAN is announced to the person by e-mail.
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils import timezone

from cer.members import changes
from cer.members.models import Member, MemberQuerySet, Membership

# The person's fields logged when changed here: everything an administrator can edit.
_MEMBER_FIELDS = sorted(changes.SHARED_FIELDS - {"municipality"})


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

    def save_model(self, request: HttpRequest, obj: Member, form: ModelForm, change: bool) -> None:
        before = Member.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            return
        diff = {
            name: [getattr(before, name), getattr(obj, name)]
            for name in _MEMBER_FIELDS
            if getattr(before, name) != getattr(obj, name)
        }
        if diff:
            changes.record_member_change(
                member=obj, actor=request.user, now=timezone.now(), changes=diff
            )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        _save_memberships(request, formset)


def _save_memberships(request: HttpRequest, formset: BaseInlineFormSet) -> None:
    now = timezone.now()
    instances = formset.save(commit=False)
    # The rows as they are stored, to log what this save changes.
    ids = [m.pk for m in [*instances, *formset.deleted_objects] if m.pk]
    stored = {m.pk: m for m in Membership.objects.filter(pk__in=ids)}
    for membership in formset.deleted_objects:
        changes.record_membership_deleted(membership=membership, actor=request.user, now=now)
        membership.delete()
    for membership in instances:
        membership.save()
        changes.record_membership_saved(
            membership=membership, before=stored.get(membership.pk), actor=request.user, now=now
        )
    formset.save_m2m()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "community", "role", "kind", "valid_from", "valid_to"]
    list_filter = ["role", "kind", "community"]
    search_fields = ["member__last_name", "member__company_name", "community__name"]
    autocomplete_fields = ["member"]

    def save_model(
        self, request: HttpRequest, obj: Membership, form: ModelForm, change: bool
    ) -> None:
        before = Membership.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        changes.record_membership_saved(
            membership=obj, before=before, actor=request.user, now=timezone.now()
        )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        changes.record_membership_deleted(membership=obj, actor=request.user, now=timezone.now())
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        now = timezone.now()
        for membership in queryset.select_related("community"):
            changes.record_membership_deleted(membership=membership, actor=request.user, now=now)
        super().delete_queryset(request, queryset)
