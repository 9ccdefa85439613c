"""The client's table of armed watches, and which watchers an event fires.

One-shot watches (data, exist, child) fire once and are dropped; persistent
and persistent-recursive watches stay until removed. The table outlives
connections: on a new connection its paths are sent in SetWatches so the
server re-arms them.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from .records import EventType
from .requests import WATCH_CHILD, WATCH_DATA, WATCH_EXIST, WATCH_PERSISTENT, WATCH_RECURSIVE

__all__ = [
    "KINDS", "WatchRegistry", "split_paths",
]

Watcher = Any
_Table = Dict[str, List[Watcher]]


def _add(table: _Table, path: str, watcher: Watcher) -> None:
    watchers = table.setdefault(path, [])
    # One watcher registered twice for the same path and kind fires once.
    if watcher not in watchers:
        watchers.append(watcher)


class WatchRegistry:
    __slots__ = ("data", "exist", "child", "persistent", "recursive")

    def __init__(self) -> None:
        self.data: _Table = {}
        self.exist: _Table = {}
        self.child: _Table = {}
        self.persistent: _Table = {}
        self.recursive: _Table = {}

    def add(self, kind: str, path: str, watcher: Watcher) -> None:
        """Arm `watcher` on `path`; kind is 'data', 'exist', 'child',
        'persistent' or 'recursive'."""
        _add(getattr(self, kind), path, watcher)

    def fire(self, event_type: int, path: str) -> List[Watcher]:
        """The watchers `event_type` on `path` fires, one-shot ones removed."""
        out: List[Watcher] = []

        def take(table: _Table) -> None:
            for w in table.pop(path, ()):
                if w not in out:
                    out.append(w)

        if event_type in (EventType.CREATED, EventType.CHANGED):
            take(self.data)
            take(self.exist)
        elif event_type == EventType.DELETED:
            take(self.data)
            take(self.exist)
            take(self.child)
        elif event_type == EventType.CHILD:
            take(self.child)
        for w in self.persistent.get(path, ()):
            if w not in out:
                out.append(w)
        # Recursive watches see every change below them, but not child-list
        # events: those are implied by the created/deleted events they get.
        if self.recursive and event_type != EventType.CHILD:
            for watch_path, watchers in self.recursive.items():
                if _is_at_or_below(path, watch_path):
                    for w in watchers:
                        if w not in out:
                            out.append(w)
        return out

    def remove(self, kind: str, path: str, watcher: Watcher = None) -> List[Watcher]:
        """Drop `watcher` (or every watcher) of `kind` on `path`; returns those dropped."""
        table: _Table = getattr(self, kind)
        watchers = table.get(path)
        if not watchers:
            return []
        if watcher is None:
            del table[path]
            return watchers
        if watcher in watchers:
            watchers.remove(watcher)
            if not watchers:
                del table[path]
            return [watcher]
        return []

    def has(self, kind: str, path: str) -> bool:
        return bool(getattr(self, kind).get(path))

    def clear(self) -> List[Watcher]:
        """Drop every watch; returns every distinct watcher that was armed."""
        every = [w for table in self.tables() for watchers in table.values() for w in watchers]
        for table in self.tables():
            table.clear()
        try:
            # Linear even for many watchers (this runs on the I/O thread at
            # expiry); equal watchers, such as one bound method, count once.
            return list(dict.fromkeys(every))
        except TypeError:  # a watcher that cannot be hashed: compare them all
            out: List[Watcher] = []
            for w in every:
                if w not in out:
                    out.append(w)
            return out

    def tables(self) -> Tuple[_Table, ...]:
        return (self.data, self.exist, self.child, self.persistent, self.recursive)

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables())

    def set_watches_paths(self) -> Tuple[List[str], List[str], List[str], List[str], List[str]]:
        return (list(self.data), list(self.exist), list(self.child),
                list(self.persistent), list(self.recursive))


def _is_at_or_below(path: str, ancestor: str) -> bool:
    if ancestor == "/":
        return True
    return path == ancestor or path.startswith(ancestor + "/")


KINDS = (WATCH_DATA, WATCH_EXIST, WATCH_CHILD, WATCH_PERSISTENT, WATCH_RECURSIVE)


def split_paths(paths: Iterable[str], limit: int) -> List[List[str]]:
    """Split `paths` into groups whose encoded size stays under `limit` bytes."""
    groups: List[List[str]] = []
    current: List[str] = []
    size = 0
    for p in paths:
        cost = 4 + len(p.encode("utf-8"))
        if current and size + cost > limit:
            groups.append(current)
            current, size = [], 0
        current.append(p)
        size += cost
    if current:
        groups.append(current)
    return groups
