"""The error page for a refused form (CSRF failure), styled and translated like the others.

Django's own CSRF page renders its template without the request, so the site's frame would
lose the user's menu and language choice; this view renders `403_csrf.html` with it. The
other error pages (400, 403, 404, 500) are Django's default handlers over the templates of
the same names.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Render the CSRF refusal (403); `reason` is not shown: Django has logged it already."""
    return render(request, "403_csrf.html", status=403)
