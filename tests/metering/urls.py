"""The site's URLs, plus the metering API if the JSON API does not mount it yet."""

from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse

from config.urls import urlpatterns as site_patterns

urlpatterns: list[URLPattern | URLResolver] = list(site_patterns)
try:
    reverse("api_point_readings", kwargs={"pod": "IT001E00000001"}, urlconf="config.urls")
except NoReverseMatch:
    urlpatterns.insert(0, path("api/", include("cer.api.device_urls")))
