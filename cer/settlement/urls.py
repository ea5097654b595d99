"""Settlement pages: runs, the year, GSE amounts and their reconciliation.

Statements, disputes and payouts (cer.billing.urls), the community report
(cer.reports.urls) and the distribution policy (cer.distribution.urls) are served under
the same `settlement/` prefix by their own apps.
"""

from django.urls import URLPattern, URLResolver, path

from cer.core import converters  # noqa: F401 (registers <year:…>)
from cer.settlement import views

app_name = "settlement"

urlpatterns: list[URLPattern | URLResolver] = [
    path("configuration/<int:pk>/", views.configuration_runs, name="configuration_runs"),
    path("configuration/<int:pk>/year/<year:year>/", views.year_view, name="year"),
    path("configuration/<int:pk>/gse/", views.gse_import, name="gse_import"),
    path(
        "configuration/<int:pk>/reconciliation/<year:year>/",
        views.reconciliation_view,
        name="reconciliation",
    ),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/finalise/", views.run_finalise, name="run_finalise"),
    path("runs/<int:pk>/distribute/", views.run_distribute, name="run_distribute"),
]
