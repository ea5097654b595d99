"""Figures for Prometheus: request latency kept by each process, the rest read from the tables.

`/metrics` answers in the text exposition format 0.0.4: for each family a `# HELP` and a
`# TYPE` line, then `name{label="value"} number` lines. The request latency histogram
lives in the memory of the web process that served the requests (gunicorn runs several:
each scrape sees the one that answers it; see docs/deploy.md). Every other family is read
from the database at scrape time, so any web process reports the same numbers.

The ground floor does not import the apps above it: their models are looked up by label
(`apps.get_model`), and an app that is not installed simply leaves its families out.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import DatabaseError
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: from a cached page to a slow export.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INGEST_WINDOW = dt.timedelta(minutes=5)
REJECTED_WINDOW = dt.timedelta(hours=1)
# The ingestion rate counts only among the newest rows (by primary key, which the tables
# hand out in arrival order): the tables have no index on received_at, and a scrape must
# not read them whole. Exact up to this many rows per window (about 3,300 a second).
INGEST_RATE_ROW_LIMIT = 1_000_000


@dataclass
class Family:
    """One metric family: its samples are (suffix, labels, value)."""

    name: str
    kind: str  # counter, gauge, histogram, summary
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((suffix, labels, value))


def render(families: Iterable[Family]) -> str:
    """Write families in the Prometheus text format 0.0.4."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            lines.append(f"{family.name}{suffix}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape_label(value)}"' for key, value in labels.items()) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class LatencyHistogram:
    """Request durations by view and method, cumulative since the process started."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self._lock = threading.Lock()
        # (view, method) -> [count per bucket..., count, sum]
        self._series: dict[tuple[str, str], list[float]] = {}

    def observe(self, view: str, method: str, seconds: float) -> None:
        with self._lock:
            series = self._series.setdefault((view, method), [0.0] * (len(self.buckets) + 2))
            for index, bound in enumerate(self.buckets):
                if seconds <= bound:
                    series[index] += 1
            series[-2] += 1
            series[-1] += seconds

    def family(self) -> Family:
        family = Family(
            "cer_http_request_duration_seconds",
            "histogram",
            "Time to answer a request, by view name and method (this web process only).",
        )
        with self._lock:
            snapshot = {key: list(values) for key, values in self._series.items()}
        for (view, method), values in sorted(snapshot.items()):
            for bound, count in zip(self.buckets, values, strict=False):
                family.add(count, "_bucket", view=view, method=method, le=_number(bound))
            family.add(values[-2], "_bucket", view=view, method=method, le="+Inf")
            family.add(values[-1], "_sum", view=view, method=method)
            family.add(values[-2], "_count", view=view, method=method)
        return family

    def reset(self) -> None:
        with self._lock:
            self._series.clear()


LATENCY = LatencyHistogram()


class RequestLatencyMiddleware:
    """Time every request and file it under its view name (or `unresolved` for a 404)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The view's name, never the path: paths carry ids and would make a series each.
        view = (match.view_name or match._func_path) if match else "unresolved"
        LATENCY.observe(view, request.method or "", time.perf_counter() - started)
        return response


def collect(now: dt.datetime) -> list[Family]:
    """Every family: latency from memory, the rest from the database at `now`."""
    families = [LATENCY.family()]
    errors = Family(
        "cer_metrics_collector_failed",
        "gauge",
        "1 when a group of metrics could not be read at this scrape (the database failed).",
    )
    for collector in (
        _tasks,
        _settlement_jobs,
        _notification_deliveries,
        _periodic_jobs,
        _heartbeats,
        _ingestion,
        _rejected_messages,
    ):
        group = collector.__name__.lstrip("_")
        try:
            families.extend(collector(now))
        except DatabaseError:
            # One unreadable table must not hide the others, nor turn the scrape into a 500.
            logger.warning("metrics: %s could not be read", group, exc_info=True)
            errors.add(1, group=group)
        else:
            errors.add(0, group=group)
    families.append(errors)
    return families


def _model(label: str):  # type: ignore[no-untyped-def]
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _tasks(now: dt.datetime) -> list[Family]:
    """Task counts and durations from Redis (cer.core.task_metrics), and the queue length.

    Only when the tasks run on Celery (TASKS_ON_CELERY); `cer_redis_up` says whether
    Redis answered, so an unreachable Redis is an alert, not a failed scrape.
    """
    from django.conf import settings

    if not getattr(settings, "TASKS_ON_CELERY", False):
        return []
    import redis

    from cer.core import task_metrics

    up = Family("cer_redis_up", "gauge", "1 when Redis answered this scrape, 0 when not.")
    try:
        counts, seconds, lengths = task_metrics.read()
    except redis.RedisError:
        logger.warning("metrics: Redis could not be read", exc_info=True)
        up.add(0)
        return [up]
    up.add(1)
    total = Family("cer_tasks_total", "counter", "Background tasks ended, by task and state.")
    for (name, state), number in sorted(counts.items()):
        total.add(number, task=name, state=state.lower())
    durations = Family(
        "cer_task_duration_seconds", "summary", "Time the background tasks took, by task."
    )
    ended: dict[str, int] = {}
    for (name, _state), number in counts.items():
        ended[name] = ended.get(name, 0) + number
    for name in sorted(ended):
        durations.add(seconds.get(name, 0.0), "_sum", task=name)
        durations.add(ended[name], "_count", task=name)
    queued = Family(
        "cer_task_queue_length", "gauge", "Tasks waiting in the Redis queue for a worker."
    )
    for queue, length in sorted(lengths.items()):
        queued.add(length, queue=queue)
    return [up, total, durations, queued]


def _settlement_jobs(now: dt.datetime) -> list[Family]:
    job_model = _model("settlement.SettlementJob")
    if job_model is None:
        return []
    states = Family("cer_settlement_jobs", "gauge", "Settlement jobs by state.")
    counts = dict(job_model.objects.values_list("status").annotate(n=Count("pk")).order_by())
    for state in ("QUEUED", "RUNNING", "DONE", "FAILED"):
        states.add(counts.get(state, 0), state=state.lower())
    durations = Family(
        "cer_settlement_job_duration_seconds",
        "summary",
        "Time from start to end of finished settlement jobs (done or failed).",
    )
    finished = job_model.objects.exclude(started_at=None).exclude(finished_at=None)
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    totals = finished.aggregate(
        total=Sum(took),
        n=Count("pk"),
    )
    total = totals["total"] or dt.timedelta(0)
    durations.add(total.total_seconds(), "_sum")
    durations.add(totals["n"], "_count")
    oldest = Family(
        "cer_settlement_job_running_seconds",
        "gauge",
        "How long the oldest running settlement job has been running (0 when none runs).",
    )
    started = (
        job_model.objects.filter(status="RUNNING")
        .exclude(started_at=None)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    oldest.add((now - started).total_seconds() if started else 0)
    return [states, durations, oldest]


def _notification_deliveries(now: dt.datetime) -> list[Family]:
    delivery_model = _model("notifications.Delivery")
    if delivery_model is None:
        return []
    due = Family(
        "cer_notification_deliveries_due",
        "gauge",
        "Notification deliveries waiting to be sent whose time has come (queued or to retry).",
    )
    due.add(
        delivery_model.objects.filter(
            state__in=["QUEUED", "FAILED"], next_attempt_at__lte=now
        ).count()
    )
    failed = Family(
        "cer_notification_deliveries_failed",
        "gauge",
        "Notification deliveries that failed: `retry` will be tried again, `permanent` not.",
    )
    counts = dict(
        delivery_model.objects.filter(state__in=["FAILED", "PERMANENT"])
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    failed.add(counts.get("FAILED", 0), kind="retry")
    failed.add(counts.get("PERMANENT", 0), kind="permanent")
    return [due, failed]


def _periodic_jobs(now: dt.datetime) -> list[Family]:
    from cer.core.models import PeriodicRun

    age = Family(
        "cer_periodic_job_last_run_age_seconds",
        "gauge",
        "Seconds since each periodic job last started.",
    )
    failing = Family(
        "cer_periodic_job_failing", "gauge", "1 when a periodic job's last run raised an error."
    )
    for run in PeriodicRun.objects.order_by("name"):
        if run.last_started_at is not None:
            age.add((now - run.last_started_at).total_seconds(), job=run.name)
        failing.add(1 if run.last_error else 0, job=run.name)
    return [age, failing]


def _heartbeats(now: dt.datetime) -> list[Family]:
    from cer.core.models import Heartbeat

    family = Family(
        "cer_process_heartbeat_age_seconds",
        "gauge",
        "Seconds since each long-running process (ingest, scheduler, settlement, worker) "
        "last beat.",
    )
    for heartbeat in Heartbeat.objects.order_by("name"):
        family.add((now - heartbeat.last_beat_at).total_seconds(), process=heartbeat.name)
    return [family]


_INGEST_TABLES = (
    ("counter_sample", "metering.CounterSample"),
    ("interval_energy", "metering.IntervalEnergy"),
    ("status_message", "metering.IngestedMessage"),
)


def _ingestion(now: dt.datetime) -> list[Family]:
    rate = Family(
        "cer_ingest_records_per_second",
        "gauge",
        "Device records stored per second over the last 5 minutes, by kind "
        "(counter values, interval energies, timeless status messages).",
    )
    lag = Family(
        "cer_ingest_lag_seconds",
        "gauge",
        "Seconds since the newest device record of each kind was received.",
    )
    since = now - INGEST_WINDOW
    for kind, label in _INGEST_TABLES:
        model = _model(label)
        if model is None:
            continue
        newest = model.objects.order_by("-pk").values_list("pk", "received_at").first()
        if newest is None:
            rate.add(0, kind=kind)
            continue
        recent = model.objects.filter(
            pk__gt=newest[0] - INGEST_RATE_ROW_LIMIT, received_at__gte=since
        ).count()
        rate.add(recent / INGEST_WINDOW.total_seconds(), kind=kind)
        lag.add(max(0.0, (now - newest[1]).total_seconds()), kind=kind)
    return [rate, lag]


# "readings[3].ts" and "readings[4].ts" are one field: indices would make a series each.
_INDEX = re.compile(r"\[\d+\]")


def _rejected_messages(now: dt.datetime) -> list[Family]:
    model = _model("metering.RejectedMessage")
    if model is None:
        return []
    family = Family(
        "cer_ingest_rejected_messages_last_hour",
        "gauge",
        "Device messages rejected in the last hour, by channel and by the field the "
        "rejection names (reasons are free text; the field is their stable part).",
    )
    counts: dict[tuple[str, str], int] = {}
    rows = (
        model.objects.filter(received_at__gte=now - REJECTED_WINDOW)
        .values_list("channel", "field")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for channel, rejected_field, n in rows:
        key = (channel, _INDEX.sub("[]", rejected_field)[:60] or "message")
        counts[key] = counts.get(key, 0) + n
    for (channel, rejected_field), n in sorted(counts.items()):
        family.add(n, channel=channel, field=rejected_field)
    return [family]
