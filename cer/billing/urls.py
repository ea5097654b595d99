"""Billing pages: invoices under `invoices/`; statements, disputes and payouts under `settlement/`.

Statements, disputes and payouts keep the paths they were first published at (people have
bookmarks), so this module is mounted at the root and spells both prefixes; every name
is in the `billing` namespace.
"""

from django.urls import URLPattern, URLResolver, include, path

from cer.billing.views import bank_reports, disputes, invoices, payouts, statements
from cer.core import converters  # noqa: F401 (registers <year:…>)

app_name = "billing"

invoice_patterns: list[URLPattern | URLResolver] = [
    path("community/<int:pk>/", invoices.invoice_list, name="invoice_list"),
    path("community/<int:pk>/new/", invoices.invoice_create, name="invoice_create"),
    path("community/<int:pk>/settings/", invoices.invoicing_settings, name="invoicing_settings"),
    path("<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("<int:pk>/issue/", invoices.invoice_issue, name="invoice_issue"),
    path("<int:pk>/credit-note/", invoices.invoice_credit, name="invoice_credit"),
    path("<int:pk>/rejected/", invoices.invoice_rejected, name="invoice_rejected"),
    path("<int:pk>/resend/", invoices.invoice_resend, name="invoice_resend"),
    path("<int:pk>/xml/", invoices.invoice_xml, name="invoice_xml"),
    path("<int:pk>/pdf/", invoices.invoice_pdf, name="invoice_pdf"),
]

statement_patterns: list[URLPattern | URLResolver] = [
    path("statements/", statements.my_statements, name="my_statements"),
    path("statements/<int:pk>/", statements.statement_detail, name="statement"),
    path("statements/<int:pk>/pdf/", statements.statement_pdf, name="statement_pdf"),
    path("statements/<int:pk>/hours.csv", statements.statement_csv, name="statement_csv"),
    path("members/<int:pk>/year/<year:year>/", statements.year_statement, name="year_statement"),
    path("runs/<int:pk>/statements.zip", statements.run_statement_pdfs, name="run_statement_pdfs"),
]

dispute_patterns: list[URLPattern | URLResolver] = [
    path("lines/<int:pk>/contest/", disputes.dispute_open, name="dispute_open"),
    path("disputes/", disputes.dispute_list, name="disputes"),
    path("disputes/<int:pk>/", disputes.dispute_detail, name="dispute"),
]

payout_patterns: list[URLPattern | URLResolver] = [
    path("configuration/<int:pk>/payouts/", payouts.payouts, name="payouts"),
    path("payouts/<int:pk>/", payouts.payout_detail, name="payout"),
    path("payouts/<int:pk>/pain001.xml", payouts.payout_xml, name="payout_xml"),
    path(
        "configuration/<int:pk>/bank-reports/",
        bank_reports.bank_report_import,
        name="bank_report_import",
    ),
    path("bank-reports/<int:pk>/", bank_reports.bank_report_detail, name="bank_report"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("invoices/", include(invoice_patterns)),
    path("settlement/", include(statement_patterns + dispute_patterns + payout_patterns)),
]
