"""Forwarded headers from trusted proxies only; security headers Django does not set itself."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from cer.core.net import (
    FORWARDED_HEADERS,
    PROXY_KEY,
    RESOLVED_KEY,
    UNKNOWN_ADDRESS,
    is_trusted,
    parse_address,
    resolve_client_ip,
    trusted_networks,
)

# Everything is served by the application itself (WhiteNoise, vendored assets): no
# inline scripts or styles, no third parties, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Add CSP, Permissions-Policy and Cross-Origin-Opener-Policy to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class TrustedProxyMiddleware:
    """Honour X-Forwarded-For and X-Forwarded-Proto only when a trusted proxy sent them.

    From a proxy in DJANGO_TRUSTED_PROXIES, REMOTE_ADDR becomes the client's address and
    the scheme the proxy reports is kept for SECURE_PROXY_SSL_HEADER; from anyone else the
    forwarded headers are removed, so a client cannot claim HTTPS or another address
    (lockouts and throttles key on the address). It must come first in MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        remote = meta.get("REMOTE_ADDR") or ""
        if is_trusted(parse_address(remote), trusted_networks()):
            meta[PROXY_KEY] = remote
            meta["REMOTE_ADDR"] = resolve_client_ip(meta)
            scheme = str(meta.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip()
            if scheme:
                # The proxy talking to us speaks last; Django would read the first value.
                meta["HTTP_X_FORWARDED_PROTO"] = scheme.lower()
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        meta[RESOLVED_KEY] = meta.get("REMOTE_ADDR") or UNKNOWN_ADDRESS
        return self.get_response(request)


API_PREFIX = "/api/"


class ApiLanguageMiddleware:
    """Answer the unprefixed API in the language the client asks for (Italian by default).

    The pages carry their language in the path (i18n_patterns, Italian unprefixed), so
    Django's LocaleMiddleware gives every unprefixed path Italian, the API's included. An
    API client has no path prefix to choose with: for /api/ the language comes from the
    language cookie, then Accept-Language (it or en), then LANGUAGE_CODE. Placed right after
    LocaleMiddleware, which then writes the chosen language in Content-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            patch_vary_headers(response, ("Accept-Language",))
            return response
        return self.get_response(request)
