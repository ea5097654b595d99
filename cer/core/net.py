"""Who the client is: the request's address, trusting forwarded headers from our proxies only.

A reverse proxy appends the address it received a request from to X-Forwarded-For, so
the header reads `client, proxy1, proxy2` and REMOTE_ADDR is the last proxy. Anything
left of the first address a trusted proxy wrote was sent by the client and may be made
up: the client is the right-most address that is not one of DJANGO_TRUSTED_PROXIES.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The key under which the middleware leaves the address it resolved (and the proxy's).
RESOLVED_KEY = "cer.client_ip"
PROXY_KEY = "cer.proxy_addr"
# What counts when no address is known: a key for lockouts and throttles, never a bind.
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104

# Headers only a trusted proxy may set; removed from every other request.
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """Return the networks of DJANGO_TRUSTED_PROXIES (validated by the settings)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def parse_address(text: str) -> IPAddress | None:
    """Return the IP address in `text`, or None when it is not a bare address."""
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def resolve_client_ip(meta: Mapping[str, Any]) -> str:
    """Return the client's address from a request's META, as a string.

    REMOTE_ADDR is the client unless it is a trusted proxy; then X-Forwarded-For is read
    from the right, skipping trusted proxies. A malformed entry stops the walk at the last
    trusted hop, which is the most a forged header can make us believe.
    """
    remote = str(meta.get("REMOTE_ADDR") or "")
    networks = trusted_networks()
    if not is_trusted(parse_address(remote), networks):
        return remote or UNKNOWN_ADDRESS
    client = remote
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = parse_address(entry)
        if address is None:
            break
        client = str(address)
        if not is_trusted(address, networks):
            break
    return client


def client_ip(request: Any) -> str:
    """Return the address of the client that sent `request` (for lockouts, throttles, logs).

    Behind TrustedProxyMiddleware this is what it resolved; a request that did not pass
    through it (a test's request factory) is resolved here the same way.
    """
    meta = request.META
    resolved = meta.get(RESOLVED_KEY)
    if resolved:
        return str(resolved)
    return resolve_client_ip(meta)
