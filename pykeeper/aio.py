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
from typing import Any, Awaitable, Callable, List, Optional, Tuple

from . import operations as ops
from .asyncio_driver import AsyncioConnection
from .client import _STATE_TO_KEEPER, ZooKeeper as SyncZooKeeper, State
from .events import Multicast
from .hosts import parse_hosts
from .paths import DEFAULT_MAX_DATA
from .protocol import requests as rq
from .protocol.connection import ClientProtocol, Connected, Notification, SessionExpired
from .protocol.errors import (
    AuthFailedException, ClientClosedException, ConnectionLossException,
    SessionExpiredException, TimeoutException,
)
from .protocol.records import EventType, KeeperState, WatchedEvent
from .retry import RETRYABLE, Attempt, RetryPolicy, _attempt, current_attempt
from .transaction import Transaction

log = logging.getLogger("pykeeper")

_CONNECTED_STATES = (State.CONNECTED, State.CONNECTED_READONLY)

__all__ = ["ZooKeeper"]


class ZooKeeper:
    """An asyncio ZooKeeper client; see `pykeeper.ZooKeeper` for the
    arguments and for what each method returns and raises.

    Use it from one event loop: `connect()` binds it to the running loop.
    """

    def __init__(self, hosts: str = "127.0.0.1:2181", reconnect: bool = True, *,
                 session_timeout: float = 10.0, connect_timeout: Optional[float] = None,
                 max_data_size: int = DEFAULT_MAX_DATA, can_be_read_only: bool = False,
                 close_timeout: float = 5.0, retry: Optional[RetryPolicy] = None) -> None:
        self.addresses, self.chroot = parse_hosts(hosts)
        if session_timeout <= 0:
            raise ValueError(f"session_timeout must be positive seconds, not {session_timeout}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a pykeeper.RetryPolicy, not {type(retry).__name__}")
        self.hosts = hosts
        self.reconnect = reconnect
        self.session_timeout = float(session_timeout)
        self.connect_timeout = (connect_timeout if connect_timeout is not None
                                else max(0.5, self.session_timeout / max(1, len(self.addresses))))
        self.max_data_size = max_data_size
        self.can_be_read_only = can_be_read_only
        self.close_timeout = close_timeout
        self.retry_policy = retry
        self.on_state = Multicast()
        self.on_event = Multicast()
        self._listeners: List[Callable[[State], Any]] = []
        self._state = State.CLOSED
        self._state_changed: Optional[asyncio.Event] = None
        self._connection: Optional[AsyncioConnection] = None
        self._protocol: Optional[ClientProtocol] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # -- lifecycle -------------------------------------------------------------

    async def connect(self, timeout: Optional[float] = 15.0) -> None:
        """Start the client and wait until it has a session (TimeoutException
        after `timeout` seconds, the client closed again)."""
        if self._connection is not None and not self._connection.alive:
            await self.close()
        if self._connection is None:
            self._loop = asyncio.get_running_loop()
            self._state_changed = asyncio.Event()
            self._protocol = ClientProtocol(
                int(self.session_timeout * 1000), self.chroot, self.can_be_read_only)
            self._connection = AsyncioConnection(
                self.addresses, self._protocol, self, self.connect_timeout, self.reconnect)
            self._set_state(State.CONNECTING)
            self._connection.start()
        try:
            await self.wait_until_connected(timeout)
        except TimeoutException:
            await self.close()
            raise TimeoutException(
                f"no ZooKeeper server at {self.hosts} gave a session within {timeout} s")

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

    def __repr__(self) -> str:
        return f"<pykeeper.aio.ZooKeeper {self.hosts!r} {self.state_name} at 0x{id(self):x}>"

    # -- state -------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def state_name(self) -> str:
        return self._state.value

    @property
    def connected(self) -> bool:
        return self._state in _CONNECTED_STATES

    @property
    def client_id(self) -> Optional[Tuple[int, bytes]]:
        protocol = self._protocol
        if protocol is None or not protocol.session_id:
            return None
        return protocol.session_id, protocol.password

    @property
    def session_id(self) -> Optional[int]:
        protocol = self._protocol
        return protocol.session_id or None if protocol else None

    @property
    def last_zxid(self) -> int:
        protocol = self._protocol
        return protocol.last_zxid if protocol else 0

    @property
    def current_server(self) -> Optional[str]:
        connection = self._connection
        if connection is None or self._state not in _CONNECTED_STATES:
            return None
        return str(connection.address) if connection.address is not None else None

    async def wait_until_connected(self, timeout: Optional[float] = None) -> None:
        """Wait until connected (read-write or read-only); TimeoutException
        after `timeout` seconds; the final error if the client stops trying."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._state not in _CONNECTED_STATES:
            if self._connection is None or self._state_changed is None:
                raise ClientClosedException("the client is not started: call connect()")
            if self._state == State.AUTH_FAILED:
                raise AuthFailedException("authentication failed; the client stopped")
            if self._state == State.EXPIRED_SESSION and not self.reconnect:
                raise SessionExpiredException("the session expired and reconnect is off")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutException(
                    f"not connected after {timeout} s (state {self._state.value})")
            event = self._state_changed
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def add_listener(self, listener: Callable[[State], Any]) -> None:
        """Call `listener(state)` (a function or coroutine function) on every state change."""
        if not callable(listener):
            raise TypeError(f"{listener!r} is not callable")
        if listener not in self._listeners:
            self._listeners = self._listeners + [listener]

    def remove_listener(self, listener: Callable[[State], Any]) -> None:
        self._listeners = [fn for fn in self._listeners if fn != listener]

    def _set_state(self, state: State) -> None:
        if state == self._state:
            return
        self._state = state
        if self._state_changed is not None:
            self._state_changed.set()
        for listener in self._listeners:
            self._schedule(listener, state)
        if len(self.on_state):
            self._schedule(self.on_state, self, state.value)

    def _schedule(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon(self._run_callback, fn, args)

    @staticmethod
    def _run_callback(fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:
            log.exception("callback %r raised", fn)

    # Handler callbacks, called by the driver on the loop.

    def on_connecting(self) -> None:
        if self._connection is not None:
            self._set_state(State.CONNECTING)

    def on_associating(self) -> None:
        if self._connection is not None:
            self._set_state(State.ASSOCIATING)

    def on_connected(self, event: Connected) -> None:
        self._set_state(State.CONNECTED_READONLY if event.read_only else State.CONNECTED)
        self._deliver(WatchedEvent(EventType.NONE, _STATE_TO_KEEPER[self._state], None), [])

    def on_disconnected(self) -> None:
        if self._connection is not None:
            self._set_state(State.CONNECTING)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, None), [])

    def on_session_expired(self, event: SessionExpired) -> None:
        self._set_state(State.EXPIRED_SESSION)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.EXPIRED, None), event.watchers)

    def on_notification(self, event: Notification) -> None:
        self._deliver(event.event, event.watchers)

    def on_auth_failed(self) -> None:
        self._set_state(State.AUTH_FAILED)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.AUTH_FAILED, None), [])

    def on_closed(self) -> None:
        if self._state not in (State.AUTH_FAILED, State.EXPIRED_SESSION):
            self._set_state(State.CLOSED)
        elif self._state_changed is not None:
            self._state_changed.set()

    def _deliver(self, event: WatchedEvent, watchers: List[Any]) -> None:
        for watcher in watchers:
            if getattr(watcher, "inline", False):
                try:
                    watcher(event)
                except Exception:
                    log.exception("inline watcher %r raised for %r", watcher, event)
            else:
                self._schedule(watcher, event)
        if len(self.on_event):
            self._schedule(self.on_event, event)

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
        return await _on_loop(await connection.send(request))

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
        policy = self.retry_policy or RetryPolicy()
        attempt = Attempt()
        token = _attempt.set(attempt)
        start = time.monotonic()
        try:
            while True:
                try:
                    return await fn(*args, **kwargs)
                except RETRYABLE:
                    attempt.number += 1
                    plan = policy.pause_before_retry(attempt.number, start)
                    if plan is None:
                        raise
                    pause, remaining = plan
                    await asyncio.sleep(pause)
                    try:
                        await self.wait_until_connected(
                            None if remaining is None else remaining - pause)
                    except TimeoutException:
                        raise ConnectionLossException(
                            f"still disconnected {policy.deadline} s after the first try"
                        ) from None
        finally:
            _attempt.reset(token)

    # -- watches that need the client's own table ------------------------------------

    async def remove_watches(self, path: str, watcher: Any = None, kind: str = "any") -> None:
        """As pykeeper.ZooKeeper.remove_watches."""
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        removed, requests = SyncZooKeeper._take_watches(self.protocol_for_watches(), path,
                                                       watcher, kind)
        for request in requests:
            await self._drive(ops.remove_watch_on_server(request))
        for w, event_type in removed:
            self._deliver(WatchedEvent(event_type, KeeperState.SYNC_CONNECTED, path), [w])

    def protocol_for_watches(self) -> ClientProtocol:
        if self._protocol is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        return self._protocol

    def transaction(self) -> Transaction:
        """A Transaction whose commit() is awaited (or use `async with`)."""
        return Transaction(self)

    multi = transaction


def _on_loop(reply: "Future[Any]") -> "asyncio.Future[Any]":
    """An asyncio future of `reply`. The driver completes replies on the
    loop's own thread, so this needs none of wrap_future's thread-safe
    (self-pipe) hand-off, which costs a system call per reply."""
    waiter = asyncio.get_running_loop().create_future()

    def copy(done: "Future[Any]") -> None:
        if waiter.done():
            return
        if done.cancelled():
            waiter.cancel()
            return
        error = done.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    def cancel(w: "asyncio.Future[Any]") -> None:
        if w.cancelled():
            reply.cancel()

    reply.add_done_callback(copy)
    waiter.add_done_callback(cancel)
    return waiter


def _async_method(name: str) -> Callable[..., Any]:
    operation = ops.CLIENT_OPERATIONS[name]

    async def method(self: ZooKeeper, *args: Any, **kwargs: Any) -> Any:
        return await self._drive(operation(self, *args, **kwargs))

    sync_method = getattr(SyncZooKeeper, name)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = sync_method.__doc__
    method.__signature__ = inspect.signature(sync_method)  # type: ignore[attr-defined]
    return method


for _name in ops.CLIENT_OPERATIONS:
    setattr(ZooKeeper, _name, _async_method(_name))
ZooKeeper.set2 = ZooKeeper.set  # type: ignore[attr-defined]
