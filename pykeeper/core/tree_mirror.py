"""The TreeCache mirror, sans-I/O: told the watch events and the replies
in the order the client received them, it says which reads to send and
which listener events to emit. No threads, clocks or sockets; the sync
and asyncio `TreeCache` are fronts over it (docs/design.md, "TreeCache").

The guarantees, one line each (the reasoning is in docs/design.md):
- events and replies are applied in server order, so each reply is the
  truth at its place in the stream: no update after the node's delete, no
  version going backwards;
- persistent-recursive watch mode (3.6+) or one-shot watches per node;
- a changed node is read once however many events came (a read already
  on its way reflects them);
- after a reconnect: revalidation by stat only (data read again where
  mzxid moved, children where pzxid moved); after expiry: the same on the
  new session (one-shot mode: everything read again, to arm its watches);
- at most `window` reads in flight.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from ..protocol import requests as rq
from ..protocol.records import EventType, Stat

__all__ = [
    "TreeMirror", "TreeEvent", "Read", "INITIALIZED", "ADDED", "UPDATED", "REMOVED",
    "SUSPENDED", "RECONNECTED", "DATA", "CHILDREN", "STAT", "CHECK", "WATCH_ROOT",
]

INITIALIZED = "initialized"
ADDED = "added"
UPDATED = "updated"
REMOVED = "removed"
SUSPENDED = "suspended"
RECONNECTED = "reconnected"

# Read kinds.
DATA = "data"              # get (one-shot mode: with the watch)
CHILDREN = "children"      # get_children with stat (one-shot mode: with the watch)
STAT = "stat"              # exists: a parent's stat after a child came or went
CHECK = "check"            # exists: revalidation after a reconnect
WATCH_ROOT = "watch_root"  # exists with the watch (one-shot mode, missing root)
KINDS = (DATA, CHILDREN, STAT, CHECK, WATCH_ROOT)


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
        # `listed`: the children set is known (listed, or empty since the
        # node's creation and kept by events); `pzxid`: of the last listing.
        # Only a listing (or a pzxid still equal to its) says the set is right.
        self.listed = listed
        self.pzxid: Optional[int] = None
        self.fetching_data = False
        self.fetching_children = False
        self.fetching_stat = False
        # (one-shot mode) a read failed with the connection: re-sent after it.
        self.dirty_data = False
        self.dirty_children = False


class Read:
    """A read the mirror wants sent: `request` (its reply, or
    NoNodeException, goes back through `replied`/`reply_lost`/`reply_failed`)."""

    __slots__ = ("kind", "node", "round", "request")

    def __init__(self, kind: str, node: _Node, rnd: Optional[int]) -> None:
        self.kind = kind
        self.node = node
        self.round = rnd
        self.request: Optional[rq.Request] = None

    @property
    def path(self) -> str:
        return self.node.path

    def __repr__(self) -> str:
        return f"Read({self.kind}, {self.node.path!r})"


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _child_prefix(path: str) -> str:
    return "/" if path == "/" else path + "/"


def _same_version(a: Stat, b: Stat) -> bool:
    return a.mzxid == b.mzxid and a.czxid == b.czxid


class TreeMirror:
    """The mirror of the subtree at `root`. `persistent`: None (use a
    persistent recursive watch if the server has them) or False (one-shot
    watches; `watcher` is then given with each read). Not thread-safe: its
    front serializes the calls, in the order the client received them."""

    def __init__(self, root: str, watcher: Any, *, persistent: Optional[bool] = None,
                 window: int = 500) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        self.root = root
        self._prefix = _child_prefix(root)
        self.watcher = watcher
        self.window = window
        self.persistent: Optional[bool] = False if persistent is False else None
        self.nodes: Dict[str, _Node] = {}
        self._queue: Deque[Read] = deque()
        self._sent: Set[Read] = set()
        self.inflight = 0
        self._round = 0
        self._round_pending = 0
        self._round_failed = False
        self._round_open = False
        self.needs_round = False
        self.armed_session: Optional[int] = None
        self._synced_session: Optional[int] = None
        self.live = False
        self.initialized = False
        self._events: List[TreeEvent] = []
        self.counts = {kind: 0 for kind in KINDS}  # reads sent, by kind
        self.peak_inflight = 0

    # -- what the front tells it ---------------------------------------------------------

    def armed(self, session: int, persistent: bool) -> None:
        """The watch is armed on `session` (persistent or one-shot mode);
        a sync round should follow (`begin_round`)."""
        self.persistent = persistent
        self.armed_session = session

    def session_lost(self) -> None:
        """The session ended (expired, closed, auth failed): re-arm and rebuild."""
        self.armed_session = None
        self.needs_round = True

    def connection_lost(self, suspend: bool = True) -> bool:
        """The connection dropped (or, without `suspend`, is being set up):
        a round follows the reconnect. True if this suspends a live mirror
        (then "suspended" is due)."""
        self.needs_round = True
        if not (suspend and self.live):
            return False
        self.live = False
        return True

    def close(self) -> None:
        """Stop reading: nothing more is handed out."""
        self._queue.clear()

    def take_events(self) -> List[TreeEvent]:
        """The listener events since the last call, in order."""
        events, self._events = self._events, []
        return events

    def begin_round(self) -> None:
        """Sync with the server: build (first time, new session) or revalidate."""
        self.needs_round = False
        rebuild = self._synced_session != self.armed_session
        self._synced_session = self.armed_session
        self._round += 1
        self._round_pending = 0
        self._round_failed = False
        self._round_open = True
        rnd = self._round
        # Reads already on their way (say, for the events SetWatches made the
        # server send) belong to this round: it ends only after their replies.
        for read in list(self._queue) + list(self._sent):
            if read.round != rnd:
                read.round = rnd
                self._round_pending += 1
        root = self.nodes.get(self.root)
        if self.persistent:
            for node in list(self.nodes.values()):
                self._enqueue(CHECK, node, rnd)
            if root is None:
                root = self._add_node(self.root, None)
                self._fetch_data(root, rnd)
        else:
            if root is None:
                root = self._add_node(self.root, None)
                self._fetch_data(root, rnd)
                self._fetch_children(root, rnd)
            for node in list(self.nodes.values()):
                if rebuild or node.dirty_data:
                    self._fetch_data(node, rnd)
                if rebuild or node.dirty_children:
                    self._fetch_children(node, rnd)
        self._round_check(rnd)

    def event(self, kind: int, path: str) -> None:
        """A watch event (created, changed, deleted, child) of `path`."""
        if not self.in_tree(path):
            return
        node = self.nodes.get(path)
        if kind == EventType.CREATED:
            if node is None:
                parent = None
                if path != self.root:
                    parent = self.nodes.get(_parent(path))
                    if parent is None:
                        return  # its parent is not read yet; that read will list it
                # Created after the watch was armed: no children yet.
                node = self._add_node(path, parent, listed=True)
                if parent is not None and self.persistent:
                    self._fetch_stat(parent)
            self._fetch_data(node)
            if not self.persistent:
                self._fetch_children(node)
        elif node is None:
            return
        elif kind == EventType.CHANGED:
            self._fetch_data(node)
        elif kind == EventType.DELETED:
            self._remove(node)
            if path == self.root:
                if not self.persistent:
                    self._enqueue(WATCH_ROOT, node, None)
            elif self.persistent:
                parent = self.nodes.get(_parent(path))
                if parent is not None:
                    self._fetch_stat(parent)
        elif kind == EventType.CHILD:
            self._fetch_children(node)

    # -- reads ---------------------------------------------------------------------------

    def next_read(self) -> Optional[Read]:
        """The next read to send (its `request` set), or None: nothing to
        send, or `window` reads in flight. Tell `sent` or `not_sent`."""
        queue = self._queue
        while queue and self.inflight < self.window:
            read = queue.popleft()
            node = read.node
            if read.kind != WATCH_ROOT and self.nodes.get(node.path) is not node:
                self._done(read)  # dropped meanwhile
                continue
            watcher = None if self.persistent else self.watcher
            if read.kind == DATA:
                read.request = rq.GetData(node.path, watcher)
            elif read.kind == CHILDREN:
                read.request = rq.GetChildren(node.path, watcher)
            elif read.kind == WATCH_ROOT:
                read.request = rq.Exists(node.path, self.watcher)
            else:
                read.request = rq.Exists(node.path)
            return read
        return None

    def sent(self, read: Read) -> None:
        self._sent.add(read)
        self.inflight += 1
        self.counts[read.kind] += 1
        if self.inflight > self.peak_inflight:
            self.peak_inflight = self.inflight

    def not_sent(self, read: Read, lost: bool) -> None:
        """`read` could not be sent: the connection is gone (`lost`; read
        again after it), or another error (given up)."""
        if lost:
            self._failed(read)
        else:
            self._done(read)

    def reply_lost(self, read: Read) -> None:
        """`read` failed with the connection: read again after the reconnect."""
        self._sent.discard(read)
        self.inflight -= 1
        self._failed(read)

    def reply_failed(self, read: Read) -> None:
        """`read` failed otherwise: given up."""
        self._sent.discard(read)
        self.inflight -= 1
        self._done(read)

    def replied(self, read: Read, result: Any) -> None:
        """The reply of `read` (None for NoNode), in stream order."""
        self._sent.discard(read)
        self.inflight -= 1
        rnd = read.round
        self._done(read, ok=False)
        path = read.node.path
        current = self.nodes.get(path)
        if read.kind == DATA:
            self._apply_data(path, current, result, rnd)
        elif read.kind == CHILDREN:
            self._apply_children(current, result, rnd)
        elif read.kind == STAT:
            self._apply_stat(current, result)
        elif read.kind == CHECK:
            self._apply_check(current, result, rnd)
        else:
            self._apply_watch_root(result, rnd)
        self._round_done(rnd)

    # -- what the front asks -------------------------------------------------------------

    def in_tree(self, path: str) -> bool:
        return path == self.root or path.startswith(self._prefix)

    def pending(self, path: str, what: str) -> bool:
        """Whether a read of `path`'s `what` (DATA or CHILDREN) that an event
        started is on its way (or, for a node not known, its parent's listing)."""
        node = self.nodes.get(path)
        if node is not None:
            busy = node.fetching_data if what == DATA else node.fetching_children
            return busy or (node.value is None and node.fetching_data)
        if path == self.root or not self.in_tree(path):
            return False
        parent = self.nodes.get(_parent(path))
        return parent is not None and parent.fetching_children

    def data(self, path: str) -> Optional[Tuple[bytes, Stat]]:
        node = self.nodes.get(path)
        return None if node is None else node.value

    def children(self, path: str) -> Optional[List[str]]:
        node = self.nodes.get(path)
        if node is None or node.value is None:
            return None
        return sorted(node.children)

    def paths(self) -> List[str]:
        return sorted(p for p, n in self.nodes.items() if n.value is not None)

    def snapshot(self) -> Dict[str, Tuple[bytes, Stat, List[str]]]:
        return {p: (n.value[0], n.value[1], sorted(n.children))
                for p, n in self.nodes.items() if n.value is not None}

    def stats(self) -> Dict[str, int]:
        out = dict(self.counts)
        out["reads"] = sum(self.counts.values())
        out["nodes"] = sum(1 for n in self.nodes.values() if n.value is not None)
        out["in_flight"] = self.inflight
        out["queued"] = len(self._queue)
        out["peak_in_flight"] = self.peak_inflight
        return out

    # -- rounds ----------------------------------------------------------------------------

    def _round_check(self, rnd: Optional[int]) -> None:
        if rnd != self._round or not self._round_open or self._round_pending:
            return
        self._round_open = False
        if self._round_failed:
            return  # the connection dropped: another round after the reconnect
        self.live = True
        if not self.initialized:
            self.initialized = True
            self._events.append(TreeEvent(INITIALIZED))
        else:
            self._events.append(TreeEvent(RECONNECTED))

    def _enqueue(self, kind: str, node: _Node, rnd: Optional[int]) -> None:
        if rnd is not None and rnd == self._round:
            self._round_pending += 1
        else:
            rnd = None
        self._queue.append(Read(kind, node, rnd))

    def _fetch_data(self, node: _Node, rnd: Optional[int] = None) -> None:
        if not node.fetching_data:
            node.fetching_data = True
            self._enqueue(DATA, node, rnd)

    def _fetch_children(self, node: _Node, rnd: Optional[int] = None) -> None:
        if not node.fetching_children:
            node.fetching_children = True
            self._enqueue(CHILDREN, node, rnd)

    def _fetch_stat(self, node: _Node) -> None:
        if not (node.fetching_stat or node.fetching_data):
            node.fetching_stat = True
            self._enqueue(STAT, node, None)

    def _done(self, read: Read, ok: bool = True) -> None:
        """`read` ended: clear its flag (with `ok`: count it done for its round)."""
        node = read.node
        if read.kind == DATA:
            node.fetching_data = False
        elif read.kind == CHILDREN:
            node.fetching_children = False
        elif read.kind == STAT:
            node.fetching_stat = False
        if ok:
            self._round_done(read.round)

    def _round_done(self, rnd: Optional[int]) -> None:
        if rnd is not None and rnd == self._round:
            self._round_pending -= 1
            self._round_check(rnd)

    def _failed(self, read: Read) -> None:
        if read.kind == DATA:
            read.node.dirty_data = True
        elif read.kind == CHILDREN:
            read.node.dirty_children = True
        self.needs_round = True
        if read.round is not None and read.round == self._round:
            self._round_failed = True
        self._done(read)

    # -- applying replies, in server order -------------------------------------------------

    def _add_node(self, path: str, parent: Optional[_Node], listed: bool = False) -> _Node:
        node = _Node(path, listed)
        self.nodes[path] = node
        if parent is not None:
            parent.children.add(path.rsplit("/", 1)[1])
        return node

    def _remove(self, node: _Node) -> None:
        path = node.path
        prefix = _child_prefix(path)
        for name in list(node.children):
            child = self.nodes.get(prefix + name)
            if child is not None:
                self._remove(child)
        if self.nodes.get(path) is node:
            del self.nodes[path]
        if path != self.root:
            parent = self.nodes.get(_parent(path))
            if parent is not None:
                parent.children.discard(path.rsplit("/", 1)[1])
        if node.value is not None:
            self._events.append(TreeEvent(REMOVED, path, node.value[0], node.value[1]))

    def _set_value(self, node: _Node, data: bytes, stat: Stat) -> None:
        old = node.value
        node.value = (data, stat)
        if old is None:
            self._events.append(TreeEvent(ADDED, node.path, data, stat))
        elif not _same_version(old[1], stat):
            self._events.append(TreeEvent(UPDATED, node.path, data, stat))

    def _apply_data(self, path: str, node: Optional[_Node], result: Any,
                    rnd: Optional[int]) -> None:
        if result is None:  # no node here, at this point of the stream
            if node is not None:
                self._remove(node)
            if path == self.root and not self.persistent:
                self._enqueue(WATCH_ROOT, _Node(path), rnd)
            return
        if node is None:
            return  # deleted since (its event came first)
        data, stat = result
        node.dirty_data = False
        self._set_value(node, data, stat)
        if not self.persistent:
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

    def _set_children(self, node: _Node, names: Iterable[str], stat: Stat,
                      rnd: Optional[int]) -> None:
        """`names` are the node's children at this point of the stream."""
        fresh = set(names)
        prefix = _child_prefix(node.path)
        for name in node.children - fresh:
            child = self.nodes.get(prefix + name)
            if child is not None:
                self._remove(child)
        node.children &= fresh
        for name in fresh - node.children:
            path = prefix + name
            child = self.nodes.get(path)
            if child is None:
                child = self._add_node(path, node)
                self._fetch_data(child, rnd)
                if not self.persistent:
                    self._fetch_children(child, rnd)
            node.children.add(name)
        node.listed = True
        node.pzxid = stat.pzxid
        self._refresh_stat(node, stat)

    def _refresh_stat(self, node: _Node, stat: Stat) -> None:
        """Take a newer stat that says the data is unchanged."""
        value = node.value
        if value is not None and _same_version(value[1], stat):
            node.value = (value[0], stat)
        elif self.persistent:
            self._fetch_data(node)

    def _apply_stat(self, node: Optional[_Node], stat: Optional[Stat]) -> None:
        if stat is None:
            if node is not None:
                self._remove(node)
            return
        if node is not None:
            self._refresh_stat(node, stat)

    def _apply_check(self, node: Optional[_Node], stat: Optional[Stat],
                     rnd: Optional[int]) -> None:
        if stat is None:
            if node is not None:
                self._remove(node)
            return
        if node is None:
            return
        value = node.value
        if value is None or not _same_version(value[1], stat):
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
        if stat is None or self.root in self.nodes:
            return  # armed: its creation will come as an event
        root = self._add_node(self.root, None)
        self._fetch_data(root, rnd)
        self._fetch_children(root, rnd)
