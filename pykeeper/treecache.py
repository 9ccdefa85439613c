"""`TreeCache`: a live in-memory mirror of a subtree.

    with client.tree_cache("/app") as tree:        # started and initialized
        data, stat = tree.get_data("/app/config")
        names = tree.get_children("/app/workers")
        for path in tree: ...

How it stays exact
------------------
On servers 3.6+ the whole subtree is watched by ONE persistent recursive
watch (armed before anything is read); older servers get one-shot data and
child watches on every node instead. Its watcher is *inline*: the client
calls it on the I/O thread as each event is processed, and every read the
cache sends is sent from the I/O thread too, its reply handled by a future
callback that the I/O thread runs in reply order. So events and replies
are applied in exactly the order the server sent them, and ZooKeeper's
guarantee (a client sees a watch event before any reply that reflects the
change) makes each reply the truth at its place in that stream. An update
can therefore never be applied after the node's delete, and a node's
version never goes backwards.

- created: the node is added to its parent (its children: none yet) and
  its data read; the parent's stat is re-read (stat only).
- changed: the data is read again, unless a read of it is already on its
  way (its reply will reflect the change: one read serves any number of
  events).
- deleted: the node (and anything below, already deleted) is dropped.
- (one-shot mode) child: the children are listed again.

Reconnects, expiry
------------------
After a reconnect in the same session the server re-arms the persistent
watch (SetWatches) but does not replay what it missed. The cache then
revalidates without reloading: one pipelined exists (stat only) per cached
node; the data is read again only where mzxid changed, the children listed
again only where pzxid changed, and nodes that are gone are dropped. After
a session expiry the same happens on the new session, once the new watch
is armed. In one-shot mode the client's SetWatches makes the server send
the missed events, and only reads that failed in the outage are re-sent;
after expiry every node is read again (to arm its watches).

Reads are pipelined, at most `window` requests in flight.

Listeners
---------
`add_listener(fn)`: `fn(TreeEvent)` on the client's event thread, in the
order the changes were applied: "added", "updated", "removed" (with path,
data and stat), "initialized" once the first full read is done,
"suspended" when the connection drops, "reconnected" when the mirror has
been revalidated after a reconnect or rebuilt after an expiry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from functools import partial
from typing import (
    TYPE_CHECKING, Any, Callable, Deque, Dict, Generator, Iterator, List, NamedTuple,
    Optional, Set, Tuple,
)

from . import operations as ops
from .paths import validate_path
from .protocol.errors import (
    ClientClosedException, ConnectionLossException, NoNodeException, NoWatcherException,
    OperationTimeoutException, SessionExpiredException, TimeoutException,
    UnimplementedException, ZooKeeperException,
)
from .protocol.records import EventType, KeeperState, Stat, WatchedEvent

if TYPE_CHECKING:
    from .client import ZooKeeper

log = logging.getLogger("pykeeper")

INITIALIZED = "initialized"
ADDED = "added"
UPDATED = "updated"
REMOVED = "removed"
SUSPENDED = "suspended"
RECONNECTED = "reconnected"

DEFAULT_WINDOW = 500

# Failures that end with the connection: what they were reading is read
# again (or revalidated) after the reconnect.
_LOST = (ConnectionLossException, OperationTimeoutException, SessionExpiredException,
         ClientClosedException)

# Request kinds.
_DATA = "data"          # get (one-shot mode: with the watch)
_CHILDREN = "children"  # get_children with stat (one-shot mode: with the watch)
_STAT = "stat"          # exists: a parent's stat after a child came or went
_CHECK = "check"        # exists: revalidation after a reconnect
_WATCH_ROOT = "watch_root"  # exists with the watch (one-shot mode, missing root)


class TreeEvent(NamedTuple):
    """What a TreeCache listener receives. `type` is one of "initialized",
    "added", "updated", "removed", "suspended", "reconnected"; `path`,
    `data` and `stat` are set for the node events (for "removed": the last
    data and stat the mirror had)."""

    type: str
    path: Optional[str] = None
    data: Optional[bytes] = None
    stat: Optional[Stat] = None


class _Node:
    __slots__ = ("path", "value", "children", "listed", "pzxid", "fetching_data",
                 "fetching_children", "fetching_stat", "dirty_data", "dirty_children")

    def __init__(self, path: str, listed: bool = False) -> None:
        self.path = path
        self.value: Optional[Tuple[bytes, Stat]] = None
        self.children: Set[str] = set()
        # Whether `children` is known (listed, or empty since the node's
        # creation and kept up to date by events), and the pzxid of the
        # last listing (None: never listed). A listing is the truth at its
        # point; the events since then are the changes after it. The set
        # and a later stat's pzxid are never paired: an outage may have
        # hidden events, and only a listing (or a pzxid still equal to the
        # listing's) says the set is right.
        self.listed = listed
        self.pzxid: Optional[int] = None
        self.fetching_data = False
        self.fetching_children = False
        self.fetching_stat = False
        # (one-shot mode) a read that failed with the connection: its watch
        # is not armed; it is re-sent after the reconnect.
        self.dirty_data = False
        self.dirty_children = False


class _TreeWatcher:
    """The cache's inline watcher; lets go of the cache once it is closed."""

    inline = True
    __slots__ = ("target", "__weakref__")

    def __init__(self, target: "TreeCache") -> None:
        self.target: Optional[TreeCache] = target

    def __call__(self, event: WatchedEvent) -> None:
        target = self.target
        if target is not None:
            target._on_watch(event)

    def __repr__(self) -> str:
        return f"<pykeeper tree cache watcher for {self.target!r}>"


_io = threading.local()


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class TreeCache:
    """A live mirror of the subtree at `path` (see the module docstring).

    `persistent`: None (default; True means the same) uses a persistent
    recursive watch where the server has them (3.6+) and per-node watches
    elsewhere; False forces per-node watches. `window`: most reads in
    flight at once (the server stops reading a connection at 1,000).
    """

    def __init__(self, client: "ZooKeeper", path: str, *, persistent: Optional[bool] = None,
                 window: int = DEFAULT_WINDOW) -> None:
        validate_path(path)
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        self.client = client
        self.path = path
        self._root = path
        self._prefix = "/" if path == "/" else path + "/"
        self._window = window
        self._persistent: Optional[bool] = False if persistent is False else None
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._waiters = 0
        self._nodes: Dict[str, _Node] = {}
        self._queue: Deque[Tuple[str, _Node, Optional[int]]] = deque()
        self._inflight = 0
        self._round = 0
        self._round_pending = 0
        self._round_failed = False
        self._round_open = False
        self._needs_round = False
        self._armed_session: Optional[int] = None
        self._synced_session: Optional[int] = None
        self._started = False
        self._closed = False
        self._live = False
        self._initialized = threading.Event()
        self._listeners: List[Callable[[TreeEvent], Any]] = []
        self._announce: List[TreeEvent] = []
        self._watcher = _TreeWatcher(self)
        # Requests sent, by kind; the most in flight at once.
        self._sent = {_DATA: 0, _CHILDREN: 0, _STAT: 0, _CHECK: 0, _WATCH_ROOT: 0}
        self._peak_inflight = 0

    # -- public API --------------------------------------------------------------

    def start(self) -> "TreeCache":
        """Arm the watch and start reading the subtree; returns at once (see
        `wait_initialized`). If the client is not connected, that happens
        when it is."""
        if self._starting():
            self._arm_and_sync()
        return self

    def _starting(self) -> bool:
        """Mark the tree started and follow the client's states; False if
        it already was. ClientClosedException if it was closed."""
        with self._lock:
            if self._closed:
                raise ClientClosedException("this TreeCache was closed")
            if self._started:
                return False
            self._started = True
        self.client.add_listener(self._on_state)
        return True

    def wait_initialized(self, timeout: Optional[float] = None) -> bool:
        """True once the first full read of the subtree is done; False
        after `timeout` seconds."""
        return self._initialized.wait(timeout)

    @property
    def initialized(self) -> bool:
        return self._initialized.is_set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def persistent(self) -> Optional[bool]:
        """True on a persistent recursive watch, False on per-node watches,
        None until armed."""
        return self._persistent

    def close(self) -> None:
        """Stop following the subtree and let go of the client. The mirror
        keeps its last content. Idempotent. Blocks for the round trip that
        removes the watch from the server (at most the client's read
        timeout)."""
        if self._detach():
            self._remove_watch()

    def _remove_watch(self) -> None:
        try:
            self.client.remove_watches(self._root, self._watcher, kind="recursive")
        except (NoWatcherException, ZooKeeperException) as exc:
            self._watch_not_removed(exc)

    def _detach(self) -> bool:
        """Stop following (locally); True if the persistent watch is still
        to be removed from the server."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            self._watcher.target = None
            self._queue.clear()
            persistent = bool(self._persistent and self._armed_session is not None)
            self._wake()
        self.client.remove_listener(self._on_state)
        return persistent

    def _watch_not_removed(self, exc: Exception) -> None:
        # Disconnected or closed: the client forgot the watch anyway (it is
        # not re-armed); the server drops it with the session.
        log.debug("%r: removing its watch: %s", self, exc)

    def __enter__(self) -> "TreeCache":
        self.start()
        timeout = max(30.0, self.client.session_timeout)
        if not self.wait_initialized(timeout):
            self.close()
            raise TimeoutException(f"{self!r} not initialized within {timeout} s")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add_listener(self, listener: Callable[[TreeEvent], Any]) -> None:
        """Call `listener(TreeEvent)` for every change, on the event thread."""
        if not callable(listener):
            raise TypeError(f"{listener!r} is not callable")
        with self._lock:
            if listener not in self._listeners:
                self._listeners = self._listeners + [listener]

    def remove_listener(self, listener: Callable[[TreeEvent], Any]) -> None:
        with self._lock:
            self._listeners = [fn for fn in self._listeners if fn != listener]

    def get_data(self, path: str) -> Optional[Tuple[bytes, Stat]]:
        """(data, stat) of the node at `path`, or None if the mirror has no
        such node. If an event already said the node changed, waits (a
        round trip, while connected) for the new data rather than return
        the old."""
        with self._cond:
            node = self._wait(path, "fetching_data")
            return None if node is None else node.value

    def get_children(self, path: str) -> Optional[List[str]]:
        """The sorted names of the node's children, or None if the mirror has
        no such node."""
        with self._cond:
            node = self._wait(path, "fetching_children")
            if node is None or node.value is None:
                return None
            return sorted(node.children)

    def __iter__(self) -> Iterator[str]:
        """The paths of the mirror's nodes (a snapshot, sorted)."""
        return iter(self.paths())

    def paths(self) -> List[str]:
        with self._lock:
            return sorted(p for p, n in self._nodes.items() if n.value is not None)

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for n in self._nodes.values() if n.value is not None)

    def __contains__(self, path: object) -> bool:
        with self._lock:
            node = self._nodes.get(path)  # type: ignore[arg-type]
            return node is not None and node.value is not None

    def snapshot(self) -> Dict[str, Tuple[bytes, Stat, List[str]]]:
        """{path: (data, stat, sorted children)} of every node, at one instant."""
        with self._lock:
            return {p: (n.value[0], n.value[1], sorted(n.children))
                    for p, n in self._nodes.items() if n.value is not None}

    def stats(self) -> Dict[str, int]:
        """Counters: nodes mirrored, reads sent by kind ("data": get,
        "children": get_children, "stat"/"check": exists, "watch_root"),
        "reads" in all, "peak_in_flight" (most reads in flight at once)."""
        with self._lock:
            out = dict(self._sent)
            out["reads"] = sum(self._sent.values())
            out["nodes"] = sum(1 for n in self._nodes.values() if n.value is not None)
            out["in_flight"] = self._inflight
            out["queued"] = len(self._queue)
            out["peak_in_flight"] = self._peak_inflight
            return out

    def __repr__(self) -> str:
        state = "closed" if self._closed else "initialized" if self.initialized else "starting"
        return f"<pykeeper.TreeCache {self._root!r} {state}>"

    def _wait(self, path: str, flag: str) -> Optional[_Node]:
        """The node at `path` once no read already started for it (or, for
        a node not known, for its parent's children) is on its way: a read
        an event started, so the answer reflects every event received.
        Bounded by the session timeout; no wait on the I/O thread."""
        node = self._nodes.get(path)
        if not self._pending(path, node, flag) or getattr(_io, "active", False):
            return node
        deadline = time.monotonic() + self.client.session_timeout
        self._waiters += 1
        try:
            while self._pending(path, node, flag) and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
                node = self._nodes.get(path)
        finally:
            self._waiters -= 1
        return node

    def _pending(self, path: str, node: Optional[_Node], flag: str) -> bool:
        if node is not None:
            return getattr(node, flag) or (node.value is None and node.fetching_data)
        if path == self._root or not self._in_tree(path):
            return False
        parent = self._nodes.get(_parent(path))
        return parent is not None and parent.fetching_children

    # -- arming (caller's or event thread) -----------------------------------------

    def _arm_and_sync(self) -> None:
        if self.client._drive(self._arming()):
            self._remove_watch()  # armed for a tree closed meanwhile

    def _arm_soon(self) -> None:
        """(event thread) Arm on the new session and sync."""
        self._arm_and_sync()

    def _arming(self) -> Generator[Any, Any, bool]:
        """Arm the watch and start a sync round, as an operation (see
        pykeeper.operations) that each client drives its own way. Returns
        True if it armed a persistent watch for a tree closed meanwhile,
        which the caller then removes."""
        client = self.client
        session = client.session_id
        if not client.connected or session is None:
            return False  # _on_state does it once connected
        armed = False
        if self._persistent is not False:
            try:
                yield from ops.add_watch(client, self._root, self._watcher, recursive=True)
            except UnimplementedException:
                log.info("%r: the server has no persistent watches; using one-shot ones", self)
                self._persistent = False
            except _LOST:
                return False  # _on_state tries again once connected
            else:
                self._persistent = armed = True
        with self._lock:
            if self._closed:
                return armed
            self._armed_session = session
        self._kick()
        return False

    def _kick(self) -> None:
        """Start a sync round on the I/O thread.

        A request sent from this thread gets its reply callback run on the
        I/O thread, in order, only if the callback was added before the
        reply arrived; if it was not (the callback then runs here, at
        once), try again.
        """
        me = threading.get_ident()
        for _ in range(50):
            late = []

            def on_reply(future: Future) -> None:
                if threading.get_ident() == me:
                    late.append(True)  # not in order with events: retry
                    return
                if future.exception() is not None:
                    self._needs_round = True
                    return  # the connection dropped: _on_state kicks again
                self._io(self._begin_round)

            try:
                future = self.client.exists_async(self._root)
            except ZooKeeperException:
                break  # not connected: _on_state kicks again
            future.add_done_callback(on_reply)
            if not late:
                return
        else:
            log.warning("%r: could not get in line with the I/O thread", self)
        self._needs_round = True

    def _on_state(self, state: Any) -> None:
        """Client state listener (event thread)."""
        if self._closed:
            return
        if state in ("connected", "connected_readonly"):
            if self.client.session_id != self._armed_session:
                self._arm_soon()
            elif self._needs_round:
                self._kick()
        else:
            self._needs_round = True
            if self._live and state != "associating":
                self._live = False
                self._announce_later([TreeEvent(SUSPENDED)])

    # -- the I/O thread ------------------------------------------------------------

    def _io(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` under the lock, marked as on the I/O thread, then
        hand the announcements to the event thread."""
        _io.active = True
        try:
            with self._lock:
                if self._closed:
                    return
                fn(*args)
                self._pump()
                if self._waiters:
                    self._wake()
                announce, self._announce = self._announce, []
        finally:
            _io.active = False
        if announce:
            self._announce_later(announce)

    def _wake(self) -> None:
        """Wake the readers waiting in `_wait` (lock held)."""
        self._cond.notify_all()

    def _announce_later(self, events: List[TreeEvent]) -> None:
        self.client._run_on_event_thread(self._dispatch, events)

    def _on_watch(self, event: WatchedEvent) -> None:
        kind = event.type
        if kind == EventType.NONE:
            if event.state in (KeeperState.EXPIRED, KeeperState.CLOSED, KeeperState.AUTH_FAILED):
                with self._lock:
                    self._armed_session = None
                    self._needs_round = True
            return
        if event.path is None:
            return
        if kind >= EventType.DATA_WATCH_REMOVED:
            # Someone removed the tree's watch (remove_watches): it can no
            # longer follow the subtree, so it stops, like a DataWatch does.
            log.warning("%r closed: its watch on %s was removed", self, event.path)
            self._detach()
            return
        self._io(self._apply_event, kind, event.path)

    def _begin_round(self) -> None:
        self._needs_round = False
        rebuild = self._synced_session != self._armed_session
        self._synced_session = self._armed_session
        self._round += 1
        self._round_pending = 0
        self._round_failed = False
        self._round_open = True
        rnd = self._round
        root = self._nodes.get(self._root)
        if self._persistent:
            for node in list(self._nodes.values()):
                self._enqueue(_CHECK, node, rnd)
            if root is None:
                root = self._add_node(self._root, None)
                self._fetch_data(root, rnd)
        else:
            if root is None:
                root = self._add_node(self._root, None)
                self._fetch_data(root, rnd)
                self._fetch_children(root, rnd)
            for node in list(self._nodes.values()):
                if rebuild or node.dirty_data:
                    self._fetch_data(node, rnd)
                if rebuild or node.dirty_children:
                    self._fetch_children(node, rnd)
        self._round_check(rnd)

    def _round_check(self, rnd: Optional[int]) -> None:
        if rnd != self._round or not self._round_open or self._round_pending:
            return
        self._round_open = False
        if self._round_failed:
            return  # the connection dropped: another round after the reconnect
        self._live = True
        if not self._initialized.is_set():
            self._initialized.set()
            self._emit(TreeEvent(INITIALIZED))
        else:
            self._emit(TreeEvent(RECONNECTED))

    # -- requests ------------------------------------------------------------------

    def _enqueue(self, op: str, node: _Node, rnd: Optional[int]) -> None:
        if rnd is not None and rnd == self._round:
            self._round_pending += 1
        else:
            rnd = None
        self._queue.append((op, node, rnd))

    def _fetch_data(self, node: _Node, rnd: Optional[int] = None) -> None:
        if not node.fetching_data:
            node.fetching_data = True
            self._enqueue(_DATA, node, rnd)

    def _fetch_children(self, node: _Node, rnd: Optional[int] = None) -> None:
        if not node.fetching_children:
            node.fetching_children = True
            self._enqueue(_CHILDREN, node, rnd)

    def _fetch_stat(self, node: _Node) -> None:
        if not (node.fetching_stat or node.fetching_data):
            node.fetching_stat = True
            self._enqueue(_STAT, node, None)

    def _pump(self) -> None:
        client = self.client
        watcher = None if self._persistent else self._watcher
        queue = self._queue
        while queue and self._inflight < self._window:
            op, node, rnd = queue.popleft()
            path = node.path
            if op != _WATCH_ROOT and self._nodes.get(path) is not node:
                self._done(op, node, rnd)  # dropped meanwhile
                continue
            try:
                if op == _DATA:
                    future = client.get_async(path, watcher=watcher)
                elif op == _CHILDREN:
                    future = client.get_children_async(path, watcher=watcher, include_stat=True)
                elif op == _WATCH_ROOT:
                    future = client.exists_async(path, watcher=self._watcher)
                else:
                    future = client.exists_async(path)
            except _LOST:
                self._failed(op, node, rnd)
                continue
            except ZooKeeperException:
                log.exception("%r: cannot send %s of %s", self, op, path)
                self._done(op, node, rnd)
                continue
            self._inflight += 1
            self._sent[op] += 1
            if self._inflight > self._peak_inflight:
                self._peak_inflight = self._inflight
            future.add_done_callback(partial(self._on_reply, op, node, rnd))

    def _on_reply(self, op: str, node: _Node, rnd: Optional[int], future: Future) -> None:
        self._io(self._apply_reply, op, node, rnd, future)

    def _apply_reply(self, op: str, node: _Node, rnd: Optional[int], future: Future) -> None:
        self._inflight -= 1
        try:
            result = future.result()
        except NoNodeException:
            result = None
        except _LOST:
            self._failed(op, node, rnd)
            return
        except ZooKeeperException as exc:
            log.warning("%r: %s of %s failed: %s", self, op, node.path, exc)
            self._done(op, node, rnd)
            return
        self._done(op, node, rnd, ok=False)
        current = self._nodes.get(node.path)
        if op == _DATA:
            self._apply_data(node.path, current, result, rnd)
        elif op == _CHILDREN:
            self._apply_children(current, result, rnd)
        elif op == _STAT:
            self._apply_stat(node.path, current, result)
        elif op == _CHECK:
            self._apply_check(node.path, current, result, rnd)
        else:
            self._apply_watch_root(result, rnd)
        self._round_done(rnd)

    def _done(self, op: str, node: _Node, rnd: Optional[int], ok: bool = True) -> None:
        """A request of `node` ended: clear its flag (and with `ok`, count it
        done for its round)."""
        if op == _DATA:
            node.fetching_data = False
        elif op == _CHILDREN:
            node.fetching_children = False
        elif op == _STAT:
            node.fetching_stat = False
        if ok:
            self._round_done(rnd)

    def _round_done(self, rnd: Optional[int]) -> None:
        if rnd is not None and rnd == self._round:
            self._round_pending -= 1
            self._round_check(rnd)

    def _failed(self, op: str, node: _Node, rnd: Optional[int]) -> None:
        if op == _DATA:
            node.dirty_data = True
        elif op == _CHILDREN:
            node.dirty_children = True
        self._needs_round = True
        if rnd is not None and rnd == self._round:
            self._round_failed = True
        self._done(op, node, rnd)

    # -- applying events and replies, in server order -----------------------------------

    def _in_tree(self, path: str) -> bool:
        return path == self._root or path.startswith(self._prefix)

    def _apply_event(self, kind: int, path: str) -> None:
        if not self._in_tree(path):
            return
        node = self._nodes.get(path)
        if kind == EventType.CREATED:
            if node is None:
                parent = None
                if path != self._root:
                    parent = self._nodes.get(_parent(path))
                    if parent is None:
                        return  # its parent is not read yet; that read will list it
                # Created after the watch was armed: no children yet; any
                # child will come with its own event.
                node = self._add_node(path, parent, listed=True)
                if parent is not None and self._persistent:
                    self._fetch_stat(parent)
            self._fetch_data(node)
            if not self._persistent:
                self._fetch_children(node)
        elif node is None:
            return
        elif kind == EventType.CHANGED:
            self._fetch_data(node)
        elif kind == EventType.DELETED:
            self._remove(node)
            if path == self._root:
                if not self._persistent:
                    self._enqueue(_WATCH_ROOT, node, None)
            elif self._persistent:
                parent = self._nodes.get(_parent(path))
                if parent is not None:
                    self._fetch_stat(parent)
        elif kind == EventType.CHILD:
            self._fetch_children(node)

    def _add_node(self, path: str, parent: Optional[_Node], listed: bool = False) -> _Node:
        node = _Node(path, listed)
        self._nodes[path] = node
        if parent is not None:
            parent.children.add(path.rsplit("/", 1)[1])
        return node

    def _remove(self, node: _Node) -> None:
        path = node.path
        prefix = self._child_prefix(path)
        for name in list(node.children):
            child = self._nodes.get(prefix + name)
            if child is not None:
                self._remove(child)
        if self._nodes.get(path) is node:
            del self._nodes[path]
        if path != self._root:
            parent = self._nodes.get(_parent(path))
            if parent is not None:
                parent.children.discard(path.rsplit("/", 1)[1])
        if node.value is not None:
            self._emit(TreeEvent(REMOVED, path, node.value[0], node.value[1]))

    def _child_prefix(self, path: str) -> str:
        return "/" if path == "/" else path + "/"

    def _set_value(self, node: _Node, data: bytes, stat: Stat) -> None:
        old = node.value
        node.value = (data, stat)
        if old is None:
            self._emit(TreeEvent(ADDED, node.path, data, stat))
        elif old[1].mzxid != stat.mzxid or old[1].czxid != stat.czxid:
            self._emit(TreeEvent(UPDATED, node.path, data, stat))

    def _apply_data(self, path: str, node: Optional[_Node], result: Any,
                    rnd: Optional[int]) -> None:
        if result is None:  # no node here, at this point of the stream
            if node is not None:
                self._remove(node)
            if path == self._root and not self._persistent:
                self._enqueue(_WATCH_ROOT, _Node(path), rnd)
            return
        if node is None:
            return  # deleted since (its event came first)
        data, stat = result
        node.dirty_data = False
        self._set_value(node, data, stat)
        if not self._persistent:
            return
        if not node.listed:
            if stat.numChildren == 0:
                self._set_children(node, (), stat, rnd)
            else:
                self._fetch_children(node, rnd)

    def _apply_children(self, node: Optional[_Node], result: Any, rnd: Optional[int]) -> None:
        if node is None or result is None:
            if node is not None:
                self._remove(node)
            return
        names, stat = result
        node.dirty_children = False
        self._set_children(node, names, stat, rnd)

    def _set_children(self, node: _Node, names: Any, stat: Stat, rnd: Optional[int]) -> None:
        """`names` are the node's children at this point of the stream."""
        fresh = set(names)
        prefix = self._child_prefix(node.path)
        for name in node.children - fresh:
            child = self._nodes.get(prefix + name)
            if child is not None:
                self._remove(child)
        node.children &= fresh
        for name in fresh - node.children:
            path = prefix + name
            child = self._nodes.get(path)
            if child is None:
                child = self._add_node(path, node)
                self._fetch_data(child, rnd)
                if not self._persistent:
                    self._fetch_children(child, rnd)
            node.children.add(name)
        node.listed = True
        node.pzxid = stat.pzxid
        self._refresh_stat(node, stat)

    def _refresh_stat(self, node: _Node, stat: Stat) -> None:
        """Take a newer stat that says the data is unchanged (numChildren,
        cversion, pzxid move with the children)."""
        value = node.value
        if value is not None and value[1].mzxid == stat.mzxid and value[1].czxid == stat.czxid:
            node.value = (value[0], stat)
        elif self._persistent:
            self._fetch_data(node)

    def _apply_stat(self, path: str, node: Optional[_Node], stat: Optional[Stat]) -> None:
        if stat is None:
            if node is not None:
                self._remove(node)
            return
        if node is not None:
            self._refresh_stat(node, stat)

    def _apply_check(self, path: str, node: Optional[_Node], stat: Optional[Stat],
                     rnd: Optional[int]) -> None:
        if stat is None:
            if node is not None:
                self._remove(node)
            return
        if node is None:
            return
        value = node.value
        if value is None or value[1].mzxid != stat.mzxid or value[1].czxid != stat.czxid:
            self._fetch_data(node, rnd)
        else:
            node.value = (value[0], stat)
        if node.pzxid is not None and node.pzxid == stat.pzxid:
            return  # no child came or went since the last listing
        if stat.numChildren == 0:
            self._set_children(node, (), stat, rnd)
        else:
            self._fetch_children(node, rnd)

    def _apply_watch_root(self, stat: Optional[Stat], rnd: Optional[int]) -> None:
        if stat is None or self._root in self._nodes:
            return  # armed: its creation will come as an event
        root = self._add_node(self._root, None)
        self._fetch_data(root, rnd)
        self._fetch_children(root, rnd)

    # -- listeners -------------------------------------------------------------------------

    def _emit(self, event: TreeEvent) -> None:
        if self._listeners:
            self._announce.append(event)

    def _dispatch(self, events: List[TreeEvent]) -> None:
        for event in events:
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("tree cache listener %r raised for %r", listener, event)
