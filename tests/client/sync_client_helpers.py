"""Helpers shared by the synchronous client's tests (no mocks: they only
record what real callbacks receive, and read the real server's counters)."""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, List, Optional

WAIT = 10.0  # seconds any test waits for something that should happen at once


class Recorder:
    """A callable that records its calls, thread-safely, and lets a test
    wait (with a timeout, never a sleep) until enough calls arrived.

    Called with one argument it records that argument, else the tuple.
    `action`, if given, is run on every call (on the calling thread).
    """

    def __init__(self, action: Optional[Callable[..., Any]] = None) -> None:
        self.calls: List[Any] = []
        self.threads: List[threading.Thread] = []
        self.action = action
        self._cond = threading.Condition()

    def __call__(self, *args: Any) -> None:
        if self.action is not None:
            self.action(*args)
        with self._cond:
            self.calls.append(args[0] if len(args) == 1 else args)
            self.threads.append(threading.current_thread())
            self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = WAIT) -> bool:
        """True once at least `count` calls were recorded; False on timeout."""
        return self.wait_until(lambda calls: len(calls) >= count, timeout)

    def wait_until(self, predicate: Callable[[List[Any]], bool], timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.calls), timeout)

    def __len__(self) -> int:
        with self._cond:
            return len(self.calls)


_CONS_LINE = re.compile(r"recved=(\d+),sent=(\d+),sid=0x([0-9a-f]+)")


def packets_received(server: Any, session_id: int) -> int:
    """How many packets the server has received on the connection of
    `session_id` (the ``recved`` counter of its ``cons`` line)."""
    text = server.four_letter("cons")
    for match in _CONS_LINE.finditer(text):
        if int(match.group(3), 16) == session_id:
            return int(match.group(1))
    raise AssertionError(f"session 0x{session_id:x} not in the server's cons output:\n{text}")


def server_sessions(server: Any) -> List[int]:
    """The session ids of the server's current client connections."""
    return [int(m.group(3), 16) for m in _CONS_LINE.finditer(server.four_letter("cons"))]


# The names of the threads a client runs (pykeeper.testing's own threads
# also start with "pykeeper-", so match these exactly).
CLIENT_THREADS = ("pykeeper-io", "pykeeper-events")


def pykeeper_threads() -> List[threading.Thread]:
    """The live I/O and event threads of every client."""
    return [t for t in threading.enumerate() if t.name in CLIENT_THREADS]
