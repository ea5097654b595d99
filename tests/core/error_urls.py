"""The site's URLs plus a page that fails, to see the 500 page a visitor gets."""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as site_patterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns: list[URLPattern | URLResolver] = [
    *site_patterns,
    *i18n_patterns(path("broken/", broken), prefix_default_language=False),
]
