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
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK

# Bytes asked of the kernel per read: a few hundred device messages.
CHUNK_BYTES = 256 * 1024
# Packets read from the buffer per turn of the network loop, so that keep-alives and
# outgoing acknowledgements still get their turn.
_PACKETS_PER_TURN = 2000
_PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length 2, packet identifier


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

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

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
