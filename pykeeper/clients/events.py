"""Delivering watch events and state changes to user code.

User callbacks run on one event thread per client, never on the I/O
thread and never while a client lock is held, so a callback may call the
client (even block on it) without deadlocking the connection.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable, List, Optional

__all__ = [
    "EventThread", "Multicast",
]

log = logging.getLogger("pykeeper")

_STOP = object()


class EventThread:
    """Runs queued callbacks in order on one daemon thread."""

    def __init__(self, name: str = "pykeeper-events") -> None:
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue fn(*args); False (and nothing queued) once stop() was called,
        since nothing queued after the stop would run."""
        with self._lock:
            if self._stopped:
                return False
            self._queue.put((fn, args))
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:
                log.exception("callback %r raised", fn)

    def stop(self, timeout: Optional[float]) -> None:
        """Run what is queued, then stop; waits at most `timeout` seconds
        (not at all when called from a callback)."""
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._queue.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def is_current(self) -> bool:
        return threading.current_thread() is self._thread


class Multicast:
    """A list of callbacks called together: `hook += fn`, `hook -= fn`, `hook(*args)`.

    The original pykeeper's `on_state` and `on_event` hooks.
    """

    def __init__(self) -> None:
        self._callbacks: List[Callable[..., Any]] = []
        self._lock = threading.Lock()

    def __iadd__(self, fn: Callable[..., Any]) -> "Multicast":
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable")
        with self._lock:
            self._callbacks = self._callbacks + [fn]
        return self

    def __isub__(self, fn: Callable[..., Any]) -> "Multicast":
        with self._lock:
            callbacks = list(self._callbacks)
            if fn in callbacks:
                callbacks.remove(fn)
            self._callbacks = callbacks
        return self

    def __call__(self, *args: Any) -> None:
        for fn in self._callbacks:
            try:
                fn(*args)
            except Exception:
                log.exception("callback %r raised", fn)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __contains__(self, fn: object) -> bool:
        return fn in self._callbacks
