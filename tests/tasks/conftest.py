"""A real Redis and real Celery workers for the task tests.

Redis comes from scripts/services.sh (REDIS_URL, as `make test` starts it); the workers
are `celery worker` processes started here, pointed at this test's database. SQLite's
test database lives in this process's memory, where no worker can reach it: these tests
need PostgreSQL (DATABASE_URL), as `make test` runs them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    database = connection.settings_dict
    login = quote(database["USER"] or "")
    if database.get("PASSWORD"):
        login += ":" + quote(database["PASSWORD"])
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{login}@{host}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.fixture
def queue(settings) -> Iterator[str]:
    """A queue of this test's own on the shared Redis; tasks sent here go to it."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs the Redis started by scripts/services.sh (REDIS_URL)")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database it can open: run on PostgreSQL")
    from config.celery import app

    name = f"test-{uuid.uuid4().hex[:10]}"
    settings.TASKS_ON_CELERY = True
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.task_default_queue = previous


class Workers:
    """Start and stop worker processes; each runs alone in its own process group."""

    def __init__(self, queue: str, tmp_path: Path) -> None:
        self.queue = queue
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, **environment: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "TASKS_ON_CELERY": "true",
            "CELERY_QUEUE": self.queue,
            # Quick redelivery, and a short lease, so that the test takes seconds.
            "CELERY_VISIBILITY_TIMEOUT_S": "4",
            "CELERY_RESTORE_INTERVAL_S": "1",
            "CELERY_RESTORE_THROTTLE": "1",
            "SETTLEMENT_JOB_LEASE_S": "3",
            "PYTHONPATH": str(ROOT),
            **environment,
        }
        log = (self.tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (this interpreter and the project's app)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.tasks.worker_app",
                "worker",
                "--pool",
                "solo",
                "--queues",
                self.queue,
                "--hostname",
                f"{name}@%h",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and everything it started: no clean-up, no acknowledgement."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def workers(queue, tmp_path) -> Iterator[Workers]:
    started = Workers(queue, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll `condition` until it is true, or fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
