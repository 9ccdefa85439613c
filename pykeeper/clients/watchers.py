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
written once here, as a generator of steps (`WatchBase._run`, see
pykeeper.core.steps); the sync helpers drive it with a `ThreadDriver`, the
asyncio client's `pykeeper.aio.DataWatch` / `ChildrenWatch` with an
`AsyncioDriver`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generator, List, Optional, Tuple

from ..core.paths import validate_path
from ..protocol import requests as rq
from ..protocol.errors import (
    CONNECTION_GONE, NoNodeException,
    ZooKeeperException,
)
from ..protocol.records import EventType, KeeperState, Stat, WatchedEvent
from ..core.steps import (
    Call, Callback, Detach, Helper, HelperClient, Relay, Signal, SyncHelperClient,
    ThreadDriver, WaitForEvent,
)

log = logging.getLogger("pykeeper")

__all__ = ["ChildrenWatch", "ConfigWatch", "DataWatch", "WatchBase"]

# Errors after which the helper re-reads once the client is connected again.
_REMOVED = (EventType.DATA_WATCH_REMOVED, EventType.CHILD_WATCH_REMOVED,
            EventType.PERSISTENT_WATCH_REMOVED)
_NOTHING: Any = object()


class WatchBase:
    """What both clients' watch helpers are: the state, the read, what
    counts as a change and when to read again, all in `_run` (a helper
    generator, see pykeeper.core.steps). Subclasses give the read (`_read`),
    the change key (`_key`) and how the function is called (`_deliver`);
    the fronts only say how `_run` is driven."""

    def __init__(self, client: HelperClient, path: str) -> None:
        validate_path(path)
        self.client = client
        self.path = path
        self._func: Optional[Callable[..., Any]] = None
        # Held while the function runs: stop() from another thread returns
        # only after a call in progress, so none comes after it.
        self._lock = threading.RLock()
        # (What the client's watch table holds; released when stopped.)
        self._trigger = Relay(self._on_event)
        self._wake = Signal()  # fired by the watch and by a reconnect after a failure
        self._stopped = False
        self._rearm = False
        self._last: Any = _NOTHING

    def _take(self, func: Callable[..., Any]) -> None:
        """Take `func` and follow the client's states. TypeError if it is not
        callable, RuntimeError if the helper already has (or had) one."""
        if not callable(func):
            raise TypeError(f"{func!r} is not callable")
        with self._lock:
            if self._func is not None or self._stopped:
                raise RuntimeError(f"{self!r} already has a function")
            self._func = func
        self.client.add_listener(self._on_state)

    @property
    def stopped(self) -> bool:
        """True once stopped (by stop(), the function returning False, a
        failed first read, or its watch removed)."""
        return self._stopped

    def stop(self) -> None:
        """Stop: the function is not called again. Idempotent; safe from the
        function itself; never blocks. The watch armed on the server (if
        any) is left to fire into nothing, rather than removed: a
        RemoveWatches could also remove a watch another read of this path
        is arming right now."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._trigger.release()
            self._func = None
        self.client.remove_listener(self._on_state)
        self._wake.fire()  # (a parked _run ends)

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
        self._wake.fire()

    def _on_state(self, state: Any) -> None:
        if state in ("connected", "connected_readonly"):
            if self._rearm:
                self._wake.fire()
        elif state in ("expired_session", "closed"):
            self._rearm = True

    def _run(self) -> Helper[None]:
        """The helper, written once: read (arming the watch), call the
        function if the state is new, wait for the watch (or a reconnect
        after a failure), again. The first read is retried under the
        client's policy and its failure (or the first call's error) is
        raised, the helper stopped; `Detach` follows the first call."""
        initial = True
        try:
            while not self._stopped:
                seen = self._wake.generation
                value = _NOTHING
                try:
                    value = yield Call(self._read, retry=initial)
                except ZooKeeperException as exc:
                    if initial:
                        raise
                    if not isinstance(exc, CONNECTION_GONE):
                        log.error("%r could not read %s; will retry after a reconnect", self,
                                  self.path, exc_info=exc)
                    self._rearm = True
                if value is not _NOTHING:
                    yield from self._call_func(value, initial)
                if initial:
                    initial = False
                    yield Detach()
                if self._stopped:
                    return
                yield WaitForEvent(self._wake, after=seen)
        except BaseException:
            if initial:
                self.stop()
            raise

    def _call_func(self, value: Any, initial: bool) -> Helper[None]:
        self._rearm = False
        with self._lock:  # (a Callback runs at once, in this thread: never parked here)
            func = self._func
            if self._stopped or func is None:
                return  # (stopped while the read was on its way)
            key = self._key(value)
            if key == self._last:
                return  # seen this state already
            self._last = key
            try:
                result = yield Callback(self._deliver, func, value)
            except Exception:
                if initial:
                    raise
                log.exception("%r: %r raised", self, func)
                return
        if result is False:
            self.stop()

    # -- per kind ------------------------------------------------------------------

    def _read(self, client: HelperClient) -> Generator[rq.Request, Any, Any]:
        """The read, as an operation: arms the watch, returns the value."""
        raise NotImplementedError

    def _key(self, value: Any) -> Any:
        raise NotImplementedError

    def _deliver(self, func: Callable[..., Any], value: Any) -> Any:
        raise NotImplementedError

    def _exists_or_missing(self) -> Generator[rq.Request, Any, bool]:
        """Arm an exists watch; True if the node exists after all."""
        try:
            yield rq.Exists(self.path, self._trigger)
        except NoNodeException:
            return False
        return True

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<pykeeper.{type(self).__name__} {self.path!r} {state}>"


class DataKind(WatchBase):
    """A DataWatch's read: the node's (data, stat), or (None, None)."""

    def _read(self, client: HelperClient
              ) -> Generator[rq.Request, Any, Tuple[Optional[bytes], Optional[Stat]]]:
        while True:
            try:
                value: Tuple[bytes, Stat] = yield rq.GetData(self.path, self._trigger)
                return value
            except NoNodeException:
                if not (yield from self._exists_or_missing()):
                    return None, None
                # Created in between: its watch is armed; read it.

    def _key(self, value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        stat = value[1]
        return None if stat is None else (stat.czxid, stat.mzxid)

    def _deliver(self, func: Callable[..., Any],
                 value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        return func(*value)


class ChildrenKind(WatchBase):
    """A ChildrenWatch's read: the sorted child names, or None."""

    def _read(self, client: HelperClient) -> Generator[rq.Request, Any, Optional[List[str]]]:
        while True:
            try:
                children, _ = yield rq.GetChildren(self.path, self._trigger)
                return sorted(children)
            except NoNodeException:
                if not (yield from self._exists_or_missing()):
                    return None

    def _key(self, value: Optional[List[str]]) -> Any:
        return None if value is None else tuple(value)

    def _deliver(self, func: Callable[..., Any], value: Optional[List[str]]) -> Any:
        return func(None if value is None else list(value))


class ConfigKind(DataKind):
    """A ConfigWatch's read: the ensemble configuration's (data, stat), or
    (None, None) from a server without one (older than 3.5); changes and
    calls as a DataWatch's."""

    def _read(self, client: HelperClient
              ) -> Generator[rq.Request, Any, Tuple[Optional[bytes], Optional[Stat]]]:
        try:
            value: Tuple[bytes, Stat] = yield rq.GetConfig(self._trigger)
        except NoNodeException:
            return None, None
        return value


class _Watch(WatchBase):
    """The sync client's front: `_run` driven by a ThreadDriver."""

    def __init__(self, client: SyncHelperClient, path: str,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, path)
        self._driver = ThreadDriver(client)
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Start calling `func` (usable as a decorator; returns `func`).

        The first read and call happen here, in this thread (blocking for
        the read, under the client's retry policy if it has one); later
        calls on the client's event thread. Raises the first read's error,
        or the first call's; the helper is then stopped.
        """
        self._take(func)
        self._driver.start(self._run())
        return func


class DataWatch(DataKind, _Watch):
    """Call `func(data, stat)` now and after every change of the node at
    `path`; `(None, None)` while there is no node.

    `DataWatch(client, path, func)`, or as a decorator
    `@DataWatch(client, path)`. See the module docstring.
    """


class ConfigWatch(ConfigKind, _Watch):
    """Call `func(data, stat)` now and after every change of the ensemble's
    dynamic configuration (get_config; `pykeeper.parse_config(data)` reads
    it). `ConfigWatch(client, func)`, or as a decorator
    `@ConfigWatch(client)`. See the module docstring."""

    def __init__(self, client: SyncHelperClient,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, rq.CONFIG_NODE, func)


class ChildrenWatch(ChildrenKind, _Watch):
    """Call `func(children)` now and after every change of the list of the
    node's children (names, sorted); `func(None)` while there is no node.

    `ChildrenWatch(client, path, func)`, or as a decorator
    `@ChildrenWatch(client, path)`. See the module docstring.
    """
