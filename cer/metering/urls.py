"""The managers' pages for device accounts and rejected messages.

The devices' HTTP API is in cer/api/device_urls.py.
"""

from django.urls import URLPattern, URLResolver, path

from cer.metering import source_views, views

app_name = "metering"

urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:community_id>/devices/", views.device_list, name="device_list"),
    path(
        "communities/<int:community_id>/devices/actions/",
        views.device_action,
        name="device_action",
    ),
    path(
        "communities/<int:community_id>/devices/rejected/",
        views.rejected_list,
        name="rejected_list",
    ),
    path(
        "communities/<int:community_id>/mqtt-ca.crt",
        views.mqtt_ca_certificate,
        name="mqtt_ca_certificate",
    ),
    path("devices/<int:device_id>/", views.device_detail, name="device_detail"),
    path(
        "devices/<int:device_id>/counter-values/",
        views.counter_action,
        name="counter_action",
    ),
    path(
        "devices/<int:device_id>/meter-replacement/",
        views.meter_replacement,
        name="meter_replacement",
    ),
    path(
        "devices/<int:device_id>/connection/",
        views.device_connection,
        name="device_connection",
    ),
    path(
        "communities/<int:community_id>/reading-sources/",
        source_views.reading_sources,
        name="reading_sources",
    ),
]
