"""The ingestion worker acknowledges a message only on the connection that delivered it.

A packet identifier names a message only on its connection: after a reconnect the broker
sends the unacknowledged messages again and gives identifiers to new ones. Acknowledging an
old identifier on the new connection could confirm a message never recorded; recording the
old copies beside the redelivered ones doubles the work of a worker already behind.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from cer.metering import broker
from cer.metering import worker as worker_module
from cer.metering.batches import IngestOutcome
from cer.metering.worker import IngestWorker


@pytest.fixture
def recorded(monkeypatch) -> list[str]:
    """The topics of the messages the worker records (the recording itself is tested apart)."""
    topics: list[str] = []

    def record(*, messages):
        topics.extend(message.topic for message in messages)
        return IngestOutcome(messages=len(messages))

    monkeypatch.setattr(worker_module, "ingest_messages", record)
    monkeypatch.setattr(worker_module, "close_old_connections", lambda: None)
    return topics


def _worker() -> tuple[IngestWorker, list[int]]:
    config = broker.BrokerConfig(host="127.0.0.1", port=1, username="u", password="p")
    worker = IngestWorker(config=config, stop=threading.Event(), client_id="test-worker")
    acked: list[int] = []
    worker._client.ack_all = acked.extend  # no broker: record the acks
    return worker, acked


def _deliver(worker: IngestWorker, mid: int) -> None:
    message = SimpleNamespace(
        mid=mid, qos=1, topic=f"cer/0/IT001E{mid:08d}/x/readings", payload=b"{}", dup=False
    )
    worker._on_message(None, None, message)


def test_messages_of_an_earlier_connection_are_left_to_their_redelivery(recorded):
    worker, acked = _worker()
    _deliver(worker, 1)
    _deliver(worker, 2)
    worker._on_disconnect(None, None, None, "keep alive timeout", None)
    _deliver(worker, 1)  # the broker sends mid 1 again, then a new message as mid 3
    _deliver(worker, 3)

    batch = worker._current(worker._drain())

    assert [item.mid for item in batch] == [1, 3]
    worker._record(batch)
    assert acked == [1, 3]
    assert len(recorded) == 2


def test_a_batch_recorded_across_a_reconnect_is_not_acknowledged_on_the_new_connection(
    recorded,
):
    worker, acked = _worker()
    _deliver(worker, 7)
    batch = worker._current(worker._drain())
    worker._on_disconnect(None, None, None, "keep alive timeout", None)

    worker._record(batch)

    assert acked == []  # the broker sends mid 7 again; its copy will be acknowledged
    assert len(recorded) == 1
