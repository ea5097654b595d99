"""`ingest_mqtt --workers N` restarts a worker that dies; `--leave` ends a retired session.

The workers themselves run against the real broker in test_shared_workers.py; here the
supervision and the leaving are checked without a broker.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from cer.metering import broker
from cer.metering.management.commands.ingest_mqtt import _Child
from cer.metering.worker import IngestWorker


def _dies_at_once() -> _Child:
    return _Child([sys.executable, "-c", "raise SystemExit(3)"], "cer-ingest-test-1")


def _wait_for_exit(child: _Child) -> None:
    assert child.process is not None
    child.process.wait(30)


def test_a_worker_that_dies_is_started_again_after_a_pause():
    child = _dies_at_once()
    child.start()
    first = child.process
    _wait_for_exit(child)

    child.check(time.monotonic())
    assert child.process is first  # it died within 30 s of its start: a pause first
    assert child.pause_s == 1.0
    child.check(child.due_at)

    assert child.process is not first
    _wait_for_exit(child)


def test_the_pause_grows_while_a_worker_keeps_dying_at_once():
    child = _dies_at_once()
    child.start()
    pauses = []
    for _ in range(3):
        _wait_for_exit(child)
        child.check(time.monotonic())
        pauses.append(child.pause_s)
        child.check(child.due_at)
    _wait_for_exit(child)

    assert pauses == [1.0, 2.0, 4.0]


def test_several_workers_need_a_share_group():
    with pytest.raises(CommandError, match="--workers: several workers need a shared"):
        call_command("ingest_mqtt", "--workers", "2", "--share-group", "")


def test_leave_retires_one_client_id_not_a_set_of_workers():
    with pytest.raises(CommandError, match="--leave"):
        call_command("ingest_mqtt", "--workers", "2", "--leave")


def _worker(**options) -> IngestWorker:
    config = broker.BrokerConfig(host="127.0.0.1", port=1, username="u", password="p")
    return IngestWorker(config=config, stop=threading.Event(), client_id="w-1", **options)


def test_a_worker_in_a_group_subscribes_to_the_shared_topic_and_asks_to_keep_its_session():
    worker = _worker(share_group="cer-ingest", session_expiry_s=3600, batch_size=100)

    assert worker.subscription == "$share/cer-ingest/cer/#"
    assert worker._connect_properties.SessionExpiryInterval == 3600
    assert worker._connect_properties.ReceiveMaximum == 200
    assert _worker().subscription == "cer/#"


def test_a_leaving_worker_ends_its_session_once_unsubscribed_and_drained():
    worker = _worker(share_group="cer-ingest", leave=True)
    sent = []
    worker._client.disconnect = lambda properties=None: sent.append(properties)

    assert not worker._drained()  # the broker has not confirmed the unsubscription
    worker._on_unsubscribe(None, None, 1, [], None)
    worker._last_message_at -= 10  # nothing arrived for 10 s
    assert worker._drained()
    worker._disconnect()

    assert sent[0].SessionExpiryInterval == 0
