"""The live view: the community's power now, pushed to the browser by server-sent events.

Three views over one snapshot (cer.metering.live.community_power): the page, rendered with
the figures of the moment so that it reads without JavaScript; the event stream, which
sends the snapshot again whenever it changes; and the same snapshot as JSON, which the
page polls where the stream is unavailable (static/js/live.js).

A stream holds a worker thread while it is open, so it ends after STREAM_SECONDS and the
browser's EventSource reconnects by itself (docs/live.md says how to size gunicorn).
Between polls it gives its database connection back: a stream sleeps most of its life.

Access is the community dashboard's: whoever may view the community sees the totals;
the points, which name PODs and their holders, are for its managers only.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import object_permission
from cer.metering.live import WINDOW, CommunityPower, PointPower, community_power

# How often the stream looks for a change, when it sends a comment to keep proxies from
# closing an idle connection, and when it ends so that the browser reconnects [s].
POLL_SECONDS = 3.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 120.0
# Where EventSource is missing or keeps failing, the page asks for the snapshot this often.
FALLBACK_POLL_SECONDS = 30
# The EventSource reconnection delay the stream asks for [ms].
RETRY_MS = 3000


def _kw(power_w: int | None) -> str:
    return "—" if power_w is None else formatting.kw(Decimal(power_w).scaleb(-3))


def _moment(at: dt.datetime | None) -> str:
    return formatting.moment(at) if at is not None else _("never")


def _status(point: PointPower) -> str:
    if point.device_disabled:
        return _("Device disabled")
    if point.stopped:
        return _("Stopped reporting")
    return ""


def _point(point: PointPower) -> dict[str, Any]:
    return {
        "id": point.point_id,
        "pod": point.pod,
        "holder": point.holder,
        "injected_w": point.injected_w,
        "injected": _kw(point.injected_w),
        "withdrawn_w": point.withdrawn_w,
        "withdrawn": _kw(point.withdrawn_w),
        "last_sample_at": point.last_sample_at.isoformat() if point.last_sample_at else None,
        "last_sample": _moment(point.last_sample_at),
        "stopped": point.stopped,
        "status": _status(point),
    }


def snapshot(power: CommunityPower, *, with_points: bool) -> dict[str, Any]:
    """The live figures as JSON: raw values [W] beside their text in the active language."""
    data: dict[str, Any] = {
        "at": power.at.isoformat(),
        "injected_w": power.injected_w,
        "injected": _kw(power.injected_w),
        "withdrawn_w": power.withdrawn_w,
        "withdrawn": _kw(power.withdrawn_w),
        "shared_w": power.shared_w,
        "shared": _kw(power.shared_w),
        "last_sample_at": power.last_sample_at.isoformat() if power.last_sample_at else None,
        "last_sample": _moment(power.last_sample_at),
        "point_count": len(power.points),
        "stopped_count": power.stopped_count,
    }
    if with_points:
        data["points"] = [_point(point) for point in power.points]
    return data


def _is_manager(request: HttpRequest, community: Community) -> bool:
    return request.user.has_perm("communities.manage_community", community)


def _current(community: Community, *, manager: bool) -> dict[str, Any]:
    return snapshot(community_power(community.pk, timezone.now()), with_points=manager)


@object_permission("communities.view_community", Community)
def live_page(request: HttpRequest, community: Community) -> HttpResponse:
    manager = _is_manager(request, community)
    context = {
        "community": community,
        "live": _current(community, manager=manager),
        "manager": manager,
        "fallback_seconds": FALLBACK_POLL_SECONDS,
        "window_minutes": WINDOW // dt.timedelta(minutes=1),
    }
    return render(request, "dashboards/live.html", context)


@object_permission("communities.view_community", Community)
def live_snapshot(request: HttpRequest, community: Community) -> HttpResponse:
    response = JsonResponse(_current(community, manager=_is_manager(request, community)))
    response["Cache-Control"] = "no-store"
    return response


@object_permission("communities.view_community", Community)
def live_stream(request: HttpRequest, community: Community) -> HttpResponseBase:
    events = _events(
        community, manager=_is_manager(request, community), language=translation.get_language()
    )
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    # nginx buffers proxied responses unless told otherwise; events must go out at once.
    response["X-Accel-Buffering"] = "no"
    return response


def _release_database() -> None:
    """Close this thread's database connections: the stream sleeps until its next poll.

    close_old_connections() would keep a connection younger than CONN_MAX_AGE, which a
    stream polling every few seconds always is. A connection inside an atomic block
    belongs to whoever opened the block (a test's transaction), not to the stream.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _events(community: Community, *, manager: bool, language: str | None) -> Iterator[str]:
    """Send the snapshot whenever it changes, a heartbeat when idle, and end in time."""
    started = last_sent = time.monotonic()
    previous = None
    first = True
    while True:
        with translation.override(language):
            data = _current(community, manager=manager)
        _release_database()
        # The moment of the snapshot changes at every poll; the figures are what count.
        unchanged = {key: value for key, value in data.items() if key != "at"}
        if unchanged != previous:
            previous = unchanged
            retry = f"retry: {RETRY_MS}\n" if first else ""
            first = False
            yield f"{retry}data: {json.dumps(data, separators=(',', ':'))}\n\n"
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        if time.monotonic() - started >= STREAM_SECONDS:
            return
        time.sleep(POLL_SECONDS)
