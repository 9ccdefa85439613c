"""`pykeeper.aio.ZooKeeper`: the asyncio client.

The same methods as `pykeeper.ZooKeeper`, as coroutines (`await
client.get(path)`), the same states, exceptions, retries, listeners,
reconnection and expiry recovery, on an asyncio driver over the same
protocol core and the same `Session`: what each call means is written
once, in `pykeeper.core.operations`, and driven here by awaiting.

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
from typing import (
    Any, Awaitable, Callable, List, Literal, Optional, Sequence, Set, Tuple, TypeVar, Union,
    overload,
)

from ..core import operations as ops
from ..core.futures import on_loop as _on_loop
from .treecache import TreeCache, TreeEvent
from .watchers import ChildrenWatch, ConfigWatch, DataWatch
from ..core.fourletter import parse_version
from ..drivers.asyncio_driver import AsyncioConnection
from ..drivers.fourletter_io import ask_async
from ..clients.cache import CHILDREN, EXISTS, GET, NodeCache
from ..clients.sync import ACLs, Children, Data, Watcher
from ..clients.base import CONNECTED_STATES, ClientBase, State
from ..core.paths import validate_path
from ..protocol import requests as rq
from ..protocol.client_protocol import ClientProtocol
from ..protocol.errors import ClientClosedException, TimeoutException
from ..protocol.records import ACL, ClientInfo, Stat, WatchedEvent
from ..core.retry import RETRYABLE, RetriedCall, RetryPolicy, current_attempt
from ..clients.transaction import AsyncReadTransaction, AsyncTransaction
from .recipe_factories import RecipeFactories

log = logging.getLogger("pykeeper")

__all__ = ["ZooKeeper", "TreeCache", "TreeEvent", "DataWatch", "ChildrenWatch", "ConfigWatch",
           "Transaction", "ReadTransaction"]

# The asyncio client's transaction, named like the module's other fronts.
Transaction = AsyncTransaction
"""The asyncio client's Transaction: see `AsyncTransaction`."""
ReadTransaction = AsyncReadTransaction
"""The asyncio client's ReadTransaction: see `AsyncReadTransaction`."""

T = TypeVar("T")


class ZooKeeper(ClientBase, RecipeFactories):
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
                self.addresses, self._protocol, self._events_for_driver, self.connect_timeout,
                self.reconnect, ssl_context=self.ssl_context,
                randomize_hosts=self.randomize_hosts)
            self._set_state(State.CONNECTING)
            self._connection.start()
        try:
            await self.wait_until_connected(timeout)
        except TimeoutException as exc:
            await self.close()
            raise self._connect_timed_out(timeout, exc) from exc

    def _watch_config(self) -> ConfigWatch:
        return ConfigWatch(self, self._follow)  # (its first read: in a task of its own)

    async def close(self, timeout: Optional[float] = None) -> None:
        """End the session and stop; requests already sent get their replies
        first. Waits at most `timeout` seconds (default close_timeout)."""
        self._stop_following()
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

    # -- four-letter words ---------------------------------------------------------

    async def command(self, cmd: Union[str, bytes] = "ruok",
                      timeout: Optional[float] = None) -> str:
        """Ask the connected server the four-letter word `cmd` on a
        connection of its own: see pykeeper.ZooKeeper.command. Waits at
        most `timeout` seconds (default: the connect timeout)."""
        address, word = self._command_target(cmd)
        limit = self.connect_timeout if timeout is None else timeout
        try:
            return await ask_async(address.host, address.port, word, limit, self.ssl_context)
        except (OSError, asyncio.TimeoutError) as exc:
            raise self._unanswered(address, word, exc) from None

    async def server_version(self) -> Tuple[int, int, int]:
        """The connected server's version, as (3, 8, 4), from its "srvr"
        answer; raises what command() raises, and ValueError if the answer
        names no version."""
        return parse_version(await self.command("srvr"))

    # -- driving operations ------------------------------------------------------------

    def _send(self, request: rq.Request,
              future: Optional["Future[Any]"] = None) -> "Future[Any]":
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        sent: Future[Any] = connection.send_now(request, future)
        return sent

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

    def _start(self, op: ops.Operation[T]) -> Awaitable[T]:
        """What an operation's coroutine awaits: with no retry policy and a
        single request, the connection's reply future itself (the common
        case, without the layers of _drive and _call); else _drive(op)."""
        connection = self._connection
        if connection is not None and self.retry_policy is None and isinstance(op, rq.Request):
            reply: Awaitable[T] = connection.call(op)
            return reply
        return self._drive(op)

    async def _drive(self, op: ops.Operation[T]) -> T:
        if isinstance(op, rq.Request):
            answer: T = await self._call(op)
            return answer
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
            value: T = stop.value
            return value

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
        removed, requests = ops.take_watches(self.protocol_for_watches(), path, watcher, kind)
        try:
            await self._drive(ops.remove_watches_on_server(requests))
        finally:
            self._tell_removed(path, removed)

    async def is_ephemeral(self, path: str, cache: bool = False) -> bool:
        """True if the node at `path` is ephemeral (with `cache`: read through
        cached_get). Raises NoNodeException."""
        if cache:
            return bool((await self.cached_get(path))[1].ephemeralOwner)
        return await self._start(ops.is_ephemeral(self, path))

    def protocol_for_watches(self) -> ClientProtocol:
        if self._protocol is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        return self._protocol

    def transaction(self) -> AsyncTransaction:
        """A Transaction whose commit() is awaited (or use `async with`)."""
        return AsyncTransaction(self)

    multi = transaction

    def read_transaction(self) -> AsyncReadTransaction:
        """A ReadTransaction whose commit() is awaited."""
        return AsyncReadTransaction(self)

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
        answer: Tuple[bytes, Stat] = await self._cached(GET, path)
        return answer

    async def cached_get_children(self, path: str) -> List[str]:
        """As pykeeper.ZooKeeper.cached_get_children."""
        children: List[str] = await self._cached(CHILDREN, path)
        return children

    async def cached_exists(self, path: str) -> Optional[Stat]:
        """As pykeeper.ZooKeeper.cached_exists."""
        stat: Optional[Stat] = await self._cached(EXISTS, path)
        return stat

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

    # -- the helper interface (pykeeper.core.steps.HelperClient) ------------------------------

    def start_operation(self, op: ops.Operation[Any],
                        future: Optional["Future[Any]"] = None) -> "Future[Any]":
        """Send the operation's first request now (raises if it cannot be
        sent); a Future of its answer (`future`, if given), completed on the
        event loop in reply order. Never blocks. For helpers (pykeeper.core.steps)."""
        return ops.drive_future(op, self._send, future)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue fn(*args) on the event loop (thread-safe); False if the
        client has no loop. Never blocks. For helpers (pykeeper.core.steps)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        loop.call_soon_threadsafe(fn, *args)
        return True


    # -- the operations, as coroutines and future twins -----------------------------------

    # BEGIN GENERATED by tools/gen_surface.py from the sync client's methods: do not edit.
    async def exists(self, path: str, watcher: Optional[Watcher] = None) -> Optional[Stat]:
        """The node's Stat, or None if there is no node at `path`.

        `watcher(event)` fires once when the node is created, changed or
        deleted. Raises ZooKeeperException subclasses for server errors.
        """
        return await self._start(ops.exists(self, path, watcher))

    async def get(self, path: str, watcher: Optional[Watcher] = None) -> Tuple[bytes, Stat]:
        """(data, stat) of the node at `path`.

        `watcher(event)` fires once when the node changes or is deleted.
        Raises NoNodeException if there is no node.
        """
        return await self._start(ops.get(self, path, watcher))

    @overload
    async def get_children(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: Literal[False] = False) -> List[str]: ...

    @overload
    async def get_children(self, path: str, watcher: Optional[Watcher] = None, *,
                           include_stat: Literal[True]) -> Tuple[List[str], Stat]: ...

    @overload
    async def get_children(self, path: str, watcher: Optional[Watcher],
                           include_stat: Literal[True]) -> Tuple[List[str], Stat]: ...

    @overload
    async def get_children(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: bool = False) -> Children: ...

    async def get_children(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: bool = False) -> Children:
        """The names of the node's children (in the server's order), or with
        `include_stat` a (names, parent stat) pair.

        `watcher(event)` fires once when a child is added or removed, or the
        node is deleted. Raises NoNodeException if there is no node.
        """
        return await self._start(ops.get_children(self, path, watcher, include_stat))

    async def get_acl(self, path: str) -> Tuple[List[ACL], Stat]:
        """(acl list, stat) of the node. Raises NoNodeException."""
        return await self._start(ops.get_acl(self, path))

    async def sync(self, path: str = "/") -> str:
        """Wait until the server this client is on has caught up with the
        leader, so a following read sees every write committed before; returns `path`.
        """
        return await self._start(ops.sync(self, path))

    async def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """Paths of this session's ephemeral nodes at or under `prefix` (server 3.6+)."""
        return await self._start(ops.get_ephemerals(self, prefix))

    async def get_all_children_number(self, path: str) -> int:
        """How many nodes there are below `path`, at any depth (server 3.6+)."""
        return await self._start(ops.get_all_children_number(self, path))

    async def add_watch(self, path: str, watcher: Watcher, recursive: bool = False) -> None:
        """Arm a persistent watch on `path` (server 3.6+).

        `watcher(event)` is called for every change of the node (created,
        changed, deleted, child added or removed) until the watch is removed;
        with `recursive`, for every created/changed/deleted node at or
        below `path` (not for child-list changes). The watch survives
        reconnects; it ends with the session. Raises UnimplementedException
        on servers older than 3.6.
        """
        return await self._start(ops.add_watch(self, path, watcher, recursive))

    async def create(self, path: str, value: Data = b"", acl: Optional[ACLs] = None, flags: int = 0,
                     *, ephemeral: bool = False, sequence: bool = False, container: bool = False,
                     ttl: Optional[int] = None) -> str:
        """Create a node; returns its path (with the sequence number, for a
        sequential node).

        `value` is bytes (str is UTF-8 encoded); `acl` a list of ACL
        (default OPEN_ACL_UNSAFE); `flags` EPHEMERAL | SEQUENCE as in the
        original API, or the keywords. `container=True` makes a container
        node, `ttl` (milliseconds) a TTL node (the server must enable them).
        Raises NodeExistsException, NoNodeException (no parent),
        NoChildrenForEphemeralsException, InvalidACLException, ...
        """
        return await self._start(ops.create(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl))

    async def create2(self, path: str, value: Data = b"", acl: Optional[ACLs] = None,
                      flags: int = 0, *, ephemeral: bool = False, sequence: bool = False,
                      container: bool = False, ttl: Optional[int] = None) -> Tuple[str, Stat]:
        """Like create(), but returns (path, stat of the new node)."""
        return await self._start(ops.create2(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl))

    async def set(self, path: str, value: Data, version: int = -1) -> Stat:
        """Replace the node's data; returns its new Stat.

        With `version` >= 0 the write happens only if the node is at that
        version (else BadVersionException). Raises NoNodeException.
        """
        return await self._start(ops.set_data(self, path, value, version))

    async def whoami(self) -> List[ClientInfo]:
        """The identities the server gave this session (servers 3.7+), each
        a ClientInfo(auth_scheme, user): ("ip", "127.0.0.1") always, and
        ("digest", "app"), ("sasl", "bob@REALM"), ("x509", "CN=app") or
        ("super", "") as it authenticated; for telling why an ACL refuses.
        Raises UnimplementedException on older servers.
        """
        return await self._start(ops.whoami(self))

    async def check_watches(self, path: str, kind: str = "any") -> bool:
        """Whether the server still holds a watch of this session on `path`:
        `kind` "data" (get/exists), "child" or "any". A one-shot watch that
        fired is gone (False); the client re-arms its watches after a
        reconnect, so a held one is True again once connected.
        """
        return await self._start(ops.check_watches(self, path, kind))

    async def get_config(self, watcher: Optional[Watcher] = None) -> Tuple[bytes, Stat]:
        """The ensemble's dynamic configuration (the node /zookeeper/config,
        read outside any chroot) and its Stat; `pykeeper.parse_config` turns
        it into members. `watcher(event)` is called once, at its next change.
        """
        return await self._start(ops.get_config(self, watcher))

    async def reconfig(self, joining: Union[str, Sequence[str], None] = None,
                       leaving: Union[str, int, Sequence[Union[str, int]], None] = None,
                       new_members: Union[str, Sequence[str], None] = None,
                       from_config: int = -1) -> Tuple[bytes, Stat]:
        """Change the ensemble's membership (servers 3.5+ with reconfigEnabled),
        as kazoo names it: add `joining` members ("server.4=host:2888:3888:
        participant;host:2181", a str or a list) and remove `leaving` ones
        (server ids), or replace the whole membership with `new_members`.
        `from_config` (a version from get_config/parse_config) makes it apply
        only to that configuration. Returns the new configuration's data and
        Stat. Needs the super user's credentials. Raises
        ReconfigDisabledException, NewConfigNoQuorumException,
        ReconfigInProgressException or BadVersionException saying what to do;
        ValueError/TypeError for arguments that cannot be sent.
        """
        return await self._start(ops.reconfig(self, joining, leaving, new_members, from_config))

    async def delete(self, path: str, version: int = -1) -> None:
        """Delete the node. Raises NoNodeException, NotEmptyException,
        BadVersionException (when `version` >= 0 does not match).
        """
        return await self._start(ops.delete(self, path, version))

    async def set_acl(self, path: str, acl: Union[ACLs, int],
                      version: Union[int, ACLs] = -1) -> Stat:
        """Replace the node's ACL; returns its new Stat.

        The original argument order set_acl(path, version, acl) works too.
        Raises NoNodeException, BadVersionException, InvalidACLException.
        """
        return await self._start(ops.set_acl(self, path, acl, version))

    async def add_auth(self, scheme: str, credential: Union[str, bytes]) -> None:
        """Add credentials to this connection (e.g. "digest", "user:password").

        They are re-sent on every reconnect. Raises AuthFailedException if
        the server refuses them (the client then stops: state auth_failed).
        """
        return await self._start(ops.add_auth(self, scheme, credential))

    async def create_recursive(self, path: str, value: Data = b"",
                               acl: Optional[ACLs] = None) -> str:
        """Create `path` with `value`, creating missing parents (empty) first.

        Parents that exist, or that another client creates meanwhile, are
        fine. Returns the path. Raises NodeExistsException if the node
        itself already exists.
        """
        return await self._start(ops.create_recursive(self, path, value, acl))

    async def delete_recursive(self, path: str, dry_run: bool = False,
                               force: bool = False) -> List[str]:
        """Delete `path` and everything below it, deepest first.

        Ephemeral nodes (and so their ancestors) are left alone unless
        `force`. With `dry_run`, nothing is deleted. Returns the paths
        deleted (or that would be). Children created concurrently are
        deleted too.
        """
        return await self._start(ops.delete_recursive(self, path, dry_run, force))

    set2 = set

    def exists_async(self, path: str, watcher: Optional[Watcher] = None) -> Future[Optional[Stat]]:
        """Start exists() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine exists() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.exists(self, path, watcher), self._send)

    def get_async(self, path: str,
                  watcher: Optional[Watcher] = None) -> Future[Tuple[bytes, Stat]]:
        """Start get() and return at once a concurrent.futures.Future of its result, completed on
        the event loop (await the coroutine get() instead, unless you need the future itself).
        """
        return ops.drive_future(ops.get(self, path, watcher), self._send)

    @overload
    def get_children_async(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: Literal[False] = False) -> Future[List[str]]: ...

    @overload
    def get_children_async(self, path: str, watcher: Optional[Watcher] = None, *,
                           include_stat: Literal[True]) -> Future[Tuple[List[str], Stat]]: ...

    @overload
    def get_children_async(self, path: str, watcher: Optional[Watcher],
                           include_stat: Literal[True]) -> Future[Tuple[List[str], Stat]]: ...

    @overload
    def get_children_async(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: bool = False) -> Future[Children]: ...

    def get_children_async(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: bool = False) -> Future[Any]:
        """Start get_children() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine get_children() instead, unless you need
        the future itself).
        """
        return ops.drive_future(ops.get_children(self, path, watcher, include_stat), self._send)

    def get_acl_async(self, path: str) -> Future[Tuple[List[ACL], Stat]]:
        """Start get_acl() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine get_acl() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.get_acl(self, path), self._send)

    def sync_async(self, path: str = "/") -> Future[str]:
        """Start sync() and return at once a concurrent.futures.Future of its result, completed on
        the event loop (await the coroutine sync() instead, unless you need the future itself).
        """
        return ops.drive_future(ops.sync(self, path), self._send)

    def get_ephemerals_async(self, prefix: str = "/") -> Future[List[str]]:
        """Start get_ephemerals() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine get_ephemerals() instead, unless you
        need the future itself).
        """
        return ops.drive_future(ops.get_ephemerals(self, prefix), self._send)

    def get_all_children_number_async(self, path: str) -> Future[int]:
        """Start get_all_children_number() and return at once a concurrent.futures.Future of its
        result, completed on the event loop (await the coroutine get_all_children_number()
        instead, unless you need the future itself).
        """
        return ops.drive_future(ops.get_all_children_number(self, path), self._send)

    def is_ephemeral_async(self, path: str) -> Future[bool]:
        """Start is_ephemeral() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine is_ephemeral() instead, unless you need
        the future itself).
        """
        return ops.drive_future(ops.is_ephemeral(self, path), self._send)

    def add_watch_async(self, path: str, watcher: Watcher,
                        recursive: bool = False) -> Future[None]:
        """Start add_watch() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine add_watch() instead, unless you need
        the future itself).
        """
        return ops.drive_future(ops.add_watch(self, path, watcher, recursive), self._send)

    def create_async(self, path: str, value: Data = b"", acl: Optional[ACLs] = None, flags: int = 0,
                     *, ephemeral: bool = False, sequence: bool = False, container: bool = False,
                     ttl: Optional[int] = None) -> Future[str]:
        """Start create() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine create() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.create(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl), self._send)

    def create2_async(self, path: str, value: Data = b"", acl: Optional[ACLs] = None,
                      flags: int = 0, *, ephemeral: bool = False, sequence: bool = False,
                      container: bool = False,
                      ttl: Optional[int] = None) -> Future[Tuple[str, Stat]]:
        """Start create2() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine create2() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.create2(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl), self._send)

    def set_async(self, path: str, value: Data, version: int = -1) -> Future[Stat]:
        """Start set() and return at once a concurrent.futures.Future of its result, completed on
        the event loop (await the coroutine set() instead, unless you need the future itself).
        """
        return ops.drive_future(ops.set_data(self, path, value, version), self._send)

    def whoami_async(self) -> Future[List[ClientInfo]]:
        """Start whoami() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine whoami() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.whoami(self), self._send)

    def check_watches_async(self, path: str, kind: str = "any") -> Future[bool]:
        """Start check_watches() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine check_watches() instead, unless you
        need the future itself).
        """
        return ops.drive_future(ops.check_watches(self, path, kind), self._send)

    def get_config_async(self, watcher: Optional[Watcher] = None) -> Future[Tuple[bytes, Stat]]:
        """Start get_config() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine get_config() instead, unless you need
        the future itself).
        """
        return ops.drive_future(ops.get_config(self, watcher), self._send)

    def reconfig_async(self, joining: Union[str, Sequence[str], None] = None,
                       leaving: Union[str, int, Sequence[Union[str, int]], None] = None,
                       new_members: Union[str, Sequence[str], None] = None,
                       from_config: int = -1) -> Future[Tuple[bytes, Stat]]:
        """Start reconfig() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine reconfig() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.reconfig(self, joining, leaving, new_members, from_config), self._send)

    def delete_async(self, path: str, version: int = -1) -> Future[None]:
        """Start delete() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine delete() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.delete(self, path, version), self._send)

    def set_acl_async(self, path: str, acl: Union[ACLs, int],
                      version: Union[int, ACLs] = -1) -> Future[Stat]:
        """Start set_acl() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine set_acl() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.set_acl(self, path, acl, version), self._send)

    def add_auth_async(self, scheme: str, credential: Union[str, bytes]) -> Future[None]:
        """Start add_auth() and return at once a concurrent.futures.Future of its result, completed
        on the event loop (await the coroutine add_auth() instead, unless you need the future
        itself).
        """
        return ops.drive_future(ops.add_auth(self, scheme, credential), self._send)

    def create_recursive_async(self, path: str, value: Data = b"",
                               acl: Optional[ACLs] = None) -> Future[str]:
        """Start create_recursive() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine create_recursive() instead, unless you
        need the future itself).
        """
        return ops.drive_future(ops.create_recursive(self, path, value, acl), self._send)

    def delete_recursive_async(self, path: str, dry_run: bool = False,
                               force: bool = False) -> Future[List[str]]:
        """Start delete_recursive() and return at once a concurrent.futures.Future of its result,
        completed on the event loop (await the coroutine delete_recursive() instead, unless you
        need the future itself).
        """
        return ops.drive_future(ops.delete_recursive(self, path, dry_run, force), self._send)
    # END GENERATED
