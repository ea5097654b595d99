from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from cer.core.access import public

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The API speaks JSON and has no language prefix. Readings posted by devices first.
    path("api/", include("cer.metering.api_urls")),
    path("api/", include("cer.api.urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("login/", public(auth_views.LoginView.as_view()), name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("members/", include("cer.members.urls")),
    path("plants/", include("cer.plants.urls")),
    path("dashboard/", include("cer.dashboards.urls")),
    path("documents/", include("cer.documents.urls")),
    path("metering/", include("cer.metering.urls")),
    path("imports/", include("cer.imports.urls")),
    path("privacy/", include("cer.privacy.urls")),
    path("account/tokens/", include("cer.api.web_urls")),
    path("settlement/", include("cer.settlement.urls")),
    path("invoices/", include("cer.billing.urls")),
    path("", include("cer.communities.urls")),
    prefix_default_language=False,
)
