"""The audit log's web page (the API lists the same entries at /api/v1/audit-entries)."""

from django.urls import URLPattern, URLResolver, path

from cer.audit import views

app_name = "audit"
urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", views.community_log, name="community_log"),
]
