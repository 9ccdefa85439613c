"""`pykeeper.aio.DataWatch` and `ChildrenWatch`: the watch helpers of the
asyncio client.

    watch = await pykeeper.aio.DataWatch(client, "/app/config", on_config)

    @client.children_watch("/app/workers")
    async def on_workers(children): ...

What is read, what counts as a change and when to read again is
`pykeeper.clients.watchers`' (`WatchBase._run`); here it is driven by an
`AsyncioDriver`: reads are awaited on the event loop, one at a time, in
order. The function may be a plain function or a coroutine function
(awaited before the next read); it runs on the loop and may await the
client. Awaiting the helper waits for the first call and raises what the
first read (or call) raised (the helper is then stopped); with the
decorator form, that error is logged. Use the helper on the client's loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Generator, Optional

from ..core.steps import AsyncHelperClient, AsyncioDriver
from ..clients.watchers import ChildrenKind, ConfigKind, DataKind, WatchBase
from ..protocol.requests import CONFIG_NODE

log = logging.getLogger("pykeeper")

__all__ = ["ChildrenWatch", "ConfigWatch", "DataWatch"]


class _AsyncWatch(WatchBase):
    """The asyncio client's front: `_run` driven by an AsyncioDriver."""

    def __init__(self, client: AsyncHelperClient, path: str,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, path)
        self._driver = AsyncioDriver(client)
        self._first: Optional["asyncio.Future[None]"] = None
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Start calling `func` (usable as a decorator; returns `func`).
        Must be called on the client's event loop (RuntimeError otherwise);
        the first read and call run in a task: await the helper to wait
        for them. Never blocks."""
        asyncio.get_running_loop()  # (RuntimeError here, not in a task)
        self._take(func)
        self._first = self._driver.start(self._run())
        self._first.add_done_callback(self._first_done)
        return func

    def __await__(self) -> Generator[Any, None, "_AsyncWatch"]:
        """Wait for the first call; raises what the first read (or call)
        raised. RuntimeError if the helper has no function yet."""
        if self._first is None:
            raise RuntimeError(f"{self!r} has no function yet")
        # (Shielded: a cancelled awaiter leaves the watch, and other awaiters, alone.)
        yield from asyncio.shield(self._first).__await__()
        return self

    def _first_done(self, first: "asyncio.Future[None]") -> None:
        if not first.cancelled() and first.exception() is not None:
            log.info("%r: the first read failed: %r", self, first.exception())


class DataWatch(DataKind, _AsyncWatch):
    """Call `func(data, stat)` now and after every change of the node at
    `path`; `(None, None)` while there is no node. See the module
    docstring and pykeeper.DataWatch."""


class ConfigWatch(ConfigKind, _AsyncWatch):
    """Call `func(data, stat)` now and after every change of the ensemble's
    dynamic configuration. See pykeeper.ConfigWatch."""

    def __init__(self, client: AsyncHelperClient,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, CONFIG_NODE, func)


class ChildrenWatch(ChildrenKind, _AsyncWatch):
    """Call `func(children)` now and after every change of the node's
    children (sorted names); `func(None)` while there is no node. See the
    module docstring and pykeeper.ChildrenWatch."""
