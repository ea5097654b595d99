"""The site icon at /favicon.ico, where browsers ask for it whatever the page links.

Browsers request /favicon.ico at the root even when a page names its icon, so the file
kept with the static files is also answered here, with the same bytes and a day of cache.
"""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from cer.core.access import public

ICON_NAME = "favicon.ico"


@cache
def _icon_bytes() -> bytes | None:
    found = finders.find(ICON_NAME)
    if not found:
        return None
    with open(str(found), "rb") as icon:
        return icon.read()


@public
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    icon = _icon_bytes()
    if icon is None:
        raise Http404(ICON_NAME)
    response = HttpResponse(icon, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
