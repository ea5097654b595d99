"""Settlement, distribution, statements, disputes, reports, reconciliation and payouts."""

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
    path("configuration/<int:pk>/payouts/", views.payouts, name="payouts"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/finalise/", views.run_finalise, name="run_finalise"),
    path("runs/<int:pk>/distribute/", views.run_distribute, name="run_distribute"),
    path("community/<int:pk>/policy/", views.policy_edit, name="policy"),
    path("community/<int:pk>/report/", views.community_report, name="report"),
    path("statements/", views.my_statements, name="my_statements"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("members/<int:pk>/year/<year:year>/", views.year_statement, name="year_statement"),
    path("statements/<int:pk>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("statements/<int:pk>/hours.csv", views.statement_csv, name="statement_csv"),
    path("lines/<int:pk>/contest/", views.dispute_open, name="dispute_open"),
    path("disputes/", views.dispute_list, name="disputes"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute"),
    path("payouts/<int:pk>/", views.payout_detail, name="payout"),
    path("payouts/<int:pk>/pain001.xml", views.payout_xml, name="payout_xml"),
]
