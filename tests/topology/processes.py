"""Starting, watching and stopping the processes of a production topology, for the smoke test.

Each process runs in its own process group with its output in a log file, so that stopping
it (SIGTERM, then SIGKILL after a timeout) reaches whatever it started (gunicorn's and
Celery's child processes) and a failing test can print what each one said.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Timeout(AssertionError):
    """A condition did not come true in time; the message says which."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.25):
    """Poll `condition` until it returns something true, and return that; Timeout naming
    `what` otherwise. An exception raised by `condition` counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            outcome = condition()
        except Exception as error:  # a server still starting refuses, and so on
            last_error, outcome = error, None
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise Timeout(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(every)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Process:
    """One server process: its command, environment and log file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, *, timeout: float = 20.0) -> int | None:
        """SIGTERM to the process group, SIGKILL after `timeout`; the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        # Children that outlived their parent (a worker's pool) go too.
        _signal_group(self.popen.pid, signal.SIGKILL)
        return self.popen.returncode


def _signal_group(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)


class Topology:
    """The processes started for one test, stopped together, logs printed on demand."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[Process] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Process:
        process = Process(name, argv, env, self.log_dir).start()
        self.processes.append(process)
        return process

    def check_alive(self) -> None:
        """Fail naming every process that has exited."""
        dead = [p for p in self.processes if not p.alive]
        if dead:
            raise AssertionError(
                "exited early: "
                + ", ".join(f"{p.name} (code {p.popen and p.popen.returncode})" for p in dead)
            )

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for each (SIGKILL after 20 s)."""
        for process in self.processes:
            if process.alive and process.popen is not None:
                _signal_group(process.popen.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            process.stop()

    def logs(self, *, tail: int = 60) -> str:
        parts = []
        for process in self.processes:
            lines = process.log().splitlines()[-tail:]
            parts.append(f"----- {process.name} (last {len(lines)} lines) -----")
            parts.extend(lines)
        return "\n".join(parts)
