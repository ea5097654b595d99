"""The ingestion worker's MQTT client, reading its socket in large chunks.

paho-mqtt reads a packet a few bytes at a time: one `recv` for the packet type, one per
byte of its length, one for the rest, after a `select` each time. Under load that is five
system calls per message, and each one gives up Python's interpreter lock: while the
worker's main thread parses and records a batch, the network thread waits up to the
switch interval (5 ms) to take the lock back after every call, so it reads a few hundred
messages per second and the broker, held back by the receive maximum, waits for it.

`BufferedClient` hands paho a socket that answers those small reads from one large
`recv` (`BufferedSocket`), and reads every complete packet already received before going
back to `select`, and writes a batch's acknowledgements as one stream of PUBACK packets
(`ack_all`) instead of one queued packet, wake-up and `send` each. The protocol, the
session and the acknowledgements' timing stay paho's and the worker's.

A device's PUBLISH (QoS 1, MQTT 5, no properties) is read by `_fast_publish`: paho builds
for each an MQTTMessage (with a lock and a condition of its own), an empty Properties
(clearing thirty attributes one by one) and a walk of its per-topic callbacks, which the
worker has none of: a third of the network thread's time. `on_message` then gets a
`Publish`, which holds the fields the worker reads. Any other packet goes to paho.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK

# Bytes asked of the kernel per read: a few hundred device messages.
CHUNK_BYTES = 256 * 1024
# Packets read from the buffer per turn of the network loop, so that keep-alives and
# outgoing acknowledgements still get their turn.
_PACKETS_PER_TURN = 2000
_PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length 2, packet identifier
_TWO_BYTES = struct.Struct("!H")  # a topic's length, a packet identifier


class Publish:
    """A received PUBLISH as the worker reads it: the fields of paho's MQTTMessage it uses."""

    __slots__ = ("dup", "mid", "payload", "properties", "qos", "retain", "topic")

    def __init__(self, *, mid: int, dup: bool, retain: bool, topic: str, payload: bytes) -> None:
        self.mid = mid
        self.qos = 1
        self.dup = dup
        self.retain = retain
        self.topic = topic
        self.payload = payload
        self.properties = None  # a packet with properties goes to paho's own reading


class BufferedSocket:
    """A connected socket whose reads are served from one large `recv`.

    Everything but `recv` and `pending` goes to the wrapped socket (a plain or a TLS one).
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._position = 0

    def recv(self, size: int) -> bytes:
        """Return up to `size` bytes, from the buffer, or else from one large read."""
        if self._position >= len(self._data):
            # BlockingIOError (or ssl.SSLWantReadError) passes on to paho as from a socket.
            data = self._sock.recv(max(size, CHUNK_BYTES))
            if len(data) <= size:
                return data
            self._data, self._position = data, 0
        start = self._position
        self._position = min(len(self._data), start + size)
        return self._data[start : self._position]

    def buffered(self) -> int:
        """Bytes received from the kernel and not yet handed to paho."""
        return len(self._data) - self._position

    def pending(self) -> int:
        """What paho asks before `select`: bytes readable without waiting for the network."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return self.buffered() + inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class BufferedClient(mqtt.Client):
    """paho's client on a BufferedSocket, reading every buffered packet per loop turn.

    Relies on paho 2's internal `_create_socket` and `_packet_queue`;
    tests/metering/test_worker_pipeline.py checks them against the installed paho.
    """

    _per_topic_callbacks = False

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def message_callback_add(self, sub: str, callback: Any) -> None:
        self._per_topic_callbacks = True  # paho's reading then picks the callback
        super().message_callback_add(sub, callback)

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        if self._fast_publish():
            return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._handle_publish()

    def _fast_publish(self) -> bool:
        """Hand a device's PUBLISH to on_message as a `Publish`; False: paho must read it.

        Only QoS 1 acknowledged by the worker (manual_ack), MQTT 5 with an empty property
        list and a valid UTF-8 topic; on_message is called as paho calls it, under
        _in_callback_mutex, and what it raises goes up as from paho.
        """
        header = self._in_packet["command"]
        if (
            (header & 0x06) != 0x02
            or not self._manual_ack
            or self._protocol != mqtt.MQTTv5
            or self._per_topic_callbacks
        ):
            return False
        packet = self._in_packet["packet"]
        try:
            (length,) = _TWO_BYTES.unpack_from(packet, 0)
            topic = bytes(packet[2 : 2 + length]).decode("utf-8")
            (mid,) = _TWO_BYTES.unpack_from(packet, 2 + length)
            properties_at = 4 + length
            if packet[properties_at] != 0 or not topic:
                return False  # properties (a topic alias among them): paho's reading
        except (struct.error, IndexError, UnicodeDecodeError):
            return False  # malformed or not UTF-8: paho reports it as it does
        message = Publish(
            mid=mid,
            dup=bool(header & 0x08),
            retain=bool(header & 0x01),
            topic=topic,
            payload=bytes(packet[properties_at + 1 :]),
        )
        # paho types the handler for its MQTTMessage; the worker's reads only the fields
        # that Publish has.
        on_message = cast("Callable[..., object] | None", self.on_message)
        if on_message is not None:
            with self._in_callback_mutex:
                on_message(self, self._userdata, message)
        return True

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        for _ in range(_PACKETS_PER_TURN):
            sock = self._sock
            if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, BufferedSocket):
                break
            if sock.buffered() == 0:
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_all(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages of the present connection, all in one write.

        The PUBACKs go out as one queued buffer (what `ack` sends per message: type,
        length 2, identifier; MQTT 5 leaves out the success reason code), so the network
        thread sends them with one `send` and is woken once.
        """
        if mids:
            packet = b"".join(_PUBACK_PACKET.pack(PUBACK, 2, mid) for mid in mids)
            self._packet_queue(PUBACK, packet, 0, 0)
