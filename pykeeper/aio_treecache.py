"""`pykeeper.aio.TreeCache`: the live subtree mirror of the asyncio client.

    async with pykeeper.aio.TreeCache(client, "/app") as tree:
        data, stat = await tree.get_data("/app/config")

Everything that keeps the mirror exact is `pykeeper.treecache.TreeCache`'s,
unchanged: its watcher runs inline as the driver decodes each event, and
its reads' replies are applied in reply order by future callbacks. On
the asyncio client both happen on the event loop, so a sync round starts
at once instead of getting in line with an I/O thread; what waits
(arming the watch, reads waiting for a change already announced,
initialization) is awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Deque, List, Optional, Set, Tuple

from .protocol.errors import NoWatcherException, TimeoutException
from .protocol.errors import ZooKeeperException
from .protocol.records import Stat
from .treecache import TreeCache as _TreeCache
from .treecache import TreeEvent, _Node

if TYPE_CHECKING:
    from .aio import ZooKeeper

log = logging.getLogger("pykeeper")

__all__ = ["TreeCache", "TreeEvent"]


class TreeCache(_TreeCache):
    """A live mirror of the subtree at `path`, for `pykeeper.aio.ZooKeeper`:
    as pykeeper.TreeCache, with `start`, `wait_initialized`, `get_data`,
    `get_children` and `close` awaited. Listeners may be coroutine
    functions. Use it on the client's event loop."""

    def __init__(self, client: "ZooKeeper", path: str, **options: Any) -> None:
        super().__init__(client, path, **options)  # type: ignore[arg-type]
        self._woken: List["asyncio.Future[None]"] = []
        self._announcing: Deque[TreeEvent] = deque()
        self._announcer: Optional["asyncio.Task[None]"] = None
        self._tasks: Set["asyncio.Task[Any]"] = set()

    async def start(self) -> "TreeCache":  # type: ignore[override]
        """Arm the watch and start reading the subtree; returns once the
        watch is armed (or at once if the client is not connected: then
        that happens when it is)."""
        if self._starting():
            # (Shielded: cancelling start() must not leave a watch armed that
            # nothing knows of; the arming finishes, and close() waits for it.)
            await asyncio.shield(self._spawn(self._arm_and_sync()))
        return self

    async def wait_initialized(self, timeout: Optional[float] = None) -> bool:  # type: ignore[override]
        """True once the first full read of the subtree is done; False
        after `timeout` seconds (or if the tree is closed first)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.initialized and not self._closed:
            if not await self._woken_before(deadline):
                break
        return self.initialized

    async def close(self) -> None:  # type: ignore[override]
        """Stop following the subtree (the mirror keeps its last content);
        awaits the removal of the watch from the server. Idempotent."""
        armed = self._detach()
        if self._tasks:  # arming in flight: it removes what it arms (the tree is closed)
            await asyncio.wait(list(self._tasks), timeout=self.client.session_timeout)
        if armed:
            await self._remove_watch()

    async def _remove_watch(self) -> None:  # type: ignore[override]
        try:
            await self.client.remove_watches(self._root, self._watcher, kind="recursive")
        except (NoWatcherException, ZooKeeperException) as exc:
            self._watch_not_removed(exc)

    async def __aenter__(self) -> "TreeCache":
        await self.start()
        timeout = max(30.0, self.client.session_timeout)
        if not await self.wait_initialized(timeout):
            await self.close()
            raise TimeoutException(f"{self!r} not initialized within {timeout} s")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __enter__(self) -> Any:
        raise TypeError("use 'async with' with pykeeper.aio.TreeCache")

    async def get_data(self, path: str) -> Optional[Tuple[bytes, Stat]]:  # type: ignore[override]
        """(data, stat) of the node at `path`, or None if the mirror has no
        such node; if an event already said it changed, awaits the new
        data (a round trip while connected; at most the session timeout)."""
        node = await self._settled(path, "fetching_data")
        return None if node is None else node.value

    async def get_children(self, path: str) -> Optional[List[str]]:  # type: ignore[override]
        """The sorted names of the node's children, or None if the mirror
        has no such node."""
        node = await self._settled(path, "fetching_children")
        if node is None or node.value is None:
            return None
        return sorted(node.children)

    # -- the event loop's ways of waiting and arming ---------------------------------

    async def _settled(self, path: str, flag: str) -> Optional[_Node]:
        deadline = time.monotonic() + self.client.session_timeout
        node = self._nodes.get(path)
        while self._pending(path, node, flag) and not self._closed:
            if not await self._woken_before(deadline):
                break
            node = self._nodes.get(path)
        return node

    async def _woken_before(self, deadline: Optional[float]) -> bool:
        """Wait for the next change the loop applies; False at `deadline`."""
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        woken = asyncio.get_running_loop().create_future()
        self._woken.append(woken)
        self._waiters += 1
        try:
            await asyncio.wait_for(woken, remaining)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiters -= 1
            if woken in self._woken:
                self._woken.remove(woken)

    def _wake(self) -> None:
        woken, self._woken = self._woken, []
        for future in woken:
            if not future.done():
                future.set_result(None)

    async def _arm_and_sync(self) -> None:  # type: ignore[override]
        if await self.client._drive(self._arming()):
            await self._remove_watch()  # armed for a tree closed meanwhile

    def _arm_soon(self) -> None:
        self._spawn(self._arm_and_sync())

    def _spawn(self, coroutine: Any) -> "asyncio.Task[Any]":
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._armed)
        return task

    def _armed(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%r: arming its watch failed", self, exc_info=task.exception())

    def _kick(self) -> None:
        # Events, replies and this all run on the loop: already in line.
        self._io(self._begin_round)

    def _announce_later(self, events: List[TreeEvent]) -> None:
        # One task calls the listeners, event after event, awaiting a
        # coroutine listener before the next event: "added" is never
        # overtaken by the node's "removed".
        self._announcing.extend(events)
        if self._announcer is None or self._announcer.done():
            self._announcer = asyncio.ensure_future(self._call_listeners())

    async def _call_listeners(self) -> None:
        while self._announcing:
            event = self._announcing.popleft()
            for listener in self._listeners:
                try:
                    result = listener(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("tree cache listener %r raised for %r", listener, event)
