"""`TreeCache`: a live in-memory mirror of a subtree.

    with client.tree_cache("/app") as tree:        # started and initialized
        data, stat = tree.get_data("/app/config")
        names = tree.get_children("/app/workers")
        for path in tree: ...

The mirror itself is `pykeeper.core.tree_mirror.TreeMirror` (sans-I/O; its
guarantees are listed there and reasoned in docs/design.md, "TreeCache").
`TreeLink` connects one to a client: its watcher is *inline* (run as the
driver decodes each event) and its reads' replies are applied by future
callbacks in reply order, so the mirror sees events and replies in server
order. The sync `TreeCache` here and `pykeeper.aio.TreeCache` are fronts
over a TreeLink; they differ only in how they wait and announce.

Listeners: `add_listener(fn)`, `fn(TreeEvent)` on the client's event
thread (the loop), in order: "added", "updated", "removed", "initialized"
once, "suspended" when the connection drops, "reconnected" once the
mirror is revalidated (or rebuilt after an expiry).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from functools import partial
from typing import (
    Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple, Union,
)

from ..core import operations as ops
from ..core.paths import validate_path
from ..protocol.errors import (
    CONNECTION_GONE, ClientClosedException, NoNodeException,
    TimeoutException,
    UnimplementedException, ZooKeeperException,
)
from ..protocol.records import EventType, KeeperState, Stat, WatchedEvent
from ..core.steps import (
    AsyncioDriver, Call, Callback, Helper, HelperClient, Relay, Signal, SyncHelperClient,
    ThreadDriver, WaitForEvent,
)
from ..core.tree_mirror import (
    ADDED, CHILDREN, DATA, INITIALIZED, RECONNECTED, REMOVED, SUSPENDED, UPDATED, Read,
    TreeEvent, TreeMirror,
)

log = logging.getLogger("pykeeper")

__all__ = ["TreeCache", "TreeEvent", "TreeLink", "INITIALIZED", "ADDED", "UPDATED",
           "REMOVED", "SUSPENDED", "RECONNECTED"]

DEFAULT_WINDOW = 500

# Failures that end with the connection: read again (or revalidated) after it.
_SESSION_GONE = (KeeperState.EXPIRED, KeeperState.CLOSED, KeeperState.AUTH_FAILED)

Listener = Callable[[TreeEvent], Any]
Driver = Union[ThreadDriver, AsyncioDriver]

_io = threading.local()  # .active: this thread is applying events and replies


class TreeLink:
    """A TreeMirror connected to a client, written once for both fronts:
    the watcher, sending the mirror's reads, applying replies, following
    the client's states, arming (a helper, see pykeeper.core.steps) and the
    waits of readers (helpers too). The front gives its `driver`,
    `kick` (start a sync round in line with the client's events) and
    `announce` (run `announcements()` where listeners run)."""

    def __init__(self, client: HelperClient, path: str, driver: Driver, *,
                 persistent: Optional[bool], window: int,
                 kick: Callable[[], None], announce: Callable[[], None]) -> None:
        validate_path(path)
        self.client = client
        self.root = path
        self.driver = driver
        self.watcher = Relay(self.on_watch, inline=True)  # (released when closed)
        self.mirror = TreeMirror(path, self.watcher, persistent=persistent, window=window)
        self.lock = threading.RLock()
        self.changed = Signal()  # fired after every change applied
        self.started = False
        self.closed = False
        self.listeners: List[Listener] = []
        self.queue: Deque[TreeEvent] = deque()  # events for the listeners
        self._kick = kick
        self._announce = announce

    def __repr__(self) -> str:
        return f"<pykeeper tree link {self.root!r}>"

    # -- starting and stopping -----------------------------------------------------------

    def starting(self) -> bool:
        """Mark the tree started and follow the client's states; False if it
        already was. ClientClosedException if it was closed."""
        with self.lock:
            if self.closed:
                raise ClientClosedException("this TreeCache was closed")
            if self.started:
                return False
            self.started = True
        self.client.add_listener(self.on_state)
        return True

    def detach(self) -> bool:
        """Stop following (locally); True if the persistent watch is still
        to be removed from the server."""
        with self.lock:
            if self.closed:
                return False
            self.closed = True
            self.watcher.release()
            self.mirror.close()
            persistent = bool(self.mirror.persistent and self.mirror.armed_session is not None)
        self.changed.fire()
        self.client.remove_listener(self.on_state)
        return persistent

    def arm_and_sync(self) -> Helper[None]:
        """(helper) Arm the watch on the current session and start a sync
        round; a persistent watch armed for a tree closed meanwhile is removed."""
        if (yield from self._arming()):
            yield from self.remove_watch()

    def _arming(self) -> Helper[bool]:
        client = self.client
        session = client.session_id
        if not client.connected or session is None:
            return False  # on_state does it once connected
        armed = persistent = False
        if self.mirror.persistent is not False:
            try:
                yield Call(ops.add_watch, self.root, self.watcher, True)
            except UnimplementedException:
                log.info("%r: the server has no persistent watches; using one-shot ones", self)
            except CONNECTION_GONE:
                return False  # on_state tries again once connected
            else:
                persistent = armed = True
        with self.lock:
            if self.closed:
                return armed
            self.mirror.armed(session, persistent)
        self._kick()
        return False

    def remove_watch(self) -> Helper[None]:
        """(helper) Remove the persistent watch from the client and server."""
        try:
            yield Callback(self.client.remove_watches, self.root, self.watcher, "recursive")
        except ZooKeeperException as exc:
            # Disconnected or closed: the client forgot the watch anyway (it
            # is not re-armed); the server drops it with the session.
            log.debug("%r: removing its watch: %s", self, exc)

    # -- what the client tells it ------------------------------------------------------------

    def on_state(self, state: Any) -> None:
        """Client state listener (event thread, or loop)."""
        if self.closed:
            return
        if state in ("connected", "connected_readonly"):
            if self.client.session_id != self.mirror.armed_session:
                self.driver.start(self.arm_and_sync())
            elif self.mirror.needs_round:
                self._kick()
        else:
            with self.lock:
                suspended = self.mirror.connection_lost(suspend=state != "associating")
            if suspended:
                self.announce([TreeEvent(SUSPENDED)])

    def on_watch(self, event: WatchedEvent) -> None:
        """The inline watcher's event (on the thread reading events)."""
        kind = event.type
        if kind == EventType.NONE:
            if event.state in _SESSION_GONE:
                with self.lock:
                    self.mirror.session_lost()
            return
        if event.path is None:
            return
        if kind >= EventType.DATA_WATCH_REMOVED:
            # Someone removed the tree's watch: it can no longer follow.
            log.warning("%r closed: its watch on %s was removed", self, event.path)
            self.detach()
            return
        self.apply(self.mirror.event, kind, event.path)

    def begin_round(self) -> None:
        self.apply(self.mirror.begin_round)

    def note_round_needed(self) -> None:
        with self.lock:
            self.mirror.needs_round = True

    # -- applying, in the order the client received things -----------------------------------

    def apply(self, fn: Callable[..., None], *args: Any) -> None:
        """Run the mirror's `fn(*args)` under the lock, marked as applying;
        send the reads it wants; wake readers; hand events to listeners."""
        _io.active = True
        try:
            with self.lock:
                if self.closed:
                    return
                fn(*args)
                self._pump()
                events = self.mirror.take_events()
        finally:
            _io.active = False
        self.changed.fire()
        if events:
            self.announce(events)

    def _pump(self) -> None:
        mirror = self.mirror
        while True:
            read = mirror.next_read()
            if read is None:
                return
            try:
                assert read.request is not None
                future = self.client.start_operation(read.request)
            except CONNECTION_GONE:
                mirror.not_sent(read, lost=True)
                continue
            except ZooKeeperException:
                log.exception("%r: cannot send %r", self, read)
                mirror.not_sent(read, lost=False)
                continue
            mirror.sent(read)
            future.add_done_callback(partial(self._on_reply, read))

    def _on_reply(self, read: Read, future: "Future[Any]") -> None:
        self.apply(self._apply_reply, read, future)

    def _apply_reply(self, read: Read, future: "Future[Any]") -> None:
        try:
            result = future.result()
        except NoNodeException:
            result = None
        except CONNECTION_GONE:
            self.mirror.reply_lost(read)
            return
        except ZooKeeperException as exc:
            log.warning("%r: %r failed: %s", self, read, exc)
            self.mirror.reply_failed(read)
            return
        self.mirror.replied(read, result)

    # -- listeners -------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        if not callable(listener):
            raise TypeError(f"{listener!r} is not callable")
        with self.lock:
            if listener not in self.listeners:
                self.listeners = self.listeners + [listener]

    def remove_listener(self, listener: Listener) -> None:
        with self.lock:
            self.listeners = [fn for fn in self.listeners if fn != listener]

    def announce(self, events: List[TreeEvent]) -> None:
        if self.listeners:
            self.queue.extend(events)
            self._announce()

    def announcements(self) -> Helper[None]:
        """(helper) Call the listeners with each queued event, in order; a
        listener's error is logged."""
        queue = self.queue
        while queue:
            event = queue.popleft()
            for listener in self.listeners:
                try:
                    yield Callback(listener, event)
                except Exception:
                    log.exception("tree cache listener %r raised for %r", listener, event)

    # -- readers' waits (helpers) ------------------------------------------------------------

    def settled(self, path: str, what: str) -> Helper[None]:
        """(helper) Wait until no read an event started for `path`'s `what`
        is on its way (so the answer reflects every event received); at most
        the session timeout. No wait on the thread applying events."""
        if getattr(_io, "active", False):
            return
        deadline = time.monotonic() + self.client.session_timeout
        while True:
            with self.lock:
                seen = self.changed.generation
                if self.closed or not self.mirror.pending(path, what):
                    return
            if not (yield WaitForEvent(self.changed, deadline, after=seen)):
                return

    def initialization(self, timeout: Optional[float]) -> Helper[bool]:
        """(helper) True once the first full read is done; False after
        `timeout` seconds or if the tree is closed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self.lock:
                seen = self.changed.generation
                if self.mirror.initialized or self.closed:
                    return self.mirror.initialized
            if not (yield WaitForEvent(self.changed, deadline, after=seen)):
                return self.mirror.initialized


class TreeView:
    """What both TreeCache fronts offer without waiting: the mirror as it
    is, its state, and listeners (over the front's TreeLink)."""

    path: str

    def __init__(self, client: HelperClient, path: str, driver: Driver,
                 persistent: Optional[bool], window: int) -> None:
        self.path = path
        self._link = TreeLink(client, path, driver, persistent=persistent, window=window,
                              kick=self._kick, announce=self._announce)

    def _kick(self) -> None:
        """Start a sync round in line with the client's events."""
        raise NotImplementedError

    def _announce(self) -> None:
        """Run the link's announcements() where listeners run."""
        raise NotImplementedError

    @property
    def initialized(self) -> bool:
        return self._link.mirror.initialized

    @property
    def closed(self) -> bool:
        return self._link.closed

    @property
    def persistent(self) -> Optional[bool]:
        """True on a persistent recursive watch, False on per-node watches,
        None until armed."""
        return self._link.mirror.persistent

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(TreeEvent)` for every change, on the client's
        event thread (or loop; awaited if a coroutine function).
        TypeError if it is not callable."""
        self._link.add_listener(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._link.remove_listener(listener)

    def __iter__(self) -> Iterator[str]:
        """The paths of the mirror's nodes (a snapshot, sorted)."""
        return iter(self.paths())

    def paths(self) -> List[str]:
        """The sorted paths of the mirror's nodes."""
        with self._link.lock:
            return self._link.mirror.paths()

    def __len__(self) -> int:
        return len(self.paths())

    def __contains__(self, path: object) -> bool:
        with self._link.lock:
            return isinstance(path, str) and self._link.mirror.data(path) is not None

    def snapshot(self) -> Dict[str, Tuple[bytes, Stat, List[str]]]:
        """{path: (data, stat, sorted children)} of every node, at one instant."""
        with self._link.lock:
            return self._link.mirror.snapshot()

    def stats(self) -> Dict[str, int]:
        """Counters: nodes mirrored, reads sent by kind ("data": get,
        "children": get_children, "stat"/"check": exists, "watch_root"),
        "reads" in all, "in_flight", "queued", "peak_in_flight"."""
        with self._link.lock:
            return self._link.mirror.stats()

    def _data(self, path: str) -> Optional[Tuple[bytes, Stat]]:
        with self._link.lock:
            return self._link.mirror.data(path)

    def _children(self, path: str) -> Optional[List[str]]:
        with self._link.lock:
            return self._link.mirror.children(path)

    def __repr__(self) -> str:
        state = ("closed" if self.closed else "initialized" if self.initialized
                 else "starting")
        return f"<{self._public_name} {self._link.root!r} {state}>"

    _public_name = "pykeeper.TreeCache"


class TreeCache(TreeView):
    """A live mirror of the subtree at `path` (see the module docstring).

    `persistent`: None (default; True means the same) uses a persistent
    recursive watch where the server has them (3.6+) and per-node watches
    elsewhere; False forces per-node watches. `window`: most reads in
    flight at once (the server stops reading a connection at 1,000).
    ValueError for a bad path or window.
    """

    def __init__(self, client: SyncHelperClient, path: str, *,
                 persistent: Optional[bool] = None, window: int = DEFAULT_WINDOW) -> None:
        self.client: SyncHelperClient = client
        self._driver = ThreadDriver(client)
        super().__init__(client, path, self._driver, persistent, window)

    # -- public API --------------------------------------------------------------

    def start(self) -> "TreeCache":
        """Arm the watch and start reading the subtree; returns once the
        watch is armed (a round trip; at once if the client is not
        connected: then that happens when it is). See `wait_initialized`.
        ClientClosedException if the tree was closed."""
        if self._link.starting():
            self._driver.run(self._link.arm_and_sync())
        return self

    def wait_initialized(self, timeout: Optional[float] = None) -> bool:
        """True once the first full read of the subtree is done; False
        after `timeout` seconds (None: no limit) or once closed. Blocks."""
        return self._driver.run(self._link.initialization(timeout))

    def close(self) -> None:
        """Stop following the subtree and let go of the client. The mirror
        keeps its last content. Idempotent. Blocks for the round trip that
        removes the watch from the server (at most the client's read
        timeout)."""
        if self._link.detach():
            self._driver.run(self._link.remove_watch())

    def __enter__(self) -> "TreeCache":
        """Start and wait for initialization (at most max(30 s, session
        timeout); TimeoutException, the tree closed, otherwise)."""
        self.start()
        timeout = max(30.0, self.client.session_timeout)
        if not self.wait_initialized(timeout):
            self.close()
            raise TimeoutException(f"{self!r} not initialized within {timeout} s")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def get_data(self, path: str) -> Optional[Tuple[bytes, Stat]]:
        """(data, stat) of the node at `path`, or None if the mirror has no
        such node. If an event already said the node changed, blocks (a
        round trip while connected; at most the session timeout) for the
        new data rather than return the old."""
        self._driver.run(self._link.settled(path, DATA))
        return self._data(path)

    def get_children(self, path: str) -> Optional[List[str]]:
        """The sorted names of the node's children, or None if the mirror
        has no such node (waits as get_data does)."""
        self._driver.run(self._link.settled(path, CHILDREN))
        return self._children(path)

    # -- how this front kicks and announces ---------------------------------------------

    def _kick(self) -> None:
        """Start a sync round on the I/O thread, in line with its events.

        A request sent from this thread gets its reply callback run on the
        I/O thread, in order, only if the callback was added before the
        reply arrived; if it was not (it then runs here, at once), retry.
        """
        me = threading.get_ident()
        link = self._link
        for _ in range(50):
            late = []

            def on_reply(future: "Future[Any]") -> None:
                if threading.get_ident() == me:
                    late.append(True)  # not in order with events: retry
                    return
                if future.exception() is not None:
                    link.note_round_needed()  # the connection dropped: on_state kicks
                    return
                link.begin_round()

            try:
                future = self.client.start_operation(ops.exists(self.client, self.path))
            except ZooKeeperException:
                break  # not connected: on_state kicks again
            future.add_done_callback(on_reply)
            if not late:
                return
        else:
            log.warning("%r: could not get in line with the I/O thread", self)
        link.note_round_needed()

    def _announce(self) -> None:
        self.client.call_soon(self._driver.run, self._link.announcements())
