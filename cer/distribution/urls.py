"""The distribution policy page, under the `settlement/` prefix it was first published at."""

from django.urls import URLPattern, URLResolver, path

from cer.distribution import views

app_name = "distribution"

urlpatterns: list[URLPattern | URLResolver] = [
    path("community/<int:pk>/policy/", views.policy_edit, name="policy"),
]
