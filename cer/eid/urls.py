from django.urls import URLPattern, URLResolver, path

from cer.eid import views

app_name = "eid"
urlpatterns: list[URLPattern | URLResolver] = [
    path("spid/metadata/", views.spid_metadata, name="spid-metadata"),
    path("spid/providers/", views.spid_providers, name="spid-providers"),
    path("spid/login/", views.spid_login, name="spid-login"),
    path("spid/acs/", views.spid_acs, name="spid-acs"),
    path("cie/login/", views.cie_login, name="cie-login"),
    path("cie/callback/", views.cie_callback, name="cie-callback"),
]
