"""`DataWatch` and `ChildrenWatch`: a function called with a node's data (or
children) at once and again after every change, until stopped.

    @pykeeper.DataWatch(client, "/app/config")
    def on_config(data, stat):
        ...                      # (None, None) while there is no node

    watch = pykeeper.ChildrenWatch(client, "/app/workers", on_workers)
    ...
    watch.stop()

Each change fires the one-shot watch armed by the previous read; the
function then gets the state read (with a new watch) after it, so it sees
every state the node settles in, in order, and is not called twice for
one state. Watches survive reconnects (the client re-arms them); after a
session expiry the helper re-reads and re-arms on the new session as soon
as the client is connected again, and calls the function if anything
changed meanwhile.

The function runs on the client's event thread (the first call: in the
thread that made the helper) and may call the client. Returning False
from it, or calling `stop()`, stops the helper: the client then holds no
reference to it or to the function.

What a helper reads, what counts as a change and when it re-reads is
written once here (`WatchBase` and the two kinds); the asyncio client's
`pykeeper.aio.DataWatch` / `ChildrenWatch` only drive it by awaiting.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Generator, List, Optional, Tuple

from . import operations as ops
from .paths import validate_path
from .protocol import requests as rq
from .protocol.errors import (
    ClientClosedException, ConnectionLossException, NoNodeException,
    OperationTimeoutException, SessionExpiredException, ZooKeeperException,
)
from .protocol.records import EventType, KeeperState, Stat, WatchedEvent

if TYPE_CHECKING:
    from .client import ZooKeeper

log = logging.getLogger("pykeeper")

# Errors after which the helper re-reads once the client is connected again.
TRANSIENT = (ConnectionLossException, OperationTimeoutException, SessionExpiredException,
             ClientClosedException)
_REMOVED = (EventType.DATA_WATCH_REMOVED, EventType.CHILD_WATCH_REMOVED,
            EventType.PERSISTENT_WATCH_REMOVED)
_NOTHING = object()


class _Trigger:
    """What the client's watch table holds: it forwards events to the helper
    while the helper runs, and lets go of it when stopped, so that a watch
    still armed on the server keeps nothing alive."""

    __slots__ = ("target", "__weakref__")

    def __init__(self, target: "WatchBase") -> None:
        self.target: Optional[WatchBase] = target

    def __call__(self, event: WatchedEvent) -> None:
        target = self.target
        if target is not None:
            target._on_event(event)

    def __repr__(self) -> str:
        return f"<pykeeper watch trigger for {self.target!r}>"


class WatchBase:
    """What both clients' watch helpers share: the state, the read (an
    operation, see pykeeper.operations), what counts as a change, and
    when to read again. Subclasses say how to run `_refresh`."""

    def __init__(self, client: Any, path: str) -> None:
        validate_path(path)
        self.client = client
        self.path = path
        self._func: Optional[Callable[..., Any]] = None
        self._trigger = _Trigger(self)
        self._stopped = False
        self._rearm = False
        self._last: Any = _NOTHING

    def _take(self, func: Callable[..., Any]) -> None:
        if not callable(func):
            raise TypeError(f"{func!r} is not callable")
        if self._func is not None or self._stopped:
            raise RuntimeError(f"{self!r} already has a function")
        self._func = func

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop: the function is not called again. Idempotent; safe from the
        function itself. The watch armed on the server (if any) is left to
        fire into nothing, rather than removed: a RemoveWatches could also
        remove a watch another read of this path is arming right now."""
        if self._stopped:
            return
        self._stopped = True
        self._trigger.target = None
        self._func = None
        self.client.remove_listener(self._on_state)

    def _on_event(self, event: WatchedEvent) -> None:
        if event.type == EventType.NONE:
            if event.state == KeeperState.EXPIRED:
                self._rearm = True  # re-read when connected again (_on_state)
            return
        if event.type in _REMOVED:
            # Someone removed this path's watches (remove_watches): stop.
            log.info("%r stopped: its watch was removed", self)
            self.stop()
            return
        self._refresh_soon()

    def _on_state(self, state: Any) -> None:
        if state in ("connected", "connected_readonly"):
            if self._rearm:
                self._refresh_soon()
        elif state in ("expired_session", "closed"):
            self._rearm = True

    def _refresh_soon(self) -> None:
        raise NotImplementedError

    def _read_failed(self, exc: BaseException, initial: bool) -> None:
        """Raise `exc` for the first read; otherwise read again after the
        next reconnect (the watch is not armed)."""
        if initial:
            raise exc
        if not isinstance(exc, TRANSIENT):
            log.error("%r could not read %s; will retry after a reconnect", self, self.path,
                      exc_info=exc)
        self._rearm = True

    def _function_for(self, value: Any) -> Optional[Callable[..., Any]]:
        """The function to call with `value`, just read; None if the helper
        was stopped meanwhile or the function has seen this state."""
        self._rearm = False
        func = self._func
        if self._stopped or func is None:
            return None
        key = self._key(value)
        if key == self._last:
            return None
        self._last = key
        return func

    def _call_failed(self, func: Any, initial: bool) -> None:
        """(in an except block) The first call's error is raised; later
        ones are logged."""
        if initial:
            raise
        log.exception("%r: %r raised", self, func)

    # -- per kind ------------------------------------------------------------------

    def _read(self) -> Generator[rq.Request, Any, Any]:
        """The read, as an operation: arms the watch, returns the value."""
        raise NotImplementedError

    def _key(self, value: Any) -> Any:
        raise NotImplementedError

    def _deliver(self, func: Any, value: Any) -> Any:
        raise NotImplementedError

    def _exists_or_missing(self) -> Generator[rq.Request, Any, bool]:
        """Arm an exists watch; True if the node exists after all."""
        stat = yield from ops.exists(self.client, self.path, self._trigger)
        return stat is not None

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<pykeeper.{type(self).__name__} {self.path!r} {state}>"


class DataKind:
    """A DataWatch's read: the node's (data, stat), or (None, None)."""

    def _read(self: Any) -> Generator[rq.Request, Any, Tuple[Optional[bytes], Optional[Stat]]]:
        while True:
            try:
                return (yield rq.GetData(self.path, self._trigger))
            except NoNodeException:
                if not (yield from self._exists_or_missing()):
                    return None, None
                # Created in between: its watch is armed; read it.

    def _key(self, value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        stat = value[1]
        return None if stat is None else (stat.czxid, stat.mzxid)

    def _deliver(self, func: Any, value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        return func(*value)


class ChildrenKind:
    """A ChildrenWatch's read: the sorted child names, or None."""

    def _read(self: Any) -> Generator[rq.Request, Any, Optional[List[str]]]:
        while True:
            try:
                children, _ = yield rq.GetChildren(self.path, self._trigger)
                return sorted(children)
            except NoNodeException:
                if not (yield from self._exists_or_missing()):
                    return None

    def _key(self, value: Optional[List[str]]) -> Any:
        return None if value is None else tuple(value)

    def _deliver(self, func: Any, value: Optional[List[str]]) -> Any:
        return func(None if value is None else list(value))


class _Watch(WatchBase):
    """The sync client's helper: reads block the calling (event) thread."""

    def __init__(self, client: "ZooKeeper", path: str,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, path)
        self._lock = threading.RLock()
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Start calling `func` (usable as a decorator; returns `func`).

        The first call happens here, in this thread. Raises the client's
        error (after its retry policy, if it has one) if the first read
        fails; the helper is then stopped.
        """
        with self._lock:
            self._take(func)
        self.client.add_listener(self._on_state)
        try:
            self._refresh(initial=True)
        except BaseException:
            self.stop()
            raise
        return func

    def stop(self) -> None:
        with self._lock:
            super().stop()

    def _refresh_soon(self) -> None:
        self._refresh()

    def _read_now(self) -> Any:
        # Through the future twin even on the event thread: the client's
        # retry policy must not block it; a failure re-arms on reconnect.
        return ops.drive_future(self._read(), self.client._send).result()

    def _refresh(self, initial: bool = False) -> None:
        with self._lock:
            if self._stopped:
                return
            try:
                value = self.client.retry(self._read_now) if initial else self._read_now()
            except ZooKeeperException as exc:
                self._read_failed(exc, initial)
                return
            func = self._function_for(value)
            if func is None:
                return
            try:
                result = self._deliver(func, value)
            except Exception:
                self._call_failed(func, initial)
                return
            if result is False:
                self.stop()


class DataWatch(DataKind, _Watch):
    """Call `func(data, stat)` now and after every change of the node at
    `path`; `(None, None)` while there is no node.

    `DataWatch(client, path, func)`, or as a decorator
    `@DataWatch(client, path)`. See the module docstring.
    """


class ChildrenWatch(ChildrenKind, _Watch):
    """Call `func(children)` now and after every change of the list of the
    node's children (names, sorted); `func(None)` while there is no node.

    `ChildrenWatch(client, path, func)`, or as a decorator
    `@ChildrenWatch(client, path)`. See the module docstring.
    """
