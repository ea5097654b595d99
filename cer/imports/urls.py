from django.urls import URLPattern, URLResolver, path

from cer.imports import views

app_name = "imports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:community_id>/curves/", views.curve_upload, name="curve_upload"),
]
