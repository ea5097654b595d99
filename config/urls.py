from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from cer.accounts import admin_site, password_reset
from cer.accounts import urls as accounts_urls
from cer.accounts import views as accounts_views
from cer.core.favicon import favicon
from cer.notifications.views import service_worker

admin_site.guard(admin.site)

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", favicon, name="favicon"),
    # Health check and Prometheus metrics: no language prefix, restricted details.
    path("", include("cer.core.monitoring_urls")),
    # The web push service worker: at the root, so its scope may be the whole site.
    path("sw.js", service_worker, name="service_worker"),
    # The API speaks JSON and has no language prefix. Readings posted by devices first.
    path("api/", include("cer.api.device_urls")),
    path("api/", include("cer.api.urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("login/", accounts_views.login_view, name="login"),
    path("login/code/", accounts_views.login_code_view, name="login-code"),
    path("logout/", accounts_views.logout_view, name="logout"),
    path("password-reset/", password_reset.request_view, name="password-reset"),
    path("password-reset/sent/", password_reset.done_view, name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset.confirm_view,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", password_reset.complete_view, name="password-reset-complete"),
    path("account/", include("cer.accounts.urls")),
    path("eid/", include("cer.eid.urls")),
    path("members/", include("cer.members.urls")),
    path("plants/", include("cer.plants.urls")),
    path("grants/", include("cer.grants.urls")),
    path("collections/", include("cer.collections.urls")),
    path("compliance/", include("cer.compliance.urls")),
    path("dashboard/", include("cer.dashboards.urls")),
    path("alerts/", include("cer.alerts.urls")),
    path("documents/", include("cer.documents.urls")),
    path("metering/", include("cer.metering.urls")),
    path("imports/", include("cer.imports.urls")),
    path("privacy/", include("cer.privacy.urls")),
    path("notifications/", include("cer.notifications.urls")),
    path("communications/", include("cer.communications.urls")),
    path("signing/", include("cer.signing.urls")),
    path("account/tokens/", include((accounts_urls.token_urlpatterns, "tokens"))),
    path("settlement/", include("cer.settlement.urls")),
    path("settlement/", include("cer.distribution.urls")),
    path("settlement/", include("cer.reports.urls")),
    path("treasury/", include("cer.treasury.urls")),
    path("tasks/", include("cer.core.task_urls")),
    # Mounted at the root: invoices/ and settlement/ (statements, disputes, payouts).
    path("", include("cer.billing.urls")),
    path("audit/", include("cer.communities.audit_urls")),
    path("", include("cer.constitution.urls")),
    # Pages of a community and of a plant that draw readings, at the nouns' own paths.
    path("", include("cer.dashboards.overview_urls")),
    path("", include("cer.communities.urls")),
    prefix_default_language=False,
)
