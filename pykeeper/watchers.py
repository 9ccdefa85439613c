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
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from .paths import validate_path
from .protocol.errors import (
    ClientClosedException, ConnectionLossException, NoNodeException,
    OperationTimeoutException, SessionExpiredException, ZooKeeperException,
)
from .protocol.records import EventType, KeeperState, Stat, WatchedEvent

if TYPE_CHECKING:
    from .client import ZooKeeper

log = logging.getLogger("pykeeper")

# Errors after which the helper re-reads once the client is connected again.
_TRANSIENT = (ConnectionLossException, OperationTimeoutException, SessionExpiredException,
              ClientClosedException)
_REMOVED = (EventType.DATA_WATCH_REMOVED, EventType.CHILD_WATCH_REMOVED,
            EventType.PERSISTENT_WATCH_REMOVED)
_NOTHING = object()


class _Trigger:
    """What the client's watch table holds: it forwards events to the helper
    while the helper runs, and lets go of it when stopped, so that a watch
    still armed on the server keeps nothing alive."""

    __slots__ = ("target", "__weakref__")

    def __init__(self, target: "_Watch") -> None:
        self.target: Optional[_Watch] = target

    def __call__(self, event: WatchedEvent) -> None:
        target = self.target
        if target is not None:
            target._on_event(event)

    def __repr__(self) -> str:
        return f"<pykeeper watch trigger for {self.target!r}>"


class _Watch:
    def __init__(self, client: "ZooKeeper", path: str,
                 func: Optional[Callable[..., Any]] = None) -> None:
        validate_path(path)
        self.client = client
        self.path = path
        self._func: Optional[Callable[..., Any]] = None
        self._lock = threading.RLock()
        self._trigger = _Trigger(self)
        self._stopped = False
        self._rearm = False
        self._last: Any = _NOTHING
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Start calling `func` (usable as a decorator; returns `func`).

        The first call happens here, in this thread. Raises the client's
        error (after its retry policy, if it has one) if the first read
        fails; the helper is then stopped.
        """
        if not callable(func):
            raise TypeError(f"{func!r} is not callable")
        with self._lock:
            if self._func is not None or self._stopped:
                raise RuntimeError(f"{self!r} already has a function")
            self._func = func
        self.client.add_listener(self._on_state)
        try:
            self._refresh(initial=True)
        except BaseException:
            self.stop()
            raise
        return func

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop: the function is not called again. Idempotent; safe from the
        function itself. The watch armed on the server (if any) is left to
        fire into nothing, rather than removed: a RemoveWatches could also
        remove a watch another read of this path is arming right now."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._trigger.target = None
            self._func = None
        self.client.remove_listener(self._on_state)

    # -- the event thread -------------------------------------------------------

    def _on_event(self, event: WatchedEvent) -> None:
        if event.type == EventType.NONE:
            if event.state == KeeperState.EXPIRED:
                with self._lock:
                    self._rearm = True  # re-read when connected again (_on_state)
            return
        if event.type in _REMOVED:
            # Someone removed this path's watches (remove_watches): stop.
            log.info("%r stopped: its watch was removed", self)
            self.stop()
            return
        self._refresh()

    def _on_state(self, state: Any) -> None:
        if state in ("connected", "connected_readonly"):
            if self._rearm:
                self._refresh()
        elif state in ("expired_session", "closed"):
            with self._lock:
                self._rearm = True

    def _refresh(self, initial: bool = False) -> None:
        with self._lock:
            if self._stopped:
                return
            try:
                if initial:
                    value = self.client.retry(self._read)
                else:
                    value = self._read()
            except _TRANSIENT:
                if initial:
                    raise
                self._rearm = True  # the watch is not armed: re-read on reconnect
                return
            except ZooKeeperException:
                if initial:
                    raise
                log.exception("%r could not read %s; will retry after a reconnect",
                              self, self.path)
                self._rearm = True
                return
            self._rearm = False
            key = self._key(value)
            if key == self._last:
                return
            self._last = key
            func = self._func
            try:
                result = self._deliver(func, value)
            except Exception:
                if initial:
                    raise
                log.exception("%r: %r raised", self, func)
                return
            if result is False:
                self.stop()

    # -- per kind ------------------------------------------------------------------

    def _read(self) -> Any:
        raise NotImplementedError

    def _key(self, value: Any) -> Any:
        raise NotImplementedError

    def _deliver(self, func: Any, value: Any) -> Any:
        raise NotImplementedError

    def _exists_or_missing(self) -> bool:
        """Arm an exists watch; True if the node exists after all."""
        # (The *_async().result() form: the client's retry policy must not
        # block the event thread; a failure re-arms on reconnect instead.)
        return self.client.exists_async(self.path, watcher=self._trigger).result() is not None

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<pykeeper.{type(self).__name__} {self.path!r} {state}>"


class DataWatch(_Watch):
    """Call `func(data, stat)` now and after every change of the node at
    `path`; `(None, None)` while there is no node.

    `DataWatch(client, path, func)`, or as a decorator
    `@DataWatch(client, path)`. See the module docstring.
    """

    def _read(self) -> Tuple[Optional[bytes], Optional[Stat]]:
        while True:
            try:
                return self.client.get_async(self.path, watcher=self._trigger).result()
            except NoNodeException:
                if not self._exists_or_missing():
                    return None, None
                # Created in between: its watch is armed; read it.

    def _key(self, value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        stat = value[1]
        return None if stat is None else (stat.czxid, stat.mzxid)

    def _deliver(self, func: Any, value: Tuple[Optional[bytes], Optional[Stat]]) -> Any:
        return func(*value)


class ChildrenWatch(_Watch):
    """Call `func(children)` now and after every change of the list of the
    node's children (names, sorted); `func(None)` while there is no node.

    `ChildrenWatch(client, path, func)`, or as a decorator
    `@ChildrenWatch(client, path)`. See the module docstring.
    """

    def _read(self) -> Optional[List[str]]:
        while True:
            try:
                children = self.client.get_children_async(
                    self.path, watcher=self._trigger).result()
                return sorted(children)
            except NoNodeException:
                if not self._exists_or_missing():
                    return None

    def _key(self, value: Optional[List[str]]) -> Any:
        return None if value is None else tuple(value)

    def _deliver(self, func: Any, value: Optional[List[str]]) -> Any:
        return func(None if value is None else list(value))
