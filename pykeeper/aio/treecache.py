"""`pykeeper.aio.TreeCache`: the live subtree mirror of the asyncio client.

    async with pykeeper.aio.TreeCache(client, "/app") as tree:
        data, stat = await tree.get_data("/app/config")

A front over the same `TreeLink` and `TreeMirror` as pykeeper.TreeCache
(composition; neither class derives from the other): events and replies
are applied on the event loop as the driver decodes them; what waits
(arming, reads waiting for a change already announced, initialization)
is awaited, and coroutine listeners are awaited one event after another.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, List, Optional, Tuple

from ..core import operations as ops
from ..protocol.errors import TimeoutException, ZooKeeperException
from ..protocol.records import Stat
from ..core.steps import AsyncHelperClient, AsyncioDriver
from ..core.tree_mirror import CHILDREN, DATA, TreeEvent
from ..clients.treecache import DEFAULT_WINDOW, TreeView

log = logging.getLogger("pykeeper")

__all__ = ["TreeCache", "TreeEvent"]


class TreeCache(TreeView):
    """A live mirror of the subtree at `path`, for `pykeeper.aio.ZooKeeper`:
    as pykeeper.TreeCache (same arguments), with `start`,
    `wait_initialized`, `get_data`, `get_children` and `close` awaited.
    Listeners may be coroutine functions. Use it on the client's loop."""

    _public_name = "pykeeper.aio.TreeCache"

    def __init__(self, client: AsyncHelperClient, path: str, *,
                 persistent: Optional[bool] = None, window: int = DEFAULT_WINDOW) -> None:
        self.client: AsyncHelperClient = client
        self._driver = AsyncioDriver(client)
        super().__init__(client, path, self._driver, persistent, window)
        self._announcing = AsyncioDriver(client)  # (close() does not wait for listeners)
        self._announcer: Optional["asyncio.Future[None]"] = None

    async def start(self) -> "TreeCache":
        """Arm the watch and start reading the subtree; returns once the
        watch is armed (or at once if the client is not connected: then
        that happens when it is). ClientClosedException if closed."""
        if self._link.starting():
            # (Shielded: cancelling start() must not leave a watch armed that
            # nothing knows of; the arming finishes, and close() waits for it.)
            await asyncio.shield(self._driver.start(self._link.arm_and_sync()))
        return self

    async def wait_initialized(self, timeout: Optional[float] = None) -> bool:
        """True once the first full read of the subtree is done; False
        after `timeout` seconds (or if the tree is closed first)."""
        return await self._driver.run(self._link.initialization(timeout))

    async def close(self) -> None:
        """Stop following the subtree (the mirror keeps its last content);
        awaits an arming in flight (it removes what it arms) and the removal
        of the watch from the server (at most the session timeout each).
        Idempotent."""
        armed = self._link.detach()
        await self._driver.wait(self.client.session_timeout)
        if armed:
            await self._driver.run(self._link.remove_watch())

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

    def __exit__(self, *exc: Any) -> None:
        raise TypeError("use 'async with' with pykeeper.aio.TreeCache")

    async def get_data(self, path: str) -> Optional[Tuple[bytes, Stat]]:
        """(data, stat) of the node at `path`, or None if the mirror has no
        such node; if an event already said it changed, awaits the new
        data (a round trip while connected; at most the session timeout)."""
        await self._driver.run(self._link.settled(path, DATA))
        return self._data(path)

    async def get_children(self, path: str) -> Optional[List[str]]:
        """The sorted names of the node's children, or None if the mirror
        has no such node (awaits as get_data does)."""
        await self._driver.run(self._link.settled(path, CHILDREN))
        return self._children(path)

    # -- how this front kicks and announces ---------------------------------------------

    def _kick(self) -> None:
        # A round begins at the reply of a read sent now: after the SetWatches
        # reply, so the events the server re-fires on a reconnect are in first.
        link = self._link

        def on_reply(future: "Future[Any]") -> None:
            if future.exception() is not None:
                link.note_round_needed()  # the connection dropped: on_state kicks
            else:
                link.begin_round()

        try:
            future = self.client.start_operation(ops.exists(self.client, self.path))
        except ZooKeeperException:
            link.note_round_needed()  # not connected: on_state kicks again
            return
        future.add_done_callback(on_reply)

    def _announce(self) -> None:
        # One task calls the listeners, event after event, awaiting a
        # coroutine listener before the next: "added" is never overtaken
        # by the node's "removed".
        if self._announcer is None or self._announcer.done():
            self._announcer = self._announcing.start(self._link.announcements())
