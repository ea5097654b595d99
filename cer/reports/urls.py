"""The community report, under the `settlement/` prefix it was first published at."""

from django.urls import URLPattern, URLResolver, path

from cer.reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("community/<int:pk>/report/", views.community_report, name="report"),
]
