from django.urls import URLPattern, URLResolver, path

from cer.privacy import views

app_name = "privacy"
urlpatterns: list[URLPattern | URLResolver] = [
    path("notice/", views.notice, name="notice"),
    path("consents/", views.consents, name="consents"),
]
