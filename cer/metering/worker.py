"""The MQTT ingestion loop: subscribe to device topics, record in batches, acknowledge after commit.

The session is persistent (MQTT 5, clean start off, a session expiry interval, a fixed
client id): while the worker is away the broker keeps its messages, and every QoS 1 message
is acknowledged only once its batch is committed. A crash therefore loses nothing, and what
the broker sends again is recognised by the idempotency keys of the recording service, so
nothing is counted twice; rejections of messages the broker flags as redelivered (DUP) are
stored once. tests/metering/test_worker_restart.py kills this worker mid-stream to prove it.

Several workers share the stream through an MQTT 5 shared subscription,
`$share/<group>/cer/#`: the broker hands each message to one member of the group. Each
worker keeps its own client id, hence its own session. Mosquitto 2.0 deals the messages
round-robin among the group's sessions, offline ones included: a dead worker's share
waits in its session until it returns, and its unacknowledged messages are sent again to
it alone (docs/metering.md, Several workers; tests/metering/test_shared_workers.py). The
recording locks what it reads a baseline of (cer.metering.recording), so one device's
messages may reach different workers in any order.

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
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cer.core.heartbeat import INGEST, beat
from cer.metering import broker
from cer.metering.batches import ScreenedBatch
from cer.metering.mqtt_reading import BufferedClient
from cer.metering.recording import (
    IncomingMessage,
    IngestOutcome,
    ingest_messages,
    record_screened,
    screen_messages,
)

logger = logging.getLogger(__name__)

SUBSCRIPTION = "cer/#"
# How long the broker keeps a worker's session (its queued messages) after the connection
# ends: long enough for any restart, bounded so that a retired worker's session goes away.
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
# A worker deep in a backlog reads its socket slowly: a short keep-alive would end the
# connection while the broker's answer to the ping waits behind thousands of messages.
KEEPALIVE_S = 60
# A leaving worker ends its session once nothing has arrived for this long [s] after the
# broker confirmed the unsubscription: the queued messages come at once on connecting.
LEAVE_QUIET_S = 3.0


class _Inbox:
    """Messages from the network thread to the screening thread, in arrival order.

    A deque and an event instead of a queue.Queue: the network thread appends thousands of
    messages a second, and a Queue takes a lock and notifies a condition for each put and
    each get. Here a put is an append (and a wake-up only when the reader waits), and the
    reader takes what has arrived in one pass.
    """

    def __init__(self) -> None:
        self._items: deque[_Received] = deque()
        self._arrived = threading.Event()

    def put(self, item: _Received) -> None:
        self._items.append(item)
        if not self._arrived.is_set():
            self._arrived.set()

    def empty(self) -> bool:
        return not self._items

    def take(self, most: int, within_s: float) -> list[_Received]:
        """Wait up to `within_s` for a first message, then as long again for up to `most`."""
        if not self._wait(within_s):
            return []
        batch: list[_Received] = []
        deadline = time.monotonic() + within_s
        while True:
            batch += self.drain(most - len(batch))
            remaining = deadline - time.monotonic()
            if len(batch) >= most or remaining <= 0 or not self._wait(remaining):
                return batch

    def drain(self, most: int) -> list[_Received]:
        """Up to `most` messages that have arrived, without waiting."""
        items = self._items
        return [items.popleft() for _ in range(min(most, len(items)))]

    def _wait(self, timeout_s: float) -> bool:
        if self._items:
            return True
        # Cleared before looking again: a put after the look sets it, none is missed.
        self._arrived.clear()
        if self._items:
            return True
        self._arrived.wait(timeout_s)
        return bool(self._items)


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
        share_group: str = "",
        session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S,
        leave: bool = False,
    ) -> None:
        """`share_group` empty: subscribe to cer/# alone (one worker); else join that group.

        With `leave`, the worker takes its session back, unsubscribes, records what was
        queued for it and ends the session (retiring a worker of a group loses nothing).
        """
        self.config = config
        self.stop = stop
        self.client_id = client_id
        self.subscription = f"$share/{share_group}/{SUBSCRIPTION}" if share_group else SUBSCRIPTION
        self.leave = leave
        self.left = threading.Event()
        self._last_message_at = time.monotonic()
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.totals = IngestOutcome()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._inbox = _Inbox()
        # Screened batches waiting for the writer (run's notes); one at most.
        self._screened: queue.Queue[tuple[list[_Received], ScreenedBatch | None]] = queue.Queue(
            maxsize=1
        )
        self._quit_screening = threading.Event()
        self._screening = False  # the screening thread holds a batch not handed over yet
        # Counts the connections: raised by the network thread when one ends, under the
        # lock that acknowledgements are sent under, so none reaches the next connection.
        self._connection = 0
        self._ack_lock = threading.Lock()
        self._client = BufferedClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        broker.configure_client(self._client, config)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = self._on_unsubscribe
        # MQTT 5 ends a session with its connection unless the CONNECT asks to keep it.
        self._connect_properties = Properties(PacketTypes.CONNECT)
        self._connect_properties.SessionExpiryInterval = session_expiry_s
        # Unacknowledged messages the broker may send: two batches, one being committed
        # while the next arrives (without it Mosquitto allows 65,535 for an MQTT 5 client).
        self._connect_properties.ReceiveMaximum = min(65535, max(1, 2 * batch_size))

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("broker refused the ingestion account: %s", reason_code)
            return
        if self.leave:
            client.unsubscribe(self.subscription)
        else:
            # Subscribing again on a resumed session is harmless and repairs a lost one.
            client.subscribe(self.subscription, qos=1)
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
                "the broker refused the subscription to %s: %s", self.subscription, reason_codes
            )
            return
        logger.info("subscribed to %s", self.subscription)
        self.subscribed.set()

    def _on_unsubscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        logger.info(
            "unsubscribed from %s: recording what was queued, then leaving", self.subscription
        )
        self.left.set()

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
        self._last_message_at = time.monotonic()
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
        """Connect, then record batches until stopped; the last batch is flushed first.

        A second thread collects and screens the next batch (recording.screen_messages:
        device lookup, parsing) while this one writes the previous batch and waits for
        the database. Batches keep their order: one thread screens, one writes.
        """
        self._client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=KEEPALIVE_S,
            clean_start=False,
            properties=self._connect_properties,
        )
        self._client.loop_start()
        screener = threading.Thread(target=self._screen_batches, name="ingest-screen", daemon=True)
        screener.start()
        try:
            while not self.stop.is_set():
                # Wall-clock time from Django, not this module's `dt`: the time messages
                # are stamped with on receipt is a separate clock (tests shift it).
                beat(INGEST, timezone.now())
                try:
                    batch, screened = self._screened.get(timeout=self.flush_interval_s)
                except queue.Empty:
                    if self.leave and self._drained():
                        break
                    continue
                current = self._current(batch)
                if current:
                    # A reconnect since the screening left messages out: screen again.
                    self._record(current, screened if len(current) == len(batch) else None)
            self._quit_screening.set()
            # What the screening thread still holds or hands over, then what is left.
            while screener.is_alive() or not self._screened.empty():
                try:
                    batch, screened = self._screened.get(timeout=0.05)
                except queue.Empty:
                    continue
                current = self._current(batch)
                if current:
                    self._record(current, screened if len(current) == len(batch) else None)
            while batch := self._drain():
                current = self._current(batch)
                if current:
                    self._record(current)
        finally:
            self._quit_screening.set()
            self._disconnect()
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

    def _screen_batches(self) -> None:
        """The screening thread: collect a batch, screen it, hand it to the writer in order.

        Holds at most one screened batch beyond the one being written (the queue's bound),
        so a slow database slows the collecting, and the broker's receive maximum the rest.
        A batch it could not screen (the database failing) goes over unscreened: the
        writer screens it again within its retries.
        """
        try:
            while not self._quit_screening.is_set():
                batch = self._current(self._collect())
                if batch:
                    # Taken from the inbox and not handed over yet. A leaving writer that
                    # looked in between still records it: after its loop it waits for
                    # this thread to hand over what it holds.
                    self._screening = True
                    screened: ScreenedBatch | None = None
                    try:
                        close_old_connections()
                        screened = screen_messages(messages=[item.message for item in batch])
                    except DatabaseError:
                        logger.warning(
                            "screening a batch of %s failed: left to the writer", len(batch)
                        )
                        connections.close_all()
                    self._screened.put((batch, screened))
                self._screening = False
        finally:
            self._screening = False
            connections.close_all()

    def _drained(self) -> bool:
        """Whether a leaving worker has recorded all that was queued for it."""
        quiet_s = time.monotonic() - self._last_message_at
        handed_over = self._inbox.empty() and self._screened.empty() and not self._screening
        return self.left.is_set() and handed_over and quiet_s > LEAVE_QUIET_S

    def _disconnect(self) -> None:
        if not (self.leave and self.left.is_set()):
            self._client.disconnect()
            return
        # Session expiry 0 on DISCONNECT: the broker discards the session now.
        properties = Properties(PacketTypes.DISCONNECT)
        properties.SessionExpiryInterval = 0
        self._client.disconnect(properties=properties)
        logger.info("left: the session of %s is ended", self.client_id)

    def _collect(self) -> list[_Received]:
        return self._inbox.take(self.batch_size, self.flush_interval_s)

    def _drain(self) -> list[_Received]:
        return self._inbox.drain(self.batch_size)

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

    def _record(self, batch: list[_Received], screened: ScreenedBatch | None = None) -> None:
        """Commit the batch, then acknowledge it; while the database fails, retry.

        `screened`: the batch as the screening thread checked it; a retry (or None)
        screens it again.
        """
        attempt = 0
        started = time.monotonic()
        while True:
            close_old_connections()
            try:
                if screened is not None and attempt == 0:
                    outcome = record_screened(screened)
                else:
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
            # An identifier of an earlier connection may name another message now. The
            # subscription is at QoS 1: QoS 0 messages need no acknowledgement.
            self._client.ack_all(
                [item.mid for item in batch if item.qos and item.connection == self._connection]
            )
            # The broker sends more once these are acknowledged: a leaving worker waits for them.
            self._last_message_at = time.monotonic()
        outcome.rejections = []
        self.totals.add(outcome)
        logger.debug(
            "batch: %s messages, %s new readings, %s rejected, %.0f ms",
            outcome.messages,
            outcome.new_readings,
            outcome.rejected,
            (time.monotonic() - started) * 1000,
        )
