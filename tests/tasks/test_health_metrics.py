"""/healthz checks Redis and the workers' heartbeat; /metrics counts the tasks and the queue."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

import pytest
from django.utils import timezone

from cer.core import heartbeat, task_metrics
from cer.core.heartbeat import SCHEDULER, WORKER, beat

pytestmark = pytest.mark.django_db

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs the Redis started by scripts/services.sh (REDIS_URL)",
)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    heartbeat.forget()
    yield
    heartbeat.forget()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def test_workers_expected_and_redis_down_answers_503_naming_redis_and_the_worker(client, settings):
    settings.HEALTH_EXPECT = "scheduler,worker"
    settings.REDIS_URL = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"
    beat(SCHEDULER, timezone.now())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis", "worker"]
    assert "unreachable" in body["checks"]["redis"]["reason"]
    assert "hunter2" not in response.content.decode()
    assert body["checks"]["worker"]["reason"] == "no heartbeat from worker yet"


def test_a_stale_worker_heartbeat_fails_the_worker_check(client, settings):
    settings.HEALTH_EXPECT = "scheduler,worker"
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    now = timezone.now()
    beat(SCHEDULER, now)
    beat(WORKER, now - dt.timedelta(minutes=3))

    body = client.get("/healthz").json()

    assert body["checks"]["worker"]["status"] == "failed"
    assert body["checks"]["worker"]["reason"].startswith("last heartbeat 1")


def test_redis_and_the_worker_are_skipped_when_not_expected(client, settings):
    settings.HEALTH_EXPECT = "scheduler"
    beat(SCHEDULER, timezone.now())

    response = client.get("/healthz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "skipped"
    assert checks["worker"]["status"] == "skipped"


@needs_redis
def test_redis_up_and_a_fresh_worker_heartbeat_answer_200(client, settings):
    settings.HEALTH_EXPECT = "scheduler,worker"
    settings.REDIS_URL = os.environ["REDIS_URL"]
    now = timezone.now()
    beat(SCHEDULER, now)
    beat(WORKER, now)

    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["redis"]["status"] == "ok"
    assert response.json()["checks"]["worker"]["status"] == "ok"


@needs_redis
def test_metrics_show_task_counts_durations_and_the_queue_length(client, settings):
    settings.TASKS_ON_CELERY = True
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.CELERY_TASK_DEFAULT_QUEUE = queue = f"test-{uuid.uuid4().hex[:8]}"
    name = f"tests.task_{uuid.uuid4().hex[:8]}"
    redis = task_metrics.client()
    try:
        redis.rpush(queue, b"a", b"b", b"c")
        task_metrics.record(name, "SUCCESS", 1.5)
        task_metrics.record(name, "SUCCESS", 0.5)
        task_metrics.record(name, "FAILURE", 1.0)

        text = client.get("/metrics").content.decode()
    finally:
        redis.delete(queue)
        redis.hdel(task_metrics.COUNTS_KEY, f"{name}|SUCCESS", f"{name}|FAILURE")
        redis.hdel(task_metrics.SECONDS_KEY, name)
        redis.close()

    assert "cer_redis_up 1" in text
    assert f'cer_tasks_total{{task="{name}",state="success"}} 2' in text
    assert f'cer_tasks_total{{task="{name}",state="failure"}} 1' in text
    assert f'cer_task_duration_seconds_sum{{task="{name}"}} 3' in text
    assert f'cer_task_duration_seconds_count{{task="{name}"}} 3' in text
    assert f'cer_task_queue_length{{queue="{queue}"}} 3' in text


def test_metrics_say_redis_is_down_without_failing_the_scrape(client, settings):
    settings.TASKS_ON_CELERY = True
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    response = client.get("/metrics")

    assert response.status_code == 200
    assert "cer_redis_up 0" in response.content.decode()
