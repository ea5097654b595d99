"""Every API route. Version 1 lives under /api/v1/; the first API's paths stay as aliases.

Each view declares its access rule (cer.api.permissions); tests/api/test_route_matrix.py
walks this module with every persona.
"""

from django.urls import URLPattern, URLResolver, include, path, re_path

from cer.api.errors import json_not_found
from cer.api.permissions import PUBLIC
from cer.api.views import (
    accounts,
    collections,
    communications,
    compliance,
    documents,
    grants,
    meta,
    notifications,
    privacy,
    resources,
    settlement,
    tokens,
    treasury,
)
from cer.api.views import invoices as invoice_views
from cer.api.views import signing as signing_views
from cer.api.views.profiles import PointProfiles

app_name = "api"

json_not_found.access_rule = PUBLIC  # type: ignore[attr-defined]

v1: list[URLPattern | URLResolver] = [
    path("auth/login", accounts.LoginView.as_view(), name="login"),
    path("auth/refresh", accounts.RefreshView.as_view(), name="token-refresh"),
    path("auth/logout", accounts.LogoutView.as_view(), name="logout"),
    path("me", accounts.MeView.as_view(), name="me"),
    path("me/password", accounts.PasswordChangeView.as_view(), name="me-password"),
    path("me/second-factor", accounts.SecondFactorView.as_view(), name="me-second-factor"),
    path(
        "me/second-factor/confirm",
        accounts.SecondFactorConfirmView.as_view(),
        name="me-second-factor-confirm",
    ),
    path("me/tokens", tokens.PersonalTokenList.as_view(), name="me-tokens"),
    path("me/tokens/<int:pk>", tokens.PersonalTokenDetail.as_view(), name="me-token"),
    path("me/export", privacy.PersonalDataExport.as_view(), name="me-export"),
    path("me/erasure", privacy.PersonalDataErasure.as_view(), name="me-erasure"),
    path("me/consents", privacy.ConsentList.as_view(), name="me-consents"),
    path("me/notifications", notifications.NotificationList.as_view(), name="me-notifications"),
    path(
        "me/notifications/read",
        notifications.NotificationsRead.as_view(),
        name="me-notifications-read",
    ),
    path("me/consents/<str:purpose>", privacy.ConsentWithdraw.as_view(), name="me-consent"),
    path("me/messages", communications.MyMessages.as_view(), name="me-messages"),
    path("me/messages/reply", communications.MyMessageReply.as_view(), name="me-messages-reply"),
    path(
        "communities/<int:pk>/communications",
        communications.CommunityCommunications.as_view(),
        name="community-communications",
    ),
    path(
        "communities/<int:pk>/payment-requests",
        collections.CommunityPaymentRequests.as_view(),
        name="community-payment-requests",
    ),
    path(
        "communities/<int:pk>/mandates",
        collections.CommunityMandates.as_view(),
        name="community-mandates",
    ),
    path("privacy-notice", privacy.CurrentNotice.as_view(), name="privacy-notice"),
    path("communities", resources.CommunityList.as_view(), name="communities"),
    path("communities/<int:pk>", resources.CommunityDetail.as_view(), name="community"),
    path(
        "communities/<int:pk>/processing-register",
        privacy.ProcessingRegister.as_view(),
        name="processing-register",
    ),
    path(
        "communities/<int:pk>/processing-register.csv",
        privacy.ProcessingRegisterCsv.as_view(),
        name="processing-register-csv",
    ),
    path(
        "communities/<int:pk>/documents",
        documents.CommunityDocuments.as_view(),
        name="community-documents",
    ),
    path(
        "communities/<int:pk>/documents/search",
        documents.CommunityDocumentSearch.as_view(),
        name="community-documents-search",
    ),
    path(
        "communities/<int:pk>/documents/redraft",
        documents.FoundingDocumentsRedraft.as_view(),
        name="community-documents-redraft",
    ),
    path(
        "memberships/<int:pk>/mandate.docx",
        documents.MandateDocx.as_view(),
        name="membership-mandate-docx",
    ),
    path(
        "memberships/<int:pk>/mandate.pdf",
        documents.MandatePdf.as_view(),
        name="membership-mandate-pdf",
    ),
    path(
        "communities/<int:pk>/signature-requests",
        signing_views.CommunitySignatureRequests.as_view(),
        name="community-signature-requests",
    ),
    path("signatures/mine", signing_views.MySignatures.as_view(), name="my-signatures"),
    path(
        "documents/<int:pk>/download",
        documents.DocumentDownload.as_view(),
        name="document-download",
    ),
    path(
        "communities/<int:pk>/expenses",
        treasury.CommunityExpenses.as_view(),
        name="community-expenses",
    ),
    path(
        "communities/<int:pk>/income", treasury.CommunityIncome.as_view(), name="community-income"
    ),
    path(
        "communities/<int:pk>/economic-report",
        treasury.CommunityEconomicReport.as_view(),
        name="community-economic-report",
    ),
    path("configurations", resources.ConfigurationList.as_view(), name="configurations"),
    path("configurations/<int:pk>", resources.ConfigurationDetail.as_view(), name="configuration"),
    path("members", resources.MemberList.as_view(), name="members"),
    path("members/<int:pk>", resources.MemberDetail.as_view(), name="member"),
    path("memberships", resources.MembershipList.as_view(), name="memberships"),
    path("memberships/<int:pk>", resources.MembershipDetail.as_view(), name="membership"),
    path("connection-points", resources.ConnectionPointList.as_view(), name="connection-points"),
    path(
        "connection-points/<int:pk>",
        resources.ConnectionPointDetail.as_view(),
        name="connection-point",
    ),
    path(
        "connection-points/<int:pk>/readings",
        resources.PointReadings.as_view(),
        name="point-readings",
    ),
    path(
        "connection-points/<int:pk>/profiles",
        PointProfiles.as_view(),
        name="point-profiles",
    ),
    path("plants", resources.PlantList.as_view(), name="plants"),
    path("plants/<int:pk>", resources.PlantDetail.as_view(), name="plant"),
    path("plants/<int:pk>/incentive", resources.PlantIncentive.as_view(), name="plant-incentive"),
    path("plants/<int:pk>/grant", grants.GrantFile.as_view(), name="plant-grant"),
    path("plants/<int:pk>/grant/ready", grants.GrantFileReady.as_view(), name="plant-grant-ready"),
    path(
        "plants/<int:pk>/grant/submit", grants.GrantFileSubmit.as_view(), name="plant-grant-submit"
    ),
    path(
        "plants/<int:pk>/grant/decision",
        grants.GrantFileDecision.as_view(),
        name="plant-grant-decision",
    ),
    path(
        "plants/<int:pk>/grant/cost-items",
        grants.GrantCostItems.as_view(),
        name="plant-grant-cost-items",
    ),
    path(
        "plants/<int:pk>/grant/cost-items/remove",
        grants.GrantCostItemRemove.as_view(),
        name="plant-grant-cost-item-remove",
    ),
    path(
        "plants/<int:pk>/grant/disbursements",
        grants.GrantDisbursements.as_view(),
        name="plant-grant-disbursements",
    ),
    path(
        "plants/<int:pk>/grant/disbursements/documents",
        grants.GrantExpenseDocuments.as_view(),
        name="plant-grant-documents",
    ),
    path(
        "plants/<int:pk>/grant/disbursements/state",
        grants.GrantDisbursementState.as_view(),
        name="plant-grant-disbursement-state",
    ),
    path(
        "plants/<int:pk>/compliance",
        compliance.PlantCompliance.as_view(),
        name="plant-compliance",
    ),
    path(
        "communities/<int:pk>/antimafia",
        compliance.CommunityAntimafia.as_view(),
        name="community-antimafia",
    ),
    path(
        "plants/<int:pk>/other-grants",
        grants.PlantOtherGrants.as_view(),
        name="plant-other-grants",
    ),
    path("zonal-prices", resources.ZonalPriceList.as_view(), name="zonal-prices"),
    path("mqtt/users", resources.DeviceList.as_view(), name="devices"),
    path("mqtt/users/<int:pk>", resources.DeviceDetail.as_view(), name="device"),
    path(
        "mqtt/users/<int:pk>/rotate-secret",
        resources.DeviceRotateSecret.as_view(),
        name="device-rotate-secret",
    ),
    path("audit-entries", resources.AuditEntryList.as_view(), name="audit-entries"),
    path("reports", privacy.ReportList.as_view(), name="reports"),
    path(
        "communities/<int:pk>/invoices",
        invoice_views.CommunityInvoices.as_view(),
        name="community-invoices",
    ),
    path("invoices/<int:pk>", invoice_views.InvoiceDetail.as_view(), name="invoice"),
    path("invoices/<int:pk>/issue", invoice_views.InvoiceIssue.as_view(), name="invoice-issue"),
    path("invoices/<int:pk>/xml", invoice_views.InvoiceXml.as_view(), name="invoice-xml"),
    path(
        "configurations/<int:pk>/settlement-runs",
        settlement.ConfigurationSettlementRuns.as_view(),
        name="configuration-settlement-runs",
    ),
    path(
        "configurations/<int:pk>/settlement-jobs",
        settlement.ConfigurationSettlementJobs.as_view(),
        name="configuration-settlement-jobs",
    ),
    path(
        "settlement-jobs/<int:pk>", settlement.SettlementJobDetail.as_view(), name="settlement-job"
    ),
    path(
        "settlement-runs/<int:pk>", settlement.SettlementRunDetail.as_view(), name="settlement-run"
    ),
    path(
        "settlement-runs/<int:pk>/hours",
        settlement.SettlementRunHours.as_view(),
        name="settlement-run-hours",
    ),
    path(
        "settlement-runs/<int:pk>/finalise",
        settlement.SettlementRunFinalise.as_view(),
        name="settlement-run-finalise",
    ),
    path(
        "settlement-runs/<int:pk>/distribute",
        settlement.SettlementRunDistribute.as_view(),
        name="settlement-run-distribute",
    ),
    path("statements", settlement.StatementList.as_view(), name="statements"),
    path("statements/<int:pk>", settlement.StatementDetail.as_view(), name="statement"),
    path("statements/<int:pk>/pdf", settlement.StatementPdf.as_view(), name="statement-pdf"),
    path(
        "communities/<int:pk>/report",
        settlement.CommunityReport.as_view(),
        name="community-report",
    ),
]

# The first API's paths, kept so that existing integrations go on working.
seed: list[URLPattern | URLResolver] = [
    path("login", accounts.LoginView.as_view(), name="seed-login"),
    path("users", resources.MemberList.as_view(), name="seed-users"),
    path("users/<int:pk>", resources.MemberDetail.as_view(), name="seed-user"),
    path("plants", resources.PlantList.as_view(), name="seed-plants"),
    path("plants/<int:pk>", resources.PlantDetail.as_view(), name="seed-plant"),
    path("incentives/<int:pk>", resources.PlantIncentive.as_view(), name="seed-incentive"),
    path("invoices", invoice_views.SeedInvoiceCreate.as_view(), name="seed-invoices"),
    path("reports", privacy.ReportList.as_view(), name="seed-reports"),
    path("documents", documents.SeedDocumentCreate.as_view(), name="seed-documents"),
    path("mqtt/users", resources.DeviceList.as_view(), name="seed-mqtt-users"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", meta.SchemaView.as_view(), name="schema"),
    path("docs/", meta.api_docs, name="docs"),
    path("docs/list/", meta.api_operation_list, name="docs-list"),
    path("v1/", include(v1)),
    *seed,
    re_path(r"^.*$", json_not_found, name="not-found"),
]
