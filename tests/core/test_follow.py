"""Followers: a follow-up called on each item beside the caller, in a child process or on a
thread, with the results in order, its first error raised, and nothing after it called."""

from __future__ import annotations

import os
import threading
import time

import pytest

from cer.core import follow

pytestmark = pytest.mark.skipif(
    "fork" not in follow.multiprocessing.get_all_start_methods(), reason="needs fork"
)


def _double_with_pid(item: int) -> tuple[int, int]:
    return os.getpid(), item * 2


def _refuse_three(item: int) -> int:
    if item == 3:
        raise ValueError(f"item {item} refused")
    return item


def _hand_all(beside: follow.Follower, items: list[int]) -> None:
    for item in items:
        beside.hand(item)


def test_the_process_follower_calls_the_follow_up_in_a_child_and_keeps_the_order():
    beside = follow.ProcessFollower(_double_with_pid)
    _hand_all(beside, list(range(20)))

    results = beside.close()

    assert [value for _, value in results] == [item * 2 for item in range(20)]
    child_pids = {pid for pid, _ in results}
    assert len(child_pids) == 1 and os.getpid() not in child_pids


def test_the_process_follower_raises_the_childs_error_and_calls_nothing_after_it():
    called: list[int] = []

    def record_then_refuse(item: int) -> tuple[int, int]:
        called.append(item)  # the child's copy of the list: only its length is sent back
        _refuse_three(item)
        return item, len(called)

    beside = follow.ProcessFollower(record_then_refuse)
    _hand_all(beside, [1, 2, 3, 4, 5])
    deadline = time.monotonic() + 10
    while not beside.failed():
        assert time.monotonic() < deadline, "the error never came back"
        time.sleep(0.01)

    with pytest.raises(ValueError, match="item 3 refused"):
        beside.close()
    assert called == []  # the parent's list: the follow-up ran in the child only


def test_an_error_that_cannot_cross_the_pipe_comes_back_named():
    class LocalError(Exception):  # a local class: pickle cannot find it by name
        pass

    def refuse(item: int) -> int:
        raise LocalError(f"cannot take {item}")

    beside = follow.ProcessFollower(refuse)
    beside.hand(7)

    with pytest.raises(follow.FollowUpEnded, match="LocalError: cannot take 7"):
        beside.close()


def test_a_child_that_dies_is_reported_with_its_exit_code():
    def die(item: int) -> int:
        os._exit(3)

    beside = follow.ProcessFollower(die)
    _hand_all(beside, [1, 2])

    with pytest.raises(follow.FollowUpEnded, match=r"exit code 3\) after 0 of 2 items"):
        beside.close()


def test_the_thread_follower_keeps_the_order_and_raises_the_first_error():
    names: list[str] = []

    def note_thread(item: int) -> int:
        names.append(threading.current_thread().name)
        return _refuse_three(item)

    beside = follow.ThreadFollower(note_thread, name="beside")
    _hand_all(beside, [1, 2])
    assert beside.close() == [1, 2]
    assert set(names) == {"beside"}

    failing = follow.ThreadFollower(note_thread, name="beside")
    _hand_all(failing, [1, 3, 4])
    with pytest.raises(ValueError, match="item 3 refused"):
        failing.close()
    assert names.count("beside") == 4  # 1, 2, then 1 and 3: not 4


def test_a_process_is_forked_only_from_a_process_with_one_thread(monkeypatch):
    monkeypatch.setattr(follow.threading, "active_count", lambda: 1)
    assert follow.can_fork()
    forked = follow.follower(_double_with_pid, name="x", in_process=True)
    assert isinstance(forked, follow.ProcessFollower)
    assert forked.close() == []
    monkeypatch.setattr(follow.threading, "active_count", lambda: 2)
    assert not follow.can_fork()
    beside = follow.follower(_double_with_pid, name="x", in_process=True)
    assert isinstance(beside, follow.ThreadFollower)
    assert beside.close() == []
    on_thread = follow.follower(_double_with_pid, name="x", in_process=False)
    assert isinstance(on_thread, follow.ThreadFollower)
    assert on_thread.close() == []
