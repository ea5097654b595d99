"""The worker's pipeline: large socket reads, a screening thread, the writer in order.

The network thread reads its socket in large chunks (cer.metering.mqtt_reading); a second
thread screens the next batch while the writer records the previous one. Every message is
recorded once, batches keep their order, and a message is acknowledged only after the
batch that holds it is recorded. The end-to-end runs against the real broker and database
(test_broker.py, test_worker_restart.py with its SIGKILLs) go through the same code.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from cer.metering import broker
from cer.metering import worker as worker_module
from cer.metering.batches import IngestOutcome, ScreenedBatch
from cer.metering.mqtt_reading import CHUNK_BYTES, BufferedClient, BufferedSocket
from cer.metering.worker import IngestWorker

# --- large reads --------------------------------------------------------------------------


class _FakeSocket:
    """A socket that has `chunks` to give, one per recv, then would block."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.asked: list[int] = []

    def recv(self, size: int) -> bytes:
        self.asked.append(size)
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        assert len(chunk) <= size
        return chunk

    def fileno(self) -> int:
        return 42


def _puback(mid: int) -> bytes:
    return bytes([0x40, 2]) + mid.to_bytes(2, "big")


def test_small_reads_are_served_from_one_large_read():
    packets = b"".join(_puback(mid) for mid in range(1, 101))
    inner = _FakeSocket(packets)
    sock = BufferedSocket(inner)

    read = []
    for _ in range(100):
        command = sock.recv(1)
        length = sock.recv(1)
        read.append(command + length + sock.recv(length[0]))

    assert read == [_puback(mid) for mid in range(1, 101)]
    assert inner.asked == [CHUNK_BYTES]  # one system call for a hundred packets
    assert sock.pending() == 0
    with pytest.raises(BlockingIOError):
        sock.recv(1)  # nothing buffered: the wrapped socket answers, as paho expects


def test_a_packet_split_across_reads_comes_out_whole_and_the_rest_waits():
    inner = _FakeSocket(_puback(1) + _puback(2)[:1], _puback(2)[1:])
    sock = BufferedSocket(inner)

    assert sock.recv(4) == _puback(1)
    assert sock.pending() == 1
    assert sock.recv(4) == _puback(2)[:1]  # a short read, as a socket may give
    assert sock.recv(3) == _puback(2)[1:]
    assert sock.fileno() == 42  # everything else goes to the socket


def test_a_batch_of_acknowledgements_is_one_buffer_of_puback_packets():
    import paho.mqtt.client as mqtt

    client = BufferedClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, manual_ack=True)
    client.ack_all([1, 2, 300])
    # What paho's own ack(mid, 1) queues for each, one after the other.
    for mid in (1, 2, 300):
        client.ack(mid, 1)

    queued = [packet["packet"] for packet in client._out_packet]
    assert queued[0] == bytes([0x40, 2, 0, 1, 0x40, 2, 0, 2, 0x40, 2, 1, 44])
    assert queued[0] == b"".join(queued[1:])


def _publish_packet(*, topic: str, mid: int, payload: bytes, properties: bytes = b"\x00"):
    """What paho's reader holds of a QoS 1 PUBLISH: its first byte and the rest of it."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + mid.to_bytes(2, "big") + properties + payload
    return {"command": 0x32 | 0x08, "packet": body}  # QoS 1, sent again (DUP)


def _received(client, handle) -> list:
    got = []
    client.on_message = lambda _client, _userdata, message: got.append(message)
    handle()
    return got


def test_a_device_publish_is_read_as_paho_reads_it():
    import paho.mqtt.client as mqtt

    client = BufferedClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, manual_ack=True)
    client._in_packet = _publish_packet(
        topic="cer/7/IT001E00000001/m/readings", mid=513, payload=b'{"start": 1}'
    )

    (fast,) = _received(client, client._handle_publish)
    (paho,) = _received(client, lambda: mqtt.Client._handle_publish(client))

    fields = ("mid", "qos", "dup", "retain", "topic", "payload")
    assert type(fast).__name__ == "Publish" and type(paho).__name__ == "MQTTMessage"
    assert [getattr(fast, name) for name in fields] == [getattr(paho, name) for name in fields]
    assert (fast.mid, fast.dup, fast.topic) == (513, True, "cer/7/IT001E00000001/m/readings")


def test_a_publish_with_properties_or_another_qos_is_left_to_paho():
    import paho.mqtt.client as mqtt

    client = BufferedClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, manual_ack=True)
    # Payload format indicator 1 (UTF-8): a property, so paho's reader keeps it.
    with_property = _publish_packet(topic="cer/x", mid=1, payload=b"{}", properties=b"\x02\x01\x01")
    client._in_packet = with_property
    assert client._fast_publish() is False
    (message,) = _received(client, client._handle_publish)
    assert message.properties.PayloadFormatIndicator == 1 and message.payload == b"{}"

    client._in_packet = {**_publish_packet(topic="cer/x", mid=1, payload=b"{}"), "command": 0x30}
    assert client._fast_publish() is False  # QoS 0


def test_the_inbox_hands_over_every_message_in_order_in_batches():
    inbox = worker_module._Inbox()
    assert inbox.take(10, 0.01) == [] and inbox.empty()
    total = 20_000

    def produce():
        for number in range(total):
            inbox.put(number)

    producer = threading.Thread(target=produce)
    producer.start()
    taken, sizes = [], []
    while len(taken) < total:
        batch = inbox.take(2500, 0.05)
        sizes.append(len(batch))
        taken += batch
    producer.join()

    assert taken == list(range(total))
    assert max(sizes) <= 2500 and inbox.empty()
    assert inbox.drain(5) == []


# --- screening beside writing -------------------------------------------------------------


@pytest.fixture
def pipeline(monkeypatch):
    """Replace the database steps with recorders; return what each of them saw."""
    seen = SimpleNamespace(screened=[], recorded=[], fallback=[], acked=[], events=[])
    lock = threading.Lock()

    def screen(*, messages):
        with lock:
            seen.screened.append([m.topic for m in messages])
        time.sleep(0.01)
        return ScreenedBatch(messages=messages)

    def record(screened):
        time.sleep(0.02)  # the database's turn: the next batch is screened meanwhile
        with lock:
            topics = [m.topic for m in screened.messages]
            seen.recorded.append(topics)
            seen.events.append(("recorded", topics[-1]))
        return IngestOutcome(messages=len(screened.messages))

    def ingest(*, messages):
        with lock:
            seen.fallback.append([m.topic for m in messages])
        return IngestOutcome(messages=len(messages))

    monkeypatch.setattr(worker_module, "screen_messages", screen)
    monkeypatch.setattr(worker_module, "record_screened", record)
    monkeypatch.setattr(worker_module, "ingest_messages", ingest)
    monkeypatch.setattr(worker_module, "close_old_connections", lambda: None)
    monkeypatch.setattr(worker_module, "beat", lambda *args: None)
    return seen


def _worker(seen, stop: threading.Event) -> IngestWorker:
    config = broker.BrokerConfig(host="127.0.0.1", port=1, username="u", password="p")
    worker = IngestWorker(
        config=config, stop=stop, client_id="pipeline", batch_size=10, flush_interval_s=0.02
    )
    client = worker._client
    # No broker: the test delivers the messages and records the acknowledgements.
    client.connect_async = lambda *args, **kwargs: None
    client.loop_start = lambda: None
    client.loop_stop = lambda: None
    client.disconnect = lambda *args, **kwargs: None

    def ack_all(mids):
        seen.acked.extend(mids)
        seen.events.extend(("acked", mid) for mid in mids)

    client.ack_all = ack_all
    return worker


def _deliver(worker: IngestWorker, mid: int) -> None:
    message = SimpleNamespace(
        mid=mid, qos=1, topic=f"cer/1/IT001E{mid:08d}/m/readings", payload=b"{}", dup=False
    )
    worker._on_message(None, None, message)


def _eventually(predicate, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


def test_every_message_is_recorded_once_in_order_and_acknowledged_after_its_batch(pipeline):
    stop = threading.Event()
    worker = _worker(pipeline, stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    for mid in range(1, 101):
        _deliver(worker, mid)
        if mid % 7 == 0:
            time.sleep(0.005)  # uneven arrival: batches of several sizes

    assert _eventually(lambda: len(pipeline.acked) == 100)
    stop.set()
    thread.join(10)

    recorded = [topic for batch in pipeline.recorded for topic in batch]
    assert recorded == [f"cer/1/IT001E{mid:08d}/m/readings" for mid in range(1, 101)]
    assert pipeline.acked == list(range(1, 101))
    assert pipeline.fallback == []  # every batch was recorded as the screening thread left it
    assert len(pipeline.recorded) > 1
    # No acknowledgement precedes the recording of its batch.
    done: set[int] = set()
    for event, value in pipeline.events:
        if event == "recorded":
            done.update(range(1, int(value.split("/")[2][len("IT001E") :]) + 1))
        else:
            assert value in done


def test_a_stop_records_what_was_screened_and_what_was_still_waiting(pipeline):
    stop = threading.Event()
    worker = _worker(pipeline, stop)
    for mid in range(1, 26):
        _deliver(worker, mid)  # before the worker runs: all of it waits in the inbox
    stop.set()

    worker.run()

    recorded = [t for batch in pipeline.recorded + pipeline.fallback for t in batch]
    assert len(recorded) == len(set(recorded)) == 25
    assert pipeline.acked == list(range(1, 26))


def test_a_batch_the_screening_could_not_read_is_screened_again_by_the_writer(
    pipeline, monkeypatch
):
    from django.db import DatabaseError

    def failing(*, messages):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(worker_module, "screen_messages", failing)
    stop = threading.Event()
    worker = _worker(pipeline, stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    for mid in range(1, 6):
        _deliver(worker, mid)

    assert _eventually(lambda: len(pipeline.acked) == 5)
    stop.set()
    thread.join(10)

    assert [t for batch in pipeline.fallback for t in batch] == [
        f"cer/1/IT001E{mid:08d}/m/readings" for mid in range(1, 6)
    ]
    assert pipeline.recorded == []


def test_a_leaving_worker_stops_once_what_was_queued_for_it_is_recorded(pipeline):
    stop = threading.Event()
    config = broker.BrokerConfig(host="127.0.0.1", port=1, username="u", password="p")
    worker = IngestWorker(
        config=config,
        stop=stop,
        client_id="leaving",
        batch_size=10,
        flush_interval_s=0.02,
        share_group="g",
        leave=True,
    )
    client = worker._client
    client.connect_async = lambda *args, **kwargs: None
    client.loop_start = lambda: None
    client.loop_stop = lambda: None
    client.disconnect = lambda *args, **kwargs: None
    client.ack_all = pipeline.acked.extend
    for mid in range(1, 16):
        _deliver(worker, mid)
    worker._on_unsubscribe(None, None, 1, [], None)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert _eventually(lambda: len(pipeline.acked) == 15)

    def quiet_then_gone() -> bool:
        worker._last_message_at = time.monotonic() - 10  # nothing more arrived for 10 s
        return not thread.is_alive()

    assert _eventually(quiet_then_gone)  # it left without being stopped
    assert not stop.is_set()
    assert pipeline.acked == list(range(1, 16))
