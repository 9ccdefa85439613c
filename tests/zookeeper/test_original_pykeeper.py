"""The original pykeeper (nkvoll/pykeeper 0.1) was a layer over the C
binding. Its idioms, written here as it wrote them, run on
pykeeper.zookeeper: a global watcher that records the state and notifies a
condition variable, waiting on it for CONNECTED, `zookeeper.get(self.handle,
path, watcher)` with a wrapped watcher, a cache invalidated by watchers, and
a session watcher that closes and re-inits its handle on expiry."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

from pykeeper import zookeeper

from ..support import WAIT
from .conftest import OPEN_ACL
from .test_watchers import expire


class OriginalStyleClient:
    """A client as the original pykeeper wrote one over the binding."""

    def __init__(self, servers: str) -> None:
        self.servers = servers
        self.handle: Optional[int] = None
        self.cv = threading.Condition()
        self.events: List[Tuple[int, int, str]] = []
        self.handles_seen: List[int] = []
        self._cache: Dict[str, Any] = {}

    def connect(self) -> None:
        self.handle = zookeeper.init(self.servers, self._global_watcher)
        self.handles_seen.append(self.handle)

    def _global_watcher(self, handle: int, event_type: int, state: int, path: str) -> None:
        with self.cv:
            self.events.append((event_type, state, path))
            self.cv.notify_all()
        if state == zookeeper.EXPIRED_SESSION_STATE:
            zookeeper.close(handle)
            self.connect()

    def wait_until_connected(self, timeout: float = WAIT) -> None:
        with self.cv:
            ok = self.cv.wait_for(lambda: self.handle is not None and
                                  zookeeper.state(self.handle) == zookeeper.CONNECTED_STATE,
                                  timeout)
        assert ok, f"not connected; events {self.events}"

    def get(self, path: str, watcher: Any = None) -> Tuple[str, Dict[str, int]]:
        value, stat = zookeeper.get(self.handle, path, self._wrap(watcher))
        return value, stat

    def cached_get(self, path: str) -> Tuple[str, Dict[str, int]]:
        if path not in self._cache:
            def invalidate(event: Tuple[int, int, str]) -> None:
                self._cache.pop(path, None)
            self._cache[path] = zookeeper.get(self.handle, path, self._wrap(invalidate))
        result: Tuple[str, Dict[str, int]] = self._cache[path]
        return result

    def create(self, path: str, value: str, flags: int = 0) -> str:
        return zookeeper.create(self.handle, path, value, [OPEN_ACL[0]], flags)

    def set(self, path: str, value: str) -> int:
        return zookeeper.set(self.handle, path, value)

    def is_ephemeral(self, path: str) -> bool:
        return bool(self.get(path)[1]["ephemeralOwner"])

    def close(self) -> None:
        if self.handle is not None:
            zookeeper.close(self.handle)

    @staticmethod
    def _wrap(fn: Any) -> Any:
        if fn is None:
            return None

        def wrapper(handle: int, event_type: int, state: int, path: str) -> None:
            fn((event_type, state, path))
        return wrapper


def test_the_original_pykeepers_idioms_work(zk_server: Any, base: str) -> None:
    client = OriginalStyleClient(zk_server.hosts)
    client.connect()
    try:
        client.wait_until_connected()
        assert client.events[0] == (zookeeper.SESSION_EVENT, zookeeper.CONNECTED_STATE, "")
        node = client.create(base + "/config", "red", zookeeper.EPHEMERAL)
        assert client.is_ephemeral(node) is True

        assert client.cached_get(node)[0] == "red"
        changed = threading.Event()
        value, stat = client.get(node, lambda event: changed.set())
        assert value == "red" and stat["version"] == 0
        client.set(node, "green")
        assert changed.wait(WAIT)
        # (one event's watchers run in the order they were set: the cache's first)
        assert client.cached_get(node)[0] == "green"

        first = client.handle
        expire(first, zk_server.hosts)
        with client.cv:
            assert client.cv.wait_for(lambda: len(client.handles_seen) == 2, WAIT)
        client.wait_until_connected()
        assert client.handles_seen == [first, first]  # (re-init got the freed number back)
        assert zookeeper.exists(client.handle, node) is None  # (went with the old session)
        assert client.create(node, "blue", zookeeper.EPHEMERAL) == node
        assert client.get(node)[0] == "blue"
    finally:
        client.close()
