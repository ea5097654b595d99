from django.contrib import admin

from cer.members.models import Member, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "category", "fiscal_code", "email", "municipality"]
    list_filter = ["kind", "category"]
    search_fields = ["first_name", "last_name", "company_name", "fiscal_code", "email"]
    autocomplete_fields = ["municipality", "user"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "community", "role", "kind", "valid_from", "valid_to"]
    list_filter = ["role", "kind", "community"]
    search_fields = ["member__last_name", "member__company_name", "community__name"]
    autocomplete_fields = ["member"]
