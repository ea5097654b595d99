"""The audit log's web page (the API lists the same entries at /api/v1/audit-entries).

Mounted at /audit/ with the `audit` namespace, as before the page moved here."""

from django.urls import URLPattern, URLResolver, path

from cer.communities import audit_views as views

app_name = "audit"
urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", views.community_log, name="community_log"),
]
