"""/metrics: the Prometheus text format, the expected families, real jobs and rejections counted."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cer.core import metrics
from cer.core.models import PeriodicRun
from cer.metering.recording import IncomingMessage, ingest_messages
from cer.settlement.jobs import request_run
from cer.settlement.models import JobStatus, SettlementJob
from tests.factories.settlement import settled_small

pytestmark = pytest.mark.django_db

# name{label="value",...} value  (text format 0.0.4; values may be +Inf, NaN, floats)
SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|Inf|NaN))$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, dict[str, str], float]]]:
    """Families {name: (type, help)} and samples; fail on any line that is not the format."""
    families: dict[str, tuple[str, str]] = {}
    helps: dict[str, str] = {}
    samples = []
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, line
            assert name in helps, f"TYPE before HELP: {line}"
            families[name] = (kind, helps[name])
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            labels = dict(LABEL.findall(match["labels"] or ""))
            samples.append((match["name"], labels, float(match["value"])))
    for name, _labels, _value in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in families or base in families, f"sample without HELP/TYPE: {name}"
    return families, samples


def value(samples, name: str, **labels: str) -> float:
    found = [
        v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


@pytest.fixture(autouse=True)
def _fresh_latency():
    metrics.LATENCY.reset()
    yield
    metrics.LATENCY.reset()


def test_metrics_parse_and_hold_every_family(client):
    client.get("/healthz")
    PeriodicRun.objects.create(
        name="alerts.evaluate",
        next_run_at=timezone.now(),
        last_started_at=timezone.now() - dt.timedelta(seconds=90),
        last_error="RuntimeError: boom",
    )

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families, samples = parse(response.content.decode())
    assert {
        "cer_http_request_duration_seconds": "histogram",
        "cer_settlement_jobs": "gauge",
        "cer_settlement_job_duration_seconds": "summary",
        "cer_settlement_job_running_seconds": "gauge",
        "cer_notification_deliveries_due": "gauge",
        "cer_notification_deliveries_failed": "gauge",
        "cer_periodic_job_last_run_age_seconds": "gauge",
        "cer_periodic_job_failing": "gauge",
        "cer_process_heartbeat_age_seconds": "gauge",
        "cer_ingest_records_per_second": "gauge",
        "cer_ingest_lag_seconds": "gauge",
        "cer_ingest_rejected_messages_last_hour": "gauge",
        "cer_metrics_collector_failed": "gauge",
    }.items() <= {name: kind for name, (kind, _help) in families.items()}.items()
    # The /healthz request above was timed under its view name, not its path.
    assert (
        value(samples, "cer_http_request_duration_seconds_count", view="healthz", method="GET") == 1
    )
    assert (
        value(
            samples,
            "cer_http_request_duration_seconds_bucket",
            view="healthz",
            method="GET",
            le="+Inf",
        )
        == 1
    )
    assert value(samples, "cer_periodic_job_failing", job="alerts.evaluate") == 1
    assert (
        89 <= value(samples, "cer_periodic_job_last_run_age_seconds", job="alerts.evaluate") < 120
    )
    assert value(samples, "cer_metrics_collector_failed", group="ingestion") == 0


def test_a_settlement_job_run_by_the_worker_is_counted_with_its_duration(client):
    small = settled_small()
    request_run(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        actor=None,
        now=dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC),
        background=False,
    )
    call_command("run_settlement_jobs", "--once", stdout=StringIO())
    job = SettlementJob.objects.get()
    assert job.status == JobStatus.DONE

    _, samples = parse(client.get("/metrics").content.decode())

    assert value(samples, "cer_settlement_jobs", state="done") == 1
    assert value(samples, "cer_settlement_jobs", state="queued") == 0
    assert value(samples, "cer_settlement_job_duration_seconds_count") == 1
    assert value(samples, "cer_settlement_job_duration_seconds_sum") == pytest.approx(
        (job.finished_at - job.started_at).total_seconds(), abs=0.01
    )
    assert value(samples, "cer_process_heartbeat_age_seconds", process="settlement") < 60


def test_a_rejected_message_is_counted_by_channel_and_field(client):
    now = timezone.now()
    ingest_messages(
        messages=[
            IncomingMessage("cer/not-a-number/IT001E00000001/meter/status", b"{}", now),
            IncomingMessage("cer/also/wrong", b"{}", now),
        ]
    )

    _, samples = parse(client.get("/metrics").content.decode())

    rejected = [(lab, v) for n, lab, v in samples if n == "cer_ingest_rejected_messages_last_hour"]
    assert sum(v for _lab, v in rejected) == 2
    assert {lab["channel"] for lab, _v in rejected} == {"MQTT"}


def test_another_address_is_refused(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403


def test_label_values_are_escaped():
    family = metrics.Family("x_total", "counter", "Line one\nline two.")
    family.add(1, view='say "hi"\\now')

    text = metrics.render([family])

    assert text == (
        "# HELP x_total Line one\\nline two.\n"
        "# TYPE x_total counter\n"
        'x_total{view="say \\"hi\\"\\\\now"} 1\n'
    )
    parse(text)
