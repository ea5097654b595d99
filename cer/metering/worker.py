"""The MQTT ingestion loop: subscribe to cer/#, record in batches, acknowledge after commit.

The session is persistent (MQTT 3.1.1, clean_session=False, a fixed client id):
while the worker is away the broker keeps its messages, and every QoS 1 message is
acknowledged only once its batch is committed. A crash therefore loses nothing,
and what the broker sends again is recognised by the idempotency keys of the
recording service, so nothing is counted twice; rejections of messages the broker
flags as redelivered (DUP) are stored once. tests/metering/test_worker_restart.py
kills this worker mid-stream to prove it.

A packet identifier (mid) names a message only on the connection it arrived on. After a
reconnect the broker sends every unacknowledged message again, under its identifier, and
reuses identifiers for new ones: so the worker acknowledges only messages of the present
connection, and drops from its queue those of an earlier one that it has not recorded yet
(their copies are on the way). Recording them twice would count nothing twice, but under
load the copies double the work and make the next keep-alive miss more likely.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections, connections

from cer.metering import broker
from cer.metering.recording import IncomingMessage, IngestOutcome, ingest_messages

logger = logging.getLogger(__name__)

SUBSCRIPTION = "cer/#"
# A worker deep in a backlog reads its socket slowly: a short keep-alive would end the
# connection while the broker's answer to the ping waits behind thousands of messages.
KEEPALIVE_S = 60


@dataclass(frozen=True)
class _Received:
    mid: int
    qos: int
    message: IncomingMessage
    connection: int  # which connection of this worker delivered it (see the module notes)


class IngestWorker:
    """Run until `stop` is set; flush every `batch_size` messages or `flush_interval_s`."""

    def __init__(
        self,
        *,
        config: broker.BrokerConfig,
        stop: threading.Event,
        client_id: str = "cer-ingest",
        batch_size: int = 2500,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.config = config
        self.stop = stop
        self.client_id = client_id
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.totals = IngestOutcome()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._inbox: queue.Queue[_Received] = queue.Queue()
        # Counts the connections: raised by the network thread when one ends, under the
        # lock that acknowledgements are sent under, so none reaches the next connection.
        self._connection = 0
        self._ack_lock = threading.Lock()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        broker.configure_client(self._client, config)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("broker refused the ingestion account: %s", reason_code)
            return
        # Subscribing again on a resumed session is harmless and repairs a lost one.
        client.subscribe(SUBSCRIPTION, qos=1)
        logger.info(
            "connected to %s:%s as %s (session present: %s)",
            self.config.host,
            self.config.port,
            self.client_id,
            flags.session_present,
        )
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            logger.error(
                "the broker refused the subscription to %s: %s", SUBSCRIPTION, reason_codes
            )
            return
        logger.info("subscribed to %s", SUBSCRIPTION)
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._ack_lock:
            self._connection += 1
        self.connected.clear()
        self.subscribed.clear()
        if not self.stop.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        # The clock is read here, at the edge: the arrival time of each message.
        received_at = dt.datetime.now(dt.UTC)
        self._inbox.put(
            _Received(
                message.mid,
                message.qos,
                IncomingMessage(
                    message.topic, bytes(message.payload), received_at, redelivered=message.dup
                ),
                self._connection,
            )
        )

    def run(self) -> None:
        """Connect, then record batches until stopped; the last batch is flushed first."""
        self._client.connect_async(self.config.host, self.config.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._current(self._collect())
                if batch:
                    self._record(batch)
            while batch := self._drain():
                current = self._current(batch)
                if current:
                    self._record(current)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            connections.close_all()
        logger.info(
            "stopped: %s messages, %s new readings, %s duplicates, %s rejected, %s ignored",
            self.totals.messages,
            self.totals.new_readings,
            self.totals.duplicate_readings,
            self.totals.rejected,
            self.totals.ignored,
        )

    def _collect(self) -> list[_Received]:
        try:
            first = self._inbox.get(timeout=self.flush_interval_s)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.flush_interval_s
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _drain(self) -> list[_Received]:
        batch: list[_Received] = []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _current(self, batch: list[_Received]) -> list[_Received]:
        """Leave out messages of an earlier connection: the broker is sending them again."""
        connection = self._connection
        current = [item for item in batch if item.connection == connection]
        if len(current) < len(batch):
            logger.info(
                "left %s messages of an earlier connection to their redelivery",
                len(batch) - len(current),
            )
        return current

    def _record(self, batch: list[_Received]) -> None:
        """Commit the batch, then acknowledge it; while the database fails, retry."""
        attempt = 0
        while True:
            close_old_connections()
            try:
                outcome = ingest_messages(messages=[item.message for item in batch])
                break
            except DatabaseError:
                attempt += 1
                logger.exception("recording a batch of %s failed (attempt %s)", len(batch), attempt)
                # Unacknowledged messages stay with the broker: waiting loses nothing.
                connections.close_all()
                if self.stop.wait(min(30.0, 0.5 * 2**attempt)) and attempt > 3:
                    logger.error("stopping with %s messages unacknowledged", len(batch))
                    return
        with self._ack_lock:
            for item in batch:
                # An identifier of an earlier connection may name another message now.
                if item.qos > 0 and item.connection == self._connection:
                    self._client.ack(item.mid, item.qos)
        outcome.rejections = []
        self.totals.add(outcome)
        logger.debug(
            "batch: %s messages, %s new readings, %s rejected",
            outcome.messages,
            outcome.new_readings,
            outcome.rejected,
        )
