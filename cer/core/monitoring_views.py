"""/healthz and /metrics: what load balancers, container engines and Prometheus read.

Both answer without a language prefix, a session or a login. The details (which check
failed and why, every metric) go only to the addresses in METRICS_ALLOWED_IPS (IPs or
networks; default loopback): anyone else gets 403 from /metrics and only the status
code and `{"status": ...}` from /healthz, which is all a load balancer needs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cer.core import health, metrics
from cer.core.access import public
from cer.core.net import client_ip


@lru_cache(maxsize=8)
def _networks(
    allowed: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def may_see_details(request: HttpRequest) -> bool:
    """True when the client's address is in METRICS_ALLOWED_IPS."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    allowed = tuple(getattr(settings, "METRICS_ALLOWED_IPS", ("127.0.0.1", "::1")))
    return any(address in network for network in _networks(allowed))


@public  # anyone may ask whether it works; only allowed addresses see which part failed
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every expected part is ok, 503 naming what failed."""
    report = health.check_all(timezone.now())
    status = "ok" if report.healthy else "failed"
    code = 200 if report.healthy else 503
    if not may_see_details(request):
        return JsonResponse({"status": status}, status=code)
    body: dict[str, object] = {
        "status": status,
        "checks": {name: check.as_json() for name, check in report.checks.items()},
    }
    if report.failed:
        body["failed"] = report.failed
    return JsonResponse(body, status=code)


@public  # the view itself answers 403 outside METRICS_ALLOWED_IPS
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Every metric family in the Prometheus text format 0.0.4."""
    if not may_see_details(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    text = metrics.render(metrics.collect(timezone.now()))
    return HttpResponse(text, content_type=metrics.CONTENT_TYPE)
