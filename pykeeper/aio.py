"""`pykeeper.aio.ZooKeeper`: the asyncio client.

The same methods as `pykeeper.ZooKeeper`, as coroutines (`await
client.get(path)`), the same states, exceptions, retries, listeners,
reconnection and expiry recovery, on an asyncio driver over the same
protocol core and the same `Session`: what each call means is written
once, in `pykeeper.operations`, and driven here by awaiting.

Watchers and listeners may be plain functions or coroutine functions;
they run as separate callbacks (or tasks) on the event loop, never inside
the connection's reply processing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from concurrent.futures import Future
from typing import Any, Awaitable, Callable, List, Optional, Set, Tuple

from . import operations as ops
from .aio_futures import on_loop as _on_loop
from .aio_treecache import TreeCache, TreeEvent
from .aio_watchers import ChildrenWatch, DataWatch
from .asyncio_driver import AsyncioConnection
from .cache import CHILDREN, EXISTS, GET, NodeCache
from .client import ZooKeeper as SyncZooKeeper
from .client_base import CONNECTED_STATES, ClientBase, State
from .paths import validate_path
from .protocol import requests as rq
from .protocol.connection import ClientProtocol
from .protocol.errors import ClientClosedException, TimeoutException
from .protocol.records import Stat, WatchedEvent
from .retry import RETRYABLE, RetriedCall, RetryPolicy, current_attempt
from .transaction import Transaction

log = logging.getLogger("pykeeper")

__all__ = ["ZooKeeper", "TreeCache", "TreeEvent", "DataWatch", "ChildrenWatch"]


class ZooKeeper(ClientBase):
    """An asyncio ZooKeeper client; see `pykeeper.ZooKeeper` for the
    arguments and for what each method returns and raises.

    Use it from one event loop: `connect()` binds it to the running loop.
    """

    _public_name = "pykeeper.aio.ZooKeeper"

    def _setup(self) -> None:
        self._state_changed: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._callback_tasks: Set["asyncio.Future[Any]"] = set()
        # State changes made and state changes whose hooks have run: a
        # waiter returns only once the hooks have heard of its state.
        self._changes_made = 0
        self._changes_told = 0

    # -- lifecycle -------------------------------------------------------------

    async def connect(self, timeout: Optional[float] = 15.0) -> None:
        """Start the client and wait until it has a session (TimeoutException
        after `timeout` seconds, the client closed again)."""
        if self._connection is not None and not self._connection.alive:
            await self.close()
        if self._connection is None:
            self._loop = asyncio.get_running_loop()
            self._changes_made = self._changes_told = 0
            self._state_changed = asyncio.Event()
            self._protocol = self._new_protocol()
            self._connection = AsyncioConnection(
                self.addresses, self._protocol, self, self.connect_timeout, self.reconnect,
                ssl_context=self.ssl_context)
            self._set_state(State.CONNECTING)
            self._connection.start()
        try:
            await self.wait_until_connected(timeout)
        except TimeoutException as exc:
            await self.close()
            raise self._connect_timed_out(timeout, exc) from exc

    async def close(self, timeout: Optional[float] = None) -> None:
        """End the session and stop; requests already sent get their replies
        first. Waits at most `timeout` seconds (default close_timeout)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        await connection.close(self.close_timeout if timeout is None else timeout)
        self._protocol = None
        self._set_state(State.CLOSED)

    async def __aenter__(self) -> "ZooKeeper":
        if self._connection is None:
            await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- state -------------------------------------------------------------------

    async def wait_until_connected(self, timeout: Optional[float] = None) -> None:
        """Wait until connected (read-write or read-only) and the listeners
        and `on_state` hooks have been told so (coroutine listeners started);
        TimeoutException after `timeout` seconds; the final error if the
        client stops trying."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._state not in CONNECTED_STATES or self._changes_told < self._changes_made:
            remaining = self._time_left_to_connect(deadline, timeout)
            event = self._state_changed
            if event is None:
                raise ClientClosedException("the client is not started: call connect()")
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _set_state(self, state: State, running_only: bool = False) -> None:
        if state == self._state or (running_only and self._connection is None):
            return
        self._state = state
        self._wake_waiters()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        self._changes_made += 1
        loop.call_soon(self._announce_state, state, list(self._listeners), self._changes_made)

    def _announce_state(self, state: State, listeners: List[Callable[[State], Any]],
                        change: int) -> None:
        try:
            for listener in listeners:
                self._run_callback(listener, (state,))
            if len(self.on_state):
                self._run_callback(self.on_state, (self, state.value))
        finally:
            self._changes_told = max(self._changes_told, change)
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        if self._state_changed is not None:
            self._state_changed.set()

    def _dispatch(self, event: WatchedEvent, watchers: List[Any]) -> None:
        for watcher in watchers:
            self._schedule(watcher, event)
        if len(self.on_event):
            self._schedule(self.on_event, event)

    def _schedule(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon(self._run_callback, fn, args)

    def _run_callback(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
        except Exception:
            log.exception("callback %r raised", fn)
            return
        if inspect.isawaitable(result):
            # Held until done (the loop keeps only weak references to
            # tasks), and its failure logged like a plain callback's.
            task = asyncio.ensure_future(result)
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_done)

    def _callback_done(self, task: "asyncio.Future[Any]") -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("callback task raised", exc_info=task.exception())

    # -- driving operations ------------------------------------------------------------

    def _send(self, request: rq.Request) -> "Future[Any]":
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        return connection.send_now(request)

    async def _call(self, request: rq.Request) -> Any:
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        policy = self.retry_policy
        if policy is not None and request.idempotent and current_attempt() is None:
            return await self.retry(self._call_once, request)
        return await self._call_once(request)

    async def _call_once(self, request: rq.Request) -> Any:
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        return await connection.call(request)

    async def _drive(self, op: ops.Operation) -> Any:
        if isinstance(op, rq.Request):
            return await self._call(op)
        try:
            request = next(op)
            while True:
                try:
                    result = await self._call(request)
                except Exception as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(result)
        except StopIteration as stop:
            return stop.value

    async def retry(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Await `fn(*args, **kwargs)`, retrying it across connection losses
        under the client's policy (default RetryPolicy()); as
        pykeeper.ZooKeeper.retry, with writes inside safe to repeat."""
        if current_attempt() is not None:
            return await fn(*args, **kwargs)
        call = RetriedCall(self.retry_policy or RetryPolicy())
        try:
            while True:
                try:
                    return await fn(*args, **kwargs)
                except RETRYABLE:
                    pause, wait = call.pause_after_failure()
                    await asyncio.sleep(pause)
                    try:
                        await self.wait_until_connected(wait)
                    except TimeoutException:
                        raise call.still_disconnected() from None
        finally:
            call.end()

    # -- watches that need the client's own table ------------------------------------

    async def remove_watches(self, path: str, watcher: Any = None, kind: str = "any") -> None:
        """As pykeeper.ZooKeeper.remove_watches."""
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        removed, requests = SyncZooKeeper._take_watches(self.protocol_for_watches(), path,
                                                       watcher, kind)
        try:
            await self._drive(ops.remove_watches_on_server(requests))
        finally:
            self._tell_removed(path, removed)

    def protocol_for_watches(self) -> ClientProtocol:
        if self._protocol is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        return self._protocol

    def transaction(self) -> Transaction:
        """A Transaction whose commit() is awaited (or use `async with`)."""
        return Transaction(self)

    multi = transaction

    # -- cached reads ----------------------------------------------------------------

    _node_cache: Optional[NodeCache] = None

    @property
    def node_cache(self) -> NodeCache:
        """The cache behind cached_get/cached_get_children/cached_exists:
        the sync client's, fed through this client's future twins."""
        if self._node_cache is None:
            self._node_cache = NodeCache(self)
            self.add_listener(self._node_cache.on_state)
        return self._node_cache

    async def cached_get(self, path: str) -> Tuple[bytes, Stat]:
        """As pykeeper.ZooKeeper.cached_get: from memory until a watch says
        the node changed; a miss awaits one read (shared by concurrent misses)."""
        return await self._cached(GET, path)

    async def cached_get_children(self, path: str) -> List[str]:
        """As pykeeper.ZooKeeper.cached_get_children."""
        return await self._cached(CHILDREN, path)

    async def cached_exists(self, path: str) -> Optional[Stat]:
        """As pykeeper.ZooKeeper.cached_exists."""
        return await self._cached(EXISTS, path)

    def cache_clear(self, path: Optional[str] = None) -> None:
        """Drop the cached answers (of `path`, or all)."""
        self.node_cache.clear(path)

    async def _cached(self, kind: str, path: str) -> Any:
        cache = self.node_cache
        hit, got = cache.lookup(kind, path) if path in cache else (False, None)
        if hit:
            return cache.answer(kind, path, got)
        validate_path(path)
        if self.retry_policy is not None and current_attempt() is None:
            return await self.retry(self._cached_once, kind, path)
        return await self._cached_once(kind, path)

    async def _cached_once(self, kind: str, path: str) -> Any:
        cache = self.node_cache
        hit, got = cache.lookup(kind, path)
        return cache.answer(kind, path, got if hit else await _on_loop(got, shared=True))

    # -- helpers ---------------------------------------------------------------------

    async def tree_cache(self, path: str, listener: Optional[Callable[..., Any]] = None, *,
                         timeout: Optional[float] = 30.0, **options: Any) -> TreeCache:
        """A started TreeCache of the subtree at `path`, initialized (awaits
        at most `timeout` seconds, else TimeoutException). `listener`, if
        given, is added before it starts, so it sees every node "added"."""
        tree = TreeCache(self, path, **options)
        if listener is not None:
            tree.add_listener(listener)
        await tree.start()
        if not await tree.wait_initialized(timeout):
            await tree.close()
            raise TimeoutException(f"tree cache of {path} not initialized within {timeout} s")
        return tree

    def data_watch(self, path: str, func: Optional[Callable[..., Any]] = None) -> DataWatch:
        """DataWatch(self, path, func): func(data, stat) now and on every
        change. Await the result to wait for the first call, or use it as
        a decorator."""
        return DataWatch(self, path, func)

    def children_watch(self, path: str,
                       func: Optional[Callable[..., Any]] = None) -> ChildrenWatch:
        """ChildrenWatch(self, path, func): func(children) now and on every
        change. Await the result to wait for the first call, or use it as
        a decorator."""
        return ChildrenWatch(self, path, func)

    # -- the helper interface (pykeeper.steps.HelperClient) ------------------------------

    def start_operation(self, op: ops.Operation) -> "Future[Any]":
        """Send the operation's first request now (raises if it cannot be
        sent); a Future of its answer, completed on the event loop in reply
        order. Never blocks. For helpers (pykeeper.steps)."""
        return ops.drive_future(op, self._send)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue fn(*args) on the event loop (thread-safe); False if the
        client has no loop. Never blocks. For helpers (pykeeper.steps)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        loop.call_soon_threadsafe(fn, *args)
        return True


def _async_method(name: str) -> Callable[..., Any]:
    operation = ops.CLIENT_OPERATIONS[name]

    async def method(self: ZooKeeper, *args: Any, **kwargs: Any) -> Any:
        op = operation(self, *args, **kwargs)
        connection = self._connection
        if (connection is not None and self.retry_policy is None
                and isinstance(op, rq.Request)):
            # (The common case, without the layers of _drive and _call.)
            return await connection.call(op)
        return await self._drive(op)

    sync_method = getattr(SyncZooKeeper, name)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = sync_method.__doc__
    method.__signature__ = inspect.signature(sync_method)  # type: ignore[attr-defined]
    return method


def _future_twin(name: str) -> Callable[..., Any]:
    operation = ops.CLIENT_OPERATIONS[name]

    def method(self: ZooKeeper, *args: Any, **kwargs: Any) -> "Future[Any]":
        return ops.drive_future(operation(self, *args, **kwargs), self._send)

    method.__name__ = method.__qualname__ = name + "_async"
    method.__doc__ = (f"Start {name}() and return at once a concurrent.futures.Future of its "
                      f"result, completed on the event loop (await the coroutine {name}() "
                      f"instead, unless you need the future itself).")
    return method


for _name in ops.CLIENT_OPERATIONS:
    setattr(ZooKeeper, _name, _async_method(_name))
    setattr(ZooKeeper, _name + "_async", _future_twin(_name))
ZooKeeper.set2 = ZooKeeper.set  # type: ignore[attr-defined]
