"""Helpers of the cache tests: fresh full reads of a subtree, pipelined;
bulk creation; a churning writer; event recorders (no mocks)."""

from __future__ import annotations

import random
import threading
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import pykeeper
from pykeeper import NoNodeException, Stat

from ..support import WAIT, Recorder, packets_received  # noqa: F401

__all__ = ["WAIT", "Recorder", "packets_received", "Tree", "callback_thread", "child",
           "full_read", "create_tree", "churn", "delete_tree", "Monotonic", "TreeLog"]

Tree = Dict[str, Tuple[bytes, Stat, List[str]]]


def callback_thread(client: Any) -> str:
    """The name of the thread `client` runs watchers and listeners on."""
    return getattr(client, "callback_thread", "pykeeper-events")


def child(parent: str, name: str) -> str:
    return ("" if parent == "/" else parent) + "/" + name


def full_read(client: pykeeper.ZooKeeper, root: str, window: int = 500) -> Tree:
    """{path: (data, stat, sorted children)} of the subtree, read level by
    level with many reads in flight (children listed only where the stat
    says there are some). Only meaningful while nothing writes."""
    out: Tree = {}
    level = [root]
    while level:
        following: List[str] = []
        for start in range(0, len(level), window):
            batch = level[start:start + window]
            got = []
            for path, future in [(p, client.get_async(p)) for p in batch]:
                try:
                    got.append((path,) + tuple(future.result()))
                except NoNodeException:
                    pass
            listings = {path: client.get_children_async(path)
                        for path, _, stat in got if stat.numChildren}
            for path, data, stat in got:
                names: List[str] = []
                if path in listings:
                    try:
                        names = sorted(listings[path].result())
                    except NoNodeException:
                        continue
                out[path] = (data, stat, names)
                following.extend(child(path, n) for n in names)
        level = following
    return out


def create_tree(client: pykeeper.ZooKeeper, root: str, fanout: List[int],
                data: Callable[[str], bytes] = lambda p: p.encode()) -> List[str]:
    """Create nodes below `root` (which must exist): fanout[0] children,
    each with fanout[1] children, ... Transactions of 1000 creates."""
    paths: List[str] = []
    level = [root]
    for width in fanout:
        following = [child(p, f"n{i}") for p in level for i in range(width)]
        paths.extend(following)
        level = following
    for start in range(0, len(paths), 1000):
        tx = client.transaction()
        for path in paths[start:start + 1000]:
            tx.create(path, data(path))
        tx.commit()
    return paths


def churn(client: pykeeper.ZooKeeper, paths: List[str], updates: int, deletable: List[str],
          threads: int = 4, seed: int = 5) -> Dict[str, int]:
    """Update every path `updates` times in random order (data: the node's
    update count), and delete / re-create the `deletable` ones now and
    then, from `threads` threads of one client. Returns counts by outcome."""
    rng = random.Random(seed)
    ops: List[Tuple[str, str]] = [("set", p) for p in paths for _ in range(updates)]
    for path in deletable:
        ops += [("delete", path), ("create", path)] * (updates // 20)
    rng.shuffle(ops)
    counter = {p: 0 for p in paths}
    outcome = {"set": 0, "delete": 0, "create": 0, "missed": 0}
    lock = threading.Lock()
    position = [0]

    def run() -> None:
        while True:
            with lock:
                if position[0] >= len(ops):
                    return
                op, path = ops[position[0]]
                position[0] += 1
                counter[path] += 1
                value = str(counter[path]).encode()
            try:
                if op == "set":
                    client.set(path, value)
                elif op == "delete":
                    client.delete(path)
                else:
                    client.create(path, value)
            except (pykeeper.NoNodeException, pykeeper.NodeExistsException):
                with lock:
                    outcome["missed"] += 1
                continue
            with lock:
                outcome[op] += 1

    workers = [threading.Thread(target=run, name=f"churn-{i}") for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return outcome


def delete_tree(client: pykeeper.ZooKeeper, root: str) -> None:
    """Delete everything below `root`, deepest first, 1000 deletes a transaction."""
    paths = sorted((p for p in full_read(client, root) if p != root),
                   key=lambda p: -p.count("/"))
    for start in range(0, len(paths), 1000):
        with client.transaction() as tx:
            for path in paths[start:start + 1000]:
                tx.delete(path)


class Monotonic:
    """Checks that the (czxid, mzxid) seen for each path never goes back."""

    def __init__(self) -> None:
        self.last: Dict[str, Tuple[int, int]] = {}
        self.violations: List[str] = []
        self.reads = 0

    def see(self, path: str, stat: Optional[Stat]) -> None:
        self.reads += 1
        if stat is None:
            return
        key = (stat.mzxid, stat.czxid)
        last = self.last.get(path)
        if last is not None and key < last:
            self.violations.append(f"{path}: saw mzxid {key[0]} after {last[0]}")
        self.last[path] = key


class TreeLog:
    """A TreeCache listener recording every event; checks, as they come,
    that each node's events make sense in order: added only when absent,
    updated/removed only when present, versions never going back (no
    update after the node's delete, no stale update after a newer one)."""

    def __init__(self) -> None:
        self.events: List[Any] = []
        self.threads: Set[str] = set()
        self.violations: List[str] = []
        self.present: Dict[str, Tuple[int, int]] = {}
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)
            path, kind = event.path, event.type
            if kind in ("added", "updated", "removed"):
                key = (event.stat.mzxid, event.stat.czxid)
                last = self.present.get(path)
                if kind == "added" and last is not None:
                    self.violations.append(f"added {path} while present")
                if kind in ("updated", "removed") and last is None:
                    self.violations.append(f"{kind} {path} while absent")
                if kind == "updated" and last is not None and key <= last:
                    self.violations.append(f"updated {path} to {key} after {last}")
                if kind == "removed":
                    self.present.pop(path, None)
                else:
                    self.present[path] = key
            self._cond.notify_all()

    def types(self, path: Optional[str] = None) -> List[str]:
        with self._cond:
            return [e.type for e in self.events if path is None or e.path == path]

    def wait_for(self, predicate: Callable[[List[Any]], bool], timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.events), timeout)

    def wait_type(self, kind: str, after: int = 0, timeout: float = WAIT) -> int:
        """Wait for an event of `kind` at index >= `after`; returns its index."""
        def found() -> bool:
            return any(e.type == kind for e in self.events[after:])
        with self._cond:
            if not self._cond.wait_for(found, timeout):
                raise AssertionError(f"no {kind!r} event within {timeout} s")
            return next(i for i in range(after, len(self.events))
                        if self.events[i].type == kind)

    def mark(self) -> int:
        with self._cond:
            return len(self.events)
