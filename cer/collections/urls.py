"""Collections pages, under /collections/; names in the `collections` namespace."""

from django.urls import URLPattern, path

from cer.collections import views

app_name = "collections"

urlpatterns: list[URLPattern] = [
    path("mine/", views.mine, name="mine"),
    path("community/<int:pk>/", views.requests_page, name="requests"),
    path("community/<int:pk>/mandates/", views.mandates_page, name="mandates"),
    path("community/<int:pk>/batches/", views.batches_page, name="batches"),
    path("community/<int:pk>/reports/", views.reports_page, name="reports"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("mandates/<int:pk>/", views.mandate_detail, name="mandate"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/pain008.xml", views.batch_xml, name="batch_xml"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
]
