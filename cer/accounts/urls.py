from django.urls import URLPattern, URLResolver, path

from cer.accounts import token_views, views

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("second-factor/", views.second_factor_view, name="second-factor"),
    path("password/", views.password_change_view, name="password"),
]

token_urlpatterns: list[URLPattern | URLResolver] = [
    path("", token_views.personal_tokens, name="list"),
]
