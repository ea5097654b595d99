"""A follow-up called on each item of a loop, beside the loop: on a thread or in a process.

A year is settled month by month, and each stored month is distributed while the next one
is computed (cer.settlement.services.follow_year). Both halves are Python work: on a thread,
the two share the interpreter lock and take turns; in a forked process, each has a core.

Both followers take the items in order (`hand`), call the follow-up on each, stop calling it
at its first error, and give back its results in order (`close`). They need PostgreSQL and
no enclosing transaction: the follow-up runs on its own database connection, which sees
only what the loop has committed.

A process is forked only where that is safe (`can_fork`): a process with one thread (a
thread holding a lock at the fork would leave it held in the child for ever), not itself a
daemonic worker (which may not have children), on a system with fork. Elsewhere the thread.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from django.db import connections


class Follower(Protocol):
    def hand(self, item: Any) -> None: ...

    def failed(self) -> bool: ...

    def close(self) -> list[Any]: ...


class FollowUpEnded(RuntimeError):
    """The process calling the follow-up ended without giving back every result."""


def can_fork() -> bool:
    """Tell whether a follow-up may run in a forked process here (see the module's text)."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def follower(then: Callable[[Any], Any], *, name: str, in_process: bool) -> Follower:
    """Start calling `then` beside the caller: in a forked process when asked and allowed."""
    if in_process and can_fork():
        return ProcessFollower(then)
    return ThreadFollower(then, name=name)


class ThreadFollower:
    """Calls the follow-up on a thread of this process, with its own database connection."""

    def __init__(self, then: Callable[[Any], Any], *, name: str) -> None:
        self._then = then
        self._handed: queue.Queue[Any] = queue.Queue()
        self._results: list[Any] = []
        self._failures: list[BaseException] = []
        self._thread = threading.Thread(target=self._follow, name=name, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            while (item := self._handed.get()) is not None:
                if self._failures:
                    continue  # after an error, the items still handed are not called
                try:
                    self._results.append(self._then(item))
                except BaseException as error:  # raised by close, on the caller's thread
                    self._failures.append(error)
        finally:
            connections.close_all()  # this thread's own connections

    def hand(self, item: Any) -> None:
        self._handed.put(item)

    def failed(self) -> bool:
        return bool(self._failures)

    def close(self) -> list[Any]:
        """Wait for the items handed; return the results in order or raise the first error."""
        self._handed.put(None)
        self._thread.join()
        if self._failures:
            raise self._failures[0]
        return self._results


class ProcessFollower:
    """Calls the follow-up in a forked child process; items and results cross a pipe.

    The parent's database connections are closed before the fork (the child must not share
    their sockets) and reopen at the next query. The items and results are pickled (model
    instances are). The child's error comes back as itself when it can be pickled, else as a
    FollowUpEnded that names it.
    """

    def __init__(self, then: Callable[[Any], Any]) -> None:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(
            target=_follow_in_child, args=(then, child_end), name="follow-up", daemon=True
        )
        # The objects of this process set aside from collection at the fork: the child's
        # collector would otherwise walk them all, and writing to each one's header copies
        # every page the two processes share.
        gc.freeze()
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        child_end.close()
        self._handed = 0
        self._results: list[Any] = []
        self._failure: BaseException | None = None

    def hand(self, item: Any) -> None:
        self._handed += 1
        try:
            self._pipe.send(item)
        except OSError:  # the child has ended: close says how
            self._child_ended()

    def failed(self) -> bool:
        while self._failure is None and self._pipe.poll():
            self._take_reply()
        return self._failure is not None

    def close(self) -> list[Any]:
        """Wait for the items handed; return the results in order or raise the first error."""
        try:
            self._pipe.send(None)
        except OSError:
            self._child_ended()
        while self._failure is None and len(self._results) < self._handed:
            self._take_reply()
        self._process.join()
        self._pipe.close()
        if self._failure is not None:
            raise self._failure
        return self._results

    def _take_reply(self) -> None:
        try:
            succeeded, value = self._pipe.recv()
        except (EOFError, OSError):
            self._child_ended()
            return
        if succeeded:
            self._results.append(value)
        else:
            self._failure = value

    def _child_ended(self) -> None:
        if self._failure is not None:
            return
        self._process.join()
        self._failure = FollowUpEnded(
            f"the follow-up process ended (exit code {self._process.exitcode}) after "
            f"{len(self._results)} of {self._handed} items"
        )


def _follow_in_child(then: Callable[[Any], Any], pipe: Connection) -> None:
    try:
        failed = False
        while (item := pipe.recv()) is not None:
            if failed:
                continue  # after an error, the items still handed are not called
            try:
                pipe.send((True, then(item)))
            except Exception as error:
                failed = True
                pipe.send((False, _sendable(error)))
    finally:
        connections.close_all()
        pipe.close()


def _sendable(error: Exception) -> BaseException:
    """The error itself if it crosses the pipe whole, else one that names it."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 (the bytes just made here)
    except Exception:
        return FollowUpEnded(f"{type(error).__name__}: {error}")
    return error
