"""Run the MQTT ingestion worker, or N of them, until SIGTERM or SIGINT.

Without --workers the worker runs in this process. With --workers N this process starts
N worker processes, each with its own client id (`<client id>-1` … `<client id>-N`) in the
same shared-subscription group, restarts one that dies, and passes SIGTERM on to them.
"""

from __future__ import annotations

import gc
import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cer.metering import broker
from cer.metering.worker import IngestWorker

logger = logging.getLogger(__name__)

# A worker that dies again within this time after its start is restarted after a growing
# pause (a broken database or broker should not be hammered), up to the longest one [s].
_STABLE_S = 30.0
_LONGEST_PAUSE_S = 30.0
# How long the workers get to commit and acknowledge their batch after SIGTERM [s].
_STOP_WAIT_S = 120.0


# Allocations between two collections of the youngest generation (CPython's default: 700).
# A batch allocates hundreds of thousands of short-lived objects, nearly all freed by
# reference counting; at the default each batch set off hundreds of collections, the older
# ones walking the whole of Django's loaded objects: half of the recording time.
_GC_THRESHOLD = (50_000, 20, 100)


class Command(BaseCommand):
    help = (
        "Subscribe to the device topics and record readings in the hourly table "
        "(QoS 1, exactly once); --workers N runs N workers sharing the stream."
    )
    # The checks import every URL module and take seconds: a worker restarted after a
    # crash would keep the broker's queue waiting for them. `manage.py check` runs them
    # at deployment (deploy/), before any worker starts.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--client-id",
            default="cer-ingest",
            help="MQTT client id of the persistent session (keep it fixed across restarts); "
            "with --workers, the prefix of the workers' ids.",
        )
        parser.add_argument("--batch-size", type=int, default=2500, help="messages per commit")
        parser.add_argument(
            "--flush-ms", type=int, default=200, help="longest wait before a partial batch [ms]"
        )
        parser.add_argument(
            "--share-group",
            default=None,
            help="shared-subscription group (default MQTT_SHARE_GROUP); empty: subscribe "
            "to cer/# alone, for a single worker",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="start N worker processes sharing the stream and restart any that dies",
        )
        parser.add_argument(
            "--leave",
            action="store_true",
            help="retire this client id: record what its session holds, unsubscribe and end "
            "the session (when running fewer workers than before)",
        )

    def handle(self, *args, **options) -> None:
        share_group = options["share_group"]
        if share_group is None:
            share_group = settings.MQTT_SHARE_GROUP
        if options["workers"] < 0:
            raise CommandError("--workers: give a number of workers, 1 or more")
        if options["workers"] and options["leave"]:
            raise CommandError("--leave retires one client id: give it without --workers")
        if options["workers"] > 1 and not share_group:
            raise CommandError(
                "--workers: several workers need a shared-subscription group "
                "(--share-group or MQTT_SHARE_GROUP)"
            )
        stop = threading.Event()

        def _stop(signum: int, frame: object) -> None:
            logger.info("signal %s: finishing the current batch", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        if options["workers"]:
            _supervise(options, share_group, stop)
            return
        _tune_garbage_collector()
        worker = IngestWorker(
            config=broker.ingest_config(),
            stop=stop,
            client_id=options["client_id"],
            batch_size=options["batch_size"],
            flush_interval_s=options["flush_ms"] / 1000,
            share_group=share_group,
            session_expiry_s=settings.MQTT_SESSION_EXPIRY_S,
            leave=options["leave"],
        )
        worker.run()


def _tune_garbage_collector() -> None:
    """Leave what is loaded at start-up to reference counting, and collect less often.

    `gc.freeze` moves every object alive now (modules, models, settings) out of the
    collector's sight; only objects a batch leaves in cycles wait for a collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLD)


class _Child:
    """One worker process of the supervisor, restarted when it dies."""

    def __init__(self, command: list[str], client_id: str) -> None:
        self.command = command
        self.client_id = client_id
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.pause_s = 0.0
        self.due_at = 0.0  # when a dead worker is started again

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)  # noqa: S603 (this interpreter, fixed arguments)
        self.started_at = time.monotonic()
        logger.info("started worker %s (pid %s)", self.client_id, self.process.pid)

    def check(self, now: float) -> None:
        """Start the worker again once it has died and its pause is over."""
        assert self.process is not None
        if self.process.poll() is None:
            return
        if self.due_at == 0.0:
            quick = now - self.started_at < _STABLE_S
            self.pause_s = min(_LONGEST_PAUSE_S, max(1.0, 2 * self.pause_s)) if quick else 0.0
            self.due_at = now + self.pause_s
            logger.error(
                "worker %s died (exit %s); restarting in %.0f s",
                self.client_id,
                self.process.returncode,
                self.pause_s,
            )
        if now >= self.due_at:
            self.due_at = 0.0
            self.start()


def _supervise(options: dict, share_group: str, stop: threading.Event) -> None:
    """Run `--workers` worker processes until stopped; restart any that dies."""
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    children = []
    for number in range(1, options["workers"] + 1):
        client_id = f"{options['client_id']}-{number}"
        command = [sys.executable, manage, "ingest_mqtt", "--client-id", client_id]
        command += ["--batch-size", str(options["batch_size"])]
        command += ["--flush-ms", str(options["flush_ms"]), "--share-group", share_group]
        children.append(_Child(command, client_id))
    for child in children:
        child.start()
    while not stop.wait(0.5):
        now = time.monotonic()
        for child in children:
            child.check(now)
    for child in children:
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_WAIT_S
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.error("worker %s did not stop in time: killed", child.client_id)
            child.process.kill()
            child.process.wait()
    logger.info("stopped %s workers", len(children))
