"""`pykeeper.aio.DataWatch` and `ChildrenWatch`: the watch helpers of the
asyncio client.

    watch = await pykeeper.aio.DataWatch(client, "/app/config", on_config)

    @client.children_watch("/app/workers")
    async def on_workers(children): ...

What is read, what counts as a change and when to read again is
`pykeeper.watchers`'; here reads are awaited on the event loop, one at a
time, in order. The function may be a plain function or a coroutine
function (awaited before the next read); it runs on the loop and may
await the client. Awaiting the helper waits for the first call and raises
what the first read raised (the helper is then stopped); with the
decorator form, that error is logged.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Generator, Optional, Set

from . import operations as ops
from .aio_futures import on_loop
from .protocol.errors import ZooKeeperException
from .watchers import ChildrenKind, DataKind, WatchBase

if TYPE_CHECKING:
    from .aio import ZooKeeper

log = logging.getLogger("pykeeper")

__all__ = ["DataWatch", "ChildrenWatch"]


class _AsyncWatch(WatchBase):
    def __init__(self, client: "ZooKeeper", path: str,
                 func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(client, path)
        self._turn = asyncio.Lock()  # one read (and call) at a time, in order
        self._tasks: Set["asyncio.Task[Any]"] = set()
        self._first: Optional["asyncio.Task[Any]"] = None
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Start calling `func` (usable as a decorator; returns `func`).
        Must be called on the client's event loop; the first read and call
        run in a task (await the helper to wait for them)."""
        asyncio.get_running_loop()  # (RuntimeError here, not in a task)
        self._take(func)
        self.client.add_listener(self._on_state)
        self._first = self._spawn(self._start())
        return func

    def __await__(self) -> Generator[Any, None, "_AsyncWatch"]:
        """Wait for the first call; raises what the first read raised."""
        if self._first is None:
            raise RuntimeError(f"{self!r} has no function yet")
        yield from self._first.__await__()
        return self

    async def _start(self) -> None:
        try:
            await self._refresh(initial=True)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, coroutine: Any) -> "asyncio.Task[Any]":
        # Held until done (the loop keeps only weak references to tasks).
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and task is self._first:
            log.info("%r: the first read failed: %r", self, task.exception())

    def _refresh_soon(self) -> None:
        self._spawn(self._refresh())

    async def _read_now(self) -> Any:
        return await on_loop(ops.drive_future(self._read(), self.client._send))

    async def _refresh(self, initial: bool = False) -> None:
        async with self._turn:
            if self._stopped:
                return
            try:
                value = await (self.client.retry(self._read_now) if initial
                               else self._read_now())
            except ZooKeeperException as exc:
                self._read_failed(exc, initial)
                return
            func = self._function_for(value)  # (None if stopped while the read was on its way)
            if func is None:
                return
            try:
                result = self._deliver(func, value)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                self._call_failed(func, initial)
                return
            if result is False:
                self.stop()


class DataWatch(DataKind, _AsyncWatch):
    """Call `func(data, stat)` now and after every change of the node at
    `path`; `(None, None)` while there is no node. See the module
    docstring and pykeeper.DataWatch."""


class ChildrenWatch(ChildrenKind, _AsyncWatch):
    """Call `func(children)` now and after every change of the node's
    children (sorted names); `func(None)` while there is no node. See the
    module docstring and pykeeper.ChildrenWatch."""
