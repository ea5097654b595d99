"""Invoices issued by a community (managers only)."""

from django.urls import path

from cer.billing import views

app_name = "billing"

urlpatterns = [
    path("community/<int:pk>/", views.invoice_list, name="invoice_list"),
    path("community/<int:pk>/new/", views.invoice_create, name="invoice_create"),
    path("community/<int:pk>/settings/", views.invoicing_settings, name="invoicing_settings"),
    path("<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("<int:pk>/credit-note/", views.invoice_credit, name="invoice_credit"),
    path("<int:pk>/xml/", views.invoice_xml, name="invoice_xml"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
