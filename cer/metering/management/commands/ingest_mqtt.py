"""Run the MQTT ingestion worker until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from cer.metering import broker
from cer.metering.worker import IngestWorker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Subscribe to cer/# and record device readings in the hourly table (QoS 1, exactly once)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--client-id",
            default="cer-ingest",
            help="MQTT client id of the persistent session (keep it fixed across restarts).",
        )
        parser.add_argument("--batch-size", type=int, default=2500, help="messages per commit")
        parser.add_argument(
            "--flush-ms", type=int, default=200, help="longest wait before a partial batch [ms]"
        )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: object) -> None:
            logger.info("signal %s: finishing the current batch", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        worker = IngestWorker(
            config=broker.ingest_config(),
            stop=stop,
            client_id=options["client_id"],
            batch_size=options["batch_size"],
            flush_interval_s=options["flush_ms"] / 1000,
        )
        worker.run()
