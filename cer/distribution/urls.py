"""The distribution policy page and the yearly true-up, under the `settlement/` prefix."""

from django.urls import URLPattern, URLResolver, path

from cer.core import converters  # noqa: F401 (registers <year:…>)
from cer.distribution import views

app_name = "distribution"

urlpatterns: list[URLPattern | URLResolver] = [
    path("community/<int:pk>/policy/", views.policy_edit, name="policy"),
    path(
        "configuration/<int:pk>/year/<year:year>/true-up/",
        views.year_true_up,
        name="year_true_up",
    ),
]
