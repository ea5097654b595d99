from django.urls import URLPattern, URLResolver, path

from cer.api import web

app_name = "tokens"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", web.personal_tokens, name="list"),
]
