"""HTTP ingestion endpoints, mounted under the JSON API's prefix: /api/plants/…, /api/points/…"""

from django.urls import URLPattern, URLResolver, path

from cer.api.views import device_readings as api_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("plants/<int:plant_id>/readings", api_views.plant_readings, name="api_plant_readings"),
    path("points/<str:pod>/readings", api_views.point_readings, name="api_point_readings"),
]
