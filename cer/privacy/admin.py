from django.contrib import admin

from cer.privacy.models import Consent, PrivacyNotice


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at"]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "purpose", "notice", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "notice"]
    search_fields = ["user__username", "user__email"]
