"""`NodeCache`: what `cached_get`, `cached_get_children` and
`cached_exists` answer from.

The first read of a path goes to the server and arms a one-shot watch; the
answer is kept until that watch fires; later reads are one dict lookup. A
missing node is cached too, under an exists watch.

- Never stale: the watches are inline (run as the event is decoded), and a
  miss whose path is invalidated while in flight is answered but not stored.
- Disconnected: entries keep being served; a reconnect's SetWatches fires
  what changed meanwhile; expiry, close or failed auth drop everything.
- Bounded: at most `max_entries` entries, least recently used dropped first
  (CLOCK: a hit only sets a flag).

The reasoning is in docs/design.md, "Cached reads".
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Dict, List, Optional, Protocol, Tuple, cast

from ..core import operations as ops
from ..core.paths import validate_path
from ..protocol.errors import NoNodeException
from ..protocol.records import EventType, KeeperState, Stat, WatchedEvent
from ..core.retry import RetryPolicy, current_attempt, run_with_retry
from ..core.steps import HelperClient

log = logging.getLogger("pykeeper")

DEFAULT_MAX_ENTRIES = 10_000

GET = "get"
CHILDREN = "children"
EXISTS = "exists"
KINDS = (GET, CHILDREN, EXISTS)

# A cached "there is no node here" (get and get_children raise NoNode for it).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

# How often a miss of get/get_children retries when the node keeps
# appearing and vanishing between the read and the exists that watches it.
_MAX_ROUNDS = 5

_SESSION_GONE = (KeeperState.EXPIRED, KeeperState.CLOSED, KeeperState.AUTH_FAILED)


class CacheClient(HelperClient, Protocol):
    """What a NodeCache needs of its client (both clients have it)."""

    retry_policy: Optional[RetryPolicy]

    def wait_until_connected(self, timeout: Optional[float] = None) -> Any: ...


class _Entry:
    __slots__ = ("value", "used")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.used = False


class _Fetch:
    """A miss in flight: the callers of one path share its future."""

    __slots__ = ("future", "stale", "rounds")

    def __init__(self) -> None:
        self.future: "Future[Any]" = Future()
        self.stale = False
        self.rounds = 0


class _Invalidator:
    """The inline watcher of one kind of entry (one object per cache and
    kind, so the client's watch table holds it once per path)."""

    inline = True
    __slots__ = ("cache", "kind")

    def __init__(self, cache: "NodeCache", kind: str) -> None:
        self.cache = cache
        self.kind = kind

    def __call__(self, event: WatchedEvent) -> None:
        if event.type == EventType.NONE:
            if event.state in _SESSION_GONE:
                self.cache.clear()
            return
        path = event.path
        if path is None:
            return
        if event.type == EventType.CHILD:
            # The node's stat (numChildren, cversion, pzxid) changed too.
            self.cache._invalidate(path, KINDS)
        else:
            self.cache._invalidate(path, (self.kind,))

    def __repr__(self) -> str:
        return f"<pykeeper cache invalidator {self.kind}>"


class NodeCache:
    """The cache behind `cached_get`, `cached_get_children`, `cached_exists`.

    Thread-safe. Concurrent misses of one path share one server request.
    """

    def __init__(self, client: "CacheClient", max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._data: Dict[str, _Entry] = {}
        self._children: Dict[str, _Entry] = {}
        self._exists: Dict[str, _Entry] = {}
        self._tables = {GET: self._data, CHILDREN: self._children, EXISTS: self._exists}
        # Every entry once, oldest first, for eviction.
        self._order: "OrderedDict[Tuple[str, str], _Entry]" = OrderedDict()
        self._inflight: Dict[Tuple[str, str], _Fetch] = {}
        self._watchers = {kind: _Invalidator(self, kind) for kind in KINDS}
        self._max_entries = DEFAULT_MAX_ENTRIES
        self.max_entries = max_entries
        self.hits = 0  # (not counted on the hot path; see stats())
        self.misses = 0
        self.evictions = 0

    # -- reads (the hot path first) ----------------------------------------------

    def get(self, path: str) -> Tuple[bytes, Stat]:
        """Like client.get(path), answered from memory when possible; a miss
        blocks for one round trip (under the client's retry policy).
        Raises NoNodeException (cached too) or the read's error."""
        entry = self._data.get(path)
        if entry is not None:
            entry.used = True
            value = entry.value
            if value is not MISSING:
                return value  # type: ignore[no-any-return]  # (a cast costs a call per hit)
            raise NoNodeException(path=path)
        return cast("Tuple[bytes, Stat]", self._miss(GET, path))

    def get_children(self, path: str) -> List[str]:
        """Like client.get_children(path) (a new list each call); blocks as
        get() does on a miss."""
        entry = self._children.get(path)
        if entry is not None:
            entry.used = True
            value = entry.value
            if value is not MISSING:
                return list(value)
            raise NoNodeException(path=path)
        return cast("List[str]", self._miss(CHILDREN, path))

    def exists(self, path: str) -> Optional[Stat]:
        """Like client.exists(path): the Stat or None; blocks as get() does
        on a miss."""
        entry = self._exists.get(path)
        if entry is not None:
            entry.used = True
            return cast("Optional[Stat]", entry.value)
        return cast("Optional[Stat]", self._miss(EXISTS, path))

    # -- management ------------------------------------------------------------------

    @property
    def max_entries(self) -> int:
        return self._max_entries

    @max_entries.setter
    def max_entries(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"max_entries must be a positive int, not {value!r}")
        with self._lock:
            self._max_entries = value
            self._evict_locked()

    def clear(self, path: Optional[str] = None) -> None:
        """Drop every entry (or those of `path`). Misses in flight are not stored."""
        with self._lock:
            if path is None:
                for table in self._tables.values():
                    table.clear()
                self._order.clear()
                for fetch in self._inflight.values():
                    fetch.stale = True
                return
        validate_path(path)
        self._invalidate(path, KINDS)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, path: object) -> bool:
        return any(path in table for table in self._tables.values())

    def stats(self) -> Dict[str, int]:
        """Entry counts by kind, misses and evictions so far."""
        with self._lock:
            return {"get": len(self._data), "children": len(self._children),
                    "exists": len(self._exists), "entries": len(self._order),
                    "max_entries": self._max_entries, "misses": self.misses,
                    "evictions": self.evictions, "in_flight": len(self._inflight)}

    def on_state(self, state: Any) -> None:
        """The client's state listener: a closed client (or one whose
        authentication failed) has no session left to keep entries valid."""
        if state in ("closed", "auth_failed"):
            self.clear()

    # -- invalidation (called by the watchers, on the thread reading events) --------

    def _invalidate(self, path: str, kinds: Tuple[str, ...]) -> None:
        with self._lock:
            for kind in kinds:
                if self._tables[kind].pop(path, None) is not None:
                    self._order.pop((kind, path), None)
                fetch = self._inflight.get((kind, path))
                if fetch is not None:
                    fetch.stale = True

    # -- misses ---------------------------------------------------------------------

    def _miss(self, kind: str, path: str) -> Any:
        validate_path(path)
        client = self._client
        policy = client.retry_policy
        if policy is not None and current_attempt() is None:
            return run_with_retry(policy, client.wait_until_connected, self._miss_once,
                                  kind, path)
        return self._miss_once(kind, path)

    def _miss_once(self, kind: str, path: str) -> Any:
        hit, got = self.lookup(kind, path)
        return self.answer(kind, path, got if hit else got.result())

    def lookup(self, kind: str, path: str) -> Tuple[bool, Any]:
        """(True, the cached value) or, on a miss, (False, a Future of the
        value), the read sent or joined. Turn either into the answer with
        answer(); the asyncio client awaits the future instead of blocking."""
        key = (kind, path)
        with self._lock:
            entry = self._tables[kind].get(path)
            if entry is None:
                fetch = self._inflight.get(key)
                start = fetch is None
                if start:
                    fetch = self._inflight[key] = _Fetch()
                    self.misses += 1
        if entry is not None:
            return True, entry.value
        assert fetch is not None
        if start:
            self._send(kind, path, fetch)
        return False, fetch.future

    @staticmethod
    def answer(kind: str, path: str, value: Any) -> Any:
        if value is MISSING:
            raise NoNodeException(path=path)
        if kind == CHILDREN:
            return list(value)
        return value

    def _send(self, kind: str, path: str, fetch: _Fetch) -> None:
        """Send the read of a miss (from any thread, the I/O thread included)."""
        client = self._client
        watcher = self._watchers[kind]
        op: ops.Operation[Any]
        try:
            if kind == GET:
                op = ops.get(client, path, watcher)
            elif kind == CHILDREN:
                op = ops.get_children(client, path, watcher)
            else:
                op = ops.exists(client, path, watcher)
            future = client.start_operation(op)
        except BaseException as exc:
            self._finish(kind, path, fetch, error=exc)
            return
        future.add_done_callback(lambda f: self._on_read(kind, path, fetch, f))

    def _on_read(self, kind: str, path: str, fetch: _Fetch, future: "Future[Any]") -> None:
        try:
            result = future.result()
        except NoNodeException:
            # get/get_children of a missing node arm no watch: arm an exists
            # watch, so that the node's creation drops the cached "missing".
            try:
                check = self._client.start_operation(
                    ops.exists(self._client, path, self._watchers[kind]))
            except BaseException as exc:
                self._finish(kind, path, fetch, error=exc)
                return
            check.add_done_callback(lambda f: self._on_check(kind, path, fetch, f))
            return
        except BaseException as exc:
            self._finish(kind, path, fetch, error=exc)
            return
        if kind == CHILDREN:
            result = tuple(result)
        self._finish(kind, path, fetch, result)

    def _on_check(self, kind: str, path: str, fetch: _Fetch, future: "Future[Any]") -> None:
        try:
            stat = future.result()
        except BaseException as exc:
            self._finish(kind, path, fetch, error=exc)
            return
        if stat is None:
            self._finish(kind, path, fetch, MISSING)
            return
        # Created since the read: read again (its watch is armed now).
        fetch.rounds += 1
        if fetch.rounds >= _MAX_ROUNDS:
            # Still coming and going: "no node" was true when read; answer
            # it without caching it.
            fetch.stale = True
            self._finish(kind, path, fetch, MISSING)
            return
        self._send(kind, path, fetch)

    def _finish(self, kind: str, path: str, fetch: _Fetch, value: Any = None,
                error: Optional[BaseException] = None) -> None:
        key = (kind, path)
        with self._lock:
            if self._inflight.get(key) is fetch:
                del self._inflight[key]
            if error is None and not fetch.stale:
                entry = _Entry(value)
                self._tables[kind][path] = entry
                self._order[key] = entry
                self._order.move_to_end(key)
                if len(self._order) > self._max_entries:
                    self._evict_locked()
        if error is None:
            fetch.future.set_result(value)
        else:
            fetch.future.set_exception(error)

    def _evict_locked(self) -> None:
        order = self._order
        # Second chance: an entry used since it was last passed over goes to
        # the back once; each pass clears flags, so this ends.
        while len(order) > self._max_entries:
            key, entry = order.popitem(last=False)
            if entry.used:
                entry.used = False
                order[key] = entry
                continue
            table = self._tables[key[0]]
            if table.get(key[1]) is entry:
                del table[key[1]]
            self.evictions += 1
