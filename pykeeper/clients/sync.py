"""`pykeeper.ZooKeeper`: the synchronous, thread-safe client."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import (
    TYPE_CHECKING, Any, Callable, List, Literal, Optional, Sequence,
    Tuple, TypeVar, Union, overload,
)

from ..core import operations as ops
from .base import ACLs, CONNECTED_STATES, ClientBase, State
from .events import EventThread
from ..protocol import requests as rq
from ..protocol.errors import ClientClosedException, TimeoutException
from ..protocol.records import (
    ACL, ClientInfo, CreateFlags, Stat, WatchedEvent,
)
from ..core.retry import RetryPolicy, current_attempt, run_with_retry
from ..core.fourletter import parse_version
from ..drivers.fourletter_io import ask
from ..drivers.threaded import ThreadedConnection
from .transaction import ReadTransaction, Transaction
from .watchers import ConfigWatch
from ..recipes.factories import RecipeFactories

if TYPE_CHECKING:  # (issue 5: imported lazily, in the methods that use them)
    from .cache import NodeCache
    from .treecache import TreeCache
    from .watchers import ChildrenWatch, DataWatch

__all__ = [
    "ACLs", "Children", "Data", "EPHEMERAL", "SEQUENCE", "Watcher", "ZooKeeper",
]

log = logging.getLogger("pykeeper")

Watcher = Callable[[WatchedEvent], Any]
Data = Union[bytes, bytearray, memoryview, str, None]
# What get_children answers: the names, or with include_stat (names, parent stat).
Children = Union[List[str], Tuple[List[str], Stat]]
T = TypeVar("T")

# Flag bits of create(), as the official binding numbered them.
EPHEMERAL = CreateFlags.EPHEMERAL
"""`create(..., flags=EPHEMERAL)`: the node lives as long as the session."""
SEQUENCE = CreateFlags.SEQUENTIAL
"""`create(..., flags=SEQUENCE)`: the server appends a 10-digit counter to the name."""


_CONNECTED_STATES = CONNECTED_STATES


class ZooKeeper(ClientBase, RecipeFactories):
    """A ZooKeeper client.

    Thread safety: every method may be called from any thread at once.
    Calls that talk to the server block the calling thread until the reply
    arrives; since a connection that stops answering is dropped after 2/3
    of the session timeout (failing its calls with
    ConnectionLossException), no call blocks longer than that. Watchers
    and listeners run on the client's own event thread and may call the
    client.

    `hosts` is `"host:port[,host:port...][/chroot]"`. `session_timeout` is in
    seconds (the server bounds it). With `reconnect` (the default) a new
    session is made after the old one expires; connection drops are always
    recovered from within the session. `max_data_size` is the largest
    request the server takes, in bytes (its jute.maxbuffer: 1,048,575 unless
    the server was started with a larger -Djute.maxbuffer); `client_id` (a
    `client_id` saved from another client) resumes that session on the
    first connect(). `randomize_hosts` (default True) shuffles the hosts
    once per connect(); False tries them in the order given.
    `sasl_options` ({"mechanism": "DIGEST-MD5", "username": ..., "password":
    ...} or {"mechanism": "GSSAPI"}; see the security guide) makes every
    connection authenticate with SASL before anything else is sent; the
    state is `connected` only once it has, `auth_failed` if refused.
    With `follow_config`, the client watches the ensemble's dynamic
    configuration and takes its members as its hosts (see update_hosts()).
    `default_acl` (ACL entries) is the ACL of every node the client and
    its recipes create without one (else open to anyone). `auth_data`
    ([(scheme, credential), ...], e.g. [("digest", "app:secret")]) is sent
    first on every connection, as add_auth() would. Bad arguments raise
    TypeError or ValueError here, before anything is sent.
    """

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._state_changed = threading.Condition(self._lock)
        self._events: Optional[EventThread] = None
        # State changes made and state changes whose hooks have run: a
        # waiter returns only once the hooks have heard of its state.
        self._changes_made = 0
        self._changes_told = 0

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background and return at once; listeners
        and `on_state` hear `connected` when a server gives a session.

        Never blocks on the network. Calling it on a started client does
        nothing; on a client whose connection gave up (auth failed, or the
        session expired with reconnect off) it closes that and starts over.
        """
        with self._lock:
            stale = self._connection is not None and not self._connection.alive
        if stale:
            # The previous connection gave up (auth failed, or the session
            # expired with reconnect off): start over with a new one.
            self.close()
        with self._lock:
            if self._connection is None:
                self._protocol = self._new_protocol()
                self._events = EventThread()
                self._changes_made = self._changes_told = 0
                self._connection = ThreadedConnection(
                    self.addresses, self._protocol, self._events_for_driver, self.connect_timeout,
                    self.reconnect, ssl_context=self.ssl_context,
                    randomize_hosts=self.randomize_hosts)
                self._set_state_locked(State.CONNECTING)
                self._connection.start()

    def connect(self, timeout: Optional[float] = 15.0) -> None:
        """Start the client and wait until it has a session, and the
        listeners and `on_state` hooks have been told `connected`.

        Blocks at most `timeout` seconds (None: until connected). Raises
        TimeoutException, after closing the client again, when no server
        gave a session in time. Calling it on a connected client does nothing.
        """
        self.start()
        try:
            self.wait_until_connected(timeout)
        except TimeoutException as exc:
            self.close()
            raise self._connect_timed_out(timeout, exc) from exc

    def _watch_config(self) -> ConfigWatch:
        return ConfigWatch(self, self._follow)  # (its first read: here, blocking)

    def close(self, timeout: Optional[float] = None) -> None:
        """End the session and stop the client's threads.

        Requests already sent get their replies first. Blocks at most
        `timeout` seconds (default: the client's close_timeout, 5 s).
        Idempotent; the client may be connect()ed again afterwards.
        """
        timeout = self.close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._stop_following()
        with self._lock:
            connection, events = self._connection, self._events
            self._connection = None
            # The session ends here: client_id / session_id must not go on
            # reporting it (the connection keeps its own reference).
            self._protocol = None
        if connection is None:
            return
        connection.close(timeout)
        with self._lock:
            # Clear _events only after the move to CLOSED, so that listeners
            # and on_state hear of it like of every other state change.
            if self._events is events:  # (not replaced by a connect() meanwhile)
                self._set_state_locked(State.CLOSED)
                self._events = None
        if events is not None:
            events.stop(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> "ZooKeeper":
        if self._connection is None:
            self.connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- state -------------------------------------------------------------------

    def wait_until_connected(self, timeout: Optional[float] = None) -> None:
        """Block until the client is connected (read-write or read-only) and
        the listeners and `on_state` hooks have been told so.

        Raises TimeoutException after `timeout` seconds (None: wait forever),
        and ClientClosedException or the final error (session expired,
        auth failed) if the client stops trying. Called from a listener or
        watcher (the event thread), it returns as soon as the client is
        connected: the hooks it would wait for run on that same thread,
        after it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state_changed:
            while not self._connected_and_told():
                self._state_changed.wait(self._time_left_to_connect(deadline, timeout))

    def _connected_and_told(self) -> bool:
        if self._state not in _CONNECTED_STATES:
            return False
        events = self._events
        return (self._changes_told >= self._changes_made or events is None
                or events.is_current)

    def _set_state(self, state: State, running_only: bool = False) -> None:
        with self._lock:
            if not running_only or self._connection is not None:
                self._set_state_locked(state)

    def _wake_waiters(self) -> None:
        with self._lock:
            self._state_changed.notify_all()

    def _dispatch(self, event: WatchedEvent, watchers: List[Any]) -> None:
        events = self._events
        if events is not None:
            events.put(self._run_watchers, event, watchers)

    def _set_state_locked(self, state: State) -> None:
        if state == self._state:
            return
        self._state = state
        self._state_changed.notify_all()
        events = self._events
        if events is not None:
            self._changes_made += 1
            events.put(self._announce_state, state, list(self._listeners), events,
                       self._changes_made)

    def _announce_state(self, state: State, listeners: List[Callable[[State], Any]],
                        events: EventThread, change: int) -> None:
        try:
            for listener in listeners:
                try:
                    listener(state)
                except Exception:
                    log.exception("state listener %r raised", listener)
            self.on_state(self, state.value)
        finally:
            with self._lock:
                if self._events is events:  # (not an earlier connect()'s thread)
                    self._changes_told = change
                    self._state_changed.notify_all()

    def _run_watchers(self, event: WatchedEvent, watchers: List[Any]) -> None:
        for watcher in watchers:
            try:
                watcher(event)
            except Exception:
                log.exception("watcher %r raised for %r", watcher, event)
        self.on_event(event)

    # -- four-letter words ---------------------------------------------------------

    def command(self, cmd: Union[str, bytes] = "ruok", timeout: Optional[float] = None) -> str:
        """Ask the server this client is connected to the four-letter word
        `cmd` ("ruok", "srvr", "stat", "mntr", "conf", "envi", ...) on a
        connection of its own (TLS if the client's is); returns the answer.
        Servers answer only the words in their `4lw.commands.whitelist`
        (by default only "srvr") and say so for the others. Blocks at most
        `timeout` seconds (default: the connect timeout). Raises
        ValueError/TypeError for a word that is not four letters, and
        ConnectionLossException when not connected or when the server does
        not answer in time."""
        address, word = self._command_target(cmd)
        limit = self.connect_timeout if timeout is None else timeout
        try:
            return ask(address.host, address.port, word, limit, self.ssl_context)
        except OSError as exc:
            raise self._unanswered(address, word, exc) from None

    def server_version(self) -> Tuple[int, int, int]:
        """The connected server's version, as (3, 8, 4), from its "srvr"
        answer. Blocks as command() does and raises what it raises, and
        ValueError if the answer names no version."""
        return parse_version(self.command("srvr"))

    # -- sending ----------------------------------------------------------------

    def _send(self, request: rq.Request,
              future: Optional["Future[Any]"] = None) -> "Future[Any]":
        connection = self._connection
        if connection is None:
            raise ClientClosedException(
                "the client is not connected: call connect() first")
        sent: Future[Any] = connection.send(request, future)
        return sent

    def _call(self, request: rq.Request) -> Any:
        policy = self.retry_policy
        if policy is not None and request.idempotent and current_attempt() is None:
            return run_with_retry(policy, self.wait_until_connected, self._call_once, request)
        return self._call_once(request)

    def _drive(self, op: ops.Operation[T],
               call: Optional[Callable[[rq.Request], Any]] = None) -> T:
        """Run an operation to its answer, blocking on each reply (each
        request through `call`: by default under the client's retry policy)."""
        if call is None:
            call = self._call
        if isinstance(op, rq.Request):
            answer: T = call(op)
            return answer
        try:
            request = next(op)
            while True:
                try:
                    result = call(request)
                except Exception as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value

    def _call_once(self, request: rq.Request) -> Any:
        connection = self._connection
        if connection is None:
            raise ClientClosedException(
                "the client is not connected: call connect() first")
        return connection.call(request)

    def retry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call `fn(*args, **kwargs)`, retrying it across connection losses.

        Retries ConnectionLossException and OperationTimeoutException under
        the client's `retry` policy (default: RetryPolicy()), waiting for the
        client to reconnect between tries. Writes made inside are safe to
        repeat: a create, set or delete whose first try may have been
        applied is checked rather than applied twice, and a sequential
        create gets a protected name ("_c_<guid>-<name>") so that a retry
        finds its node instead of making a second one.

        Returns what `fn` returns; raises its last error when the policy's
        tries or deadline run out, and any other error at once.
        """
        return run_with_retry(self.retry_policy or RetryPolicy(), self.wait_until_connected,
                              fn, *args, **kwargs)

    # -- reads --------------------------------------------------------------------

    def exists(self, path: str, watcher: Optional[Watcher] = None) -> Optional[Stat]:
        """The node's Stat, or None if there is no node at `path`.

        `watcher(event)` fires once when the node is created, changed or
        deleted. Raises ZooKeeperException subclasses for server errors.
        """
        return self._drive(ops.exists(self, path, watcher))

    def get(self, path: str, watcher: Optional[Watcher] = None) -> Tuple[bytes, Stat]:
        """(data, stat) of the node at `path`.

        `watcher(event)` fires once when the node changes or is deleted.
        Raises NoNodeException if there is no node.
        """
        return self._drive(ops.get(self, path, watcher))

    @overload
    def get_children(self, path: str, watcher: Optional[Watcher] = None,
                     include_stat: Literal[False] = False) -> List[str]: ...

    @overload
    def get_children(self, path: str, watcher: Optional[Watcher] = None, *,
                     include_stat: Literal[True]) -> Tuple[List[str], Stat]: ...

    @overload
    def get_children(self, path: str, watcher: Optional[Watcher],
                     include_stat: Literal[True]) -> Tuple[List[str], Stat]: ...

    @overload
    def get_children(self, path: str, watcher: Optional[Watcher] = None,
                     include_stat: bool = False) -> Children: ...

    def get_children(self, path: str, watcher: Optional[Watcher] = None,
                     include_stat: bool = False) -> Children:
        """The names of the node's children (in the server's order), or with
        `include_stat` a (names, parent stat) pair.

        `watcher(event)` fires once when a child is added or removed, or the
        node is deleted. Raises NoNodeException if there is no node.
        """
        return self._drive(ops.get_children(self, path, watcher, include_stat))

    def get_acl(self, path: str) -> Tuple[List[ACL], Stat]:
        """(acl list, stat) of the node. Raises NoNodeException."""
        return self._drive(ops.get_acl(self, path))

    def sync(self, path: str = "/") -> str:
        """Wait until the server this client is on has caught up with the
        leader, so a following read sees every write committed before; returns `path`."""
        return self._drive(ops.sync(self, path))

    def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """Paths of this session's ephemeral nodes at or under `prefix` (server 3.6+)."""
        return self._drive(ops.get_ephemerals(self, prefix))

    def get_all_children_number(self, path: str) -> int:
        """How many nodes there are below `path`, at any depth (server 3.6+)."""
        return self._drive(ops.get_all_children_number(self, path))

    def whoami(self) -> List[ClientInfo]:
        """The identities the server gave this session (servers 3.7+), each
        a ClientInfo(auth_scheme, user): ("ip", "127.0.0.1") always, and
        ("digest", "app"), ("sasl", "bob@REALM"), ("x509", "CN=app") or
        ("super", "") as it authenticated; for telling why an ACL refuses.
        Raises UnimplementedException on older servers."""
        return self._drive(ops.whoami(self))

    def check_watches(self, path: str, kind: str = "any") -> bool:
        """Whether the server still holds a watch of this session on `path`:
        `kind` "data" (get/exists), "child" or "any". A one-shot watch that
        fired is gone (False); the client re-arms its watches after a
        reconnect, so a held one is True again once connected."""
        return self._drive(ops.check_watches(self, path, kind))

    def read_transaction(self) -> ReadTransaction:
        """A ReadTransaction: queue get/get_children, then commit() them to be
        answered from one point of the server's history (servers 3.6+)."""
        return ReadTransaction(self)

    # -- the ensemble's configuration ------------------------------------------------

    def get_config(self, watcher: Optional[Watcher] = None) -> Tuple[bytes, Stat]:
        """The ensemble's dynamic configuration (the node /zookeeper/config,
        read outside any chroot) and its Stat; `pykeeper.parse_config` turns
        it into members. `watcher(event)` is called once, at its next change."""
        return self._drive(ops.get_config(self, watcher))

    def reconfig(self, joining: Union[str, Sequence[str], None] = None,
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
        ValueError/TypeError for arguments that cannot be sent."""
        return self._drive(ops.reconfig(self, joining, leaving, new_members, from_config))

    # -- persistent watches and watch removal -----------------------------------------

    def add_watch(self, path: str, watcher: Watcher, recursive: bool = False) -> None:
        """Arm a persistent watch on `path` (server 3.6+).

        `watcher(event)` is called for every change of the node (created,
        changed, deleted, child added or removed) until the watch is removed;
        with `recursive`, for every created/changed/deleted node at or
        below `path` (not for child-list changes). The watch survives
        reconnects; it ends with the session. Raises UnimplementedException
        on servers older than 3.6.
        """
        self._drive(ops.add_watch(self, path, watcher, recursive))

    def remove_watches(self, path: str, watcher: Optional[Watcher] = None,
                       kind: str = "any") -> None:
        """Remove `watcher` (or every watcher) of `kind` from `path`.

        `kind` is "data" (get/exists watchers), "child", "persistent",
        "recursive" or "any". Each removed watcher is called once more with
        a *_watch_removed event. The server is told once no watcher of
        that kind is left on the path. Raises NoWatcherException if nothing
        matched.
        """
        removed, requests = self._remove_locally(path, watcher, kind)
        try:
            self._drive(ops.remove_watches_on_server(requests))
        finally:
            # Told before returning (so inline watchers have seen it), and
            # even if the server could not be told: they are out of the table.
            self._tell_removed(path, removed)

    def remove_watches_async(self, path: str, watcher: Optional[Watcher] = None,
                             kind: str = "any") -> "Future[None]":
        """Like remove_watches(), but returns at once a Future of its end.
        The watchers are out of the client's table when it returns."""
        removed, requests = self._remove_locally(path, watcher, kind)
        try:
            done = ops.drive_future(ops.remove_watches_on_server(requests), self._send)
        except BaseException:
            self._tell_removed(path, removed)  # they are out of the table all the same
            raise
        done.add_done_callback(lambda _: self._tell_removed(path, removed))
        return done

    def _remove_locally(self, path: str, watcher: Any,
                        kind: str) -> Tuple[List[Tuple[Any, int]], List[rq.RemoveWatches]]:
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")
        taken: Tuple[List[Tuple[Any, int]], List[rq.RemoveWatches]] = connection.locked(
            lambda protocol: ops.take_watches(protocol, path, watcher, kind))
        return taken

    def is_ephemeral(self, path: str, cache: bool = False) -> bool:
        """True if the node at `path` is ephemeral (with `cache`: read through
        cached_get). Raises NoNodeException."""
        if cache:
            return bool(self.cached_get(path)[1].ephemeralOwner)
        return self._drive(ops.is_ephemeral(self, path))

    # -- writes --------------------------------------------------------------------

    def create(self, path: str, value: Data = b"", acl: Optional[ACLs] = None, flags: int = 0, *,
               ephemeral: bool = False, sequence: bool = False, container: bool = False,
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
        return self._drive(ops.create(self, path, value, acl, flags, ephemeral=ephemeral,
                                         sequence=sequence, container=container, ttl=ttl))

    def create2(self, path: str, value: Data = b"", acl: Optional[ACLs] = None, flags: int = 0, *,
                ephemeral: bool = False, sequence: bool = False, container: bool = False,
                ttl: Optional[int] = None) -> Tuple[str, Stat]:
        """Like create(), but returns (path, stat of the new node)."""
        return self._drive(ops.create2(self, path, value, acl, flags, ephemeral=ephemeral,
                                          sequence=sequence, container=container, ttl=ttl))

    def set(self, path: str, value: Data, version: int = -1) -> Stat:
        """Replace the node's data; returns its new Stat.

        With `version` >= 0 the write happens only if the node is at that
        version (else BadVersionException). Raises NoNodeException.
        """
        return self._drive(ops.set_data(self, path, value, version))

    def set2(self, path: str, value: Data, version: int = -1) -> Stat:
        """The original API's name for set(): returns the new Stat."""
        return self.set(path, value, version)

    def delete(self, path: str, version: int = -1) -> None:
        """Delete the node. Raises NoNodeException, NotEmptyException,
        BadVersionException (when `version` >= 0 does not match)."""
        self._drive(ops.delete(self, path, version))

    def set_acl(self, path: str, acl: Union[ACLs, int],
                version: Union[int, ACLs] = -1) -> Stat:
        """Replace the node's ACL; returns its new Stat.

        The original argument order set_acl(path, version, acl) works too.
        Raises NoNodeException, BadVersionException, InvalidACLException.
        """
        return self._drive(ops.set_acl(self, path, acl, version))

    def add_auth(self, scheme: str, credential: Union[str, bytes]) -> None:
        """Add credentials to this connection (e.g. "digest", "user:password").

        They are re-sent on every reconnect. Raises AuthFailedException if
        the server refuses them (the client then stops: state auth_failed).
        """
        self._drive(ops.add_auth(self, scheme, credential))

    def transaction(self) -> Transaction:
        """A Transaction: queue create/delete/set_data/check, then commit()
        them atomically. Usable as a context manager (commits on exit)."""
        return Transaction(self)

    multi = transaction

    # -- helpers ----------------------------------------------------------------------

    def create_recursive(self, path: str, value: Data = b"", acl: Optional[ACLs] = None) -> str:
        """Create `path` with `value`, creating missing parents (empty) first.

        Parents that exist, or that another client creates meanwhile, are
        fine. Returns the path. Raises NodeExistsException if the node
        itself already exists.
        """
        return self._drive(ops.create_recursive(self, path, value, acl))

    def delete_recursive(self, path: str, dry_run: bool = False,
                         force: bool = False) -> List[str]:
        """Delete `path` and everything below it, deepest first.

        Ephemeral nodes (and so their ancestors) are left alone unless
        `force`. With `dry_run`, nothing is deleted. Returns the paths
        deleted (or that would be). Children created concurrently are
        deleted too.
        """
        return self._drive(ops.delete_recursive(self, path, dry_run, force))

    # -- caches and watch helpers (issue 5) --------------------------------------------
    # Thin delegations to pykeeper.clients.cache, pykeeper.clients.treecache, pykeeper.clients.watchers.

    _node_cache: Optional["NodeCache"] = None

    @property
    def node_cache(self) -> "NodeCache":
        """The cache behind cached_get/cached_get_children/cached_exists
        (`.max_entries`, `.stats()`, `.clear()`); made on first use."""
        cache = self._node_cache
        if cache is None:
            from .cache import NodeCache
            with self._lock:
                cache = self._node_cache
                if cache is None:
                    cache = self._node_cache = NodeCache(self)
            self.add_listener(cache.on_state)
        return cache

    def cached_get(self, path: str) -> Tuple[bytes, Stat]:
        """get(path), answered from memory until a watch says the node
        changed. Raises NoNodeException (cached too) if there is no node."""
        cache = self._node_cache  # (not `or`: an empty cache is falsy)
        return (cache if cache is not None else self.node_cache).get(path)

    def cached_get_children(self, path: str) -> List[str]:
        """get_children(path), answered from memory until a watch says the
        children changed. Raises NoNodeException (cached too)."""
        cache = self._node_cache  # (not `or`: an empty cache is falsy)
        return (cache if cache is not None else self.node_cache).get_children(path)

    def cached_exists(self, path: str) -> Optional[Stat]:
        """exists(path), answered from memory until a watch says the node
        was created, changed or deleted."""
        cache = self._node_cache  # (not `or`: an empty cache is falsy)
        return (cache if cache is not None else self.node_cache).exists(path)

    def cache_clear(self, path: Optional[str] = None) -> None:
        """Drop the cached answers (of `path`, or all). Never needed for
        correctness: entries are dropped when their watch fires."""
        self.node_cache.clear(path)

    def tree_cache(self, path: str, listener: Optional[Callable[..., Any]] = None, *,
                   timeout: Optional[float] = 30.0, **options: Any) -> "TreeCache":
        """A started TreeCache of the subtree at `path`, initialized (waits
        at most `timeout` seconds, else TimeoutException). `listener`, if
        given, is added before it starts, so it sees every node "added"."""
        from .treecache import TreeCache
        tree = TreeCache(self, path, **options)
        if listener is not None:
            tree.add_listener(listener)
        tree.start()
        if not tree.wait_initialized(timeout):
            tree.close()
            raise TimeoutException(f"tree cache of {path} not initialized within {timeout} s")
        return tree

    def data_watch(self, path: str, func: Optional[Callable[..., Any]] = None) -> "DataWatch":
        """DataWatch(self, path, func): func(data, stat) now and on every change."""
        from .watchers import DataWatch
        return DataWatch(self, path, func)

    def children_watch(self, path: str,
                       func: Optional[Callable[..., Any]] = None) -> "ChildrenWatch":
        """ChildrenWatch(self, path, func): func(children) now and on every change."""
        from .watchers import ChildrenWatch
        return ChildrenWatch(self, path, func)

    def _run_on_event_thread(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue fn(*args) on the event thread (False if the client is closed)."""
        return self.call_soon(fn, *args)

    # -- the helper interface (pykeeper.core.steps.HelperClient) ------------------------------

    def start_operation(self, op: ops.Operation[Any],
                        future: Optional["Future[Any]"] = None) -> "Future[Any]":
        """Send the operation's first request now (raises if it cannot be
        sent); a Future of its answer (`future`, if given: callbacks
        attached to it first run on the I/O thread, in reply order, even
        for a reply that comes at once). Blocks only while 1,000 requests
        await replies. For helpers (pykeeper.core.steps)."""
        return ops.drive_future(op, self._send, future)

    def run_operation(self, op: ops.Operation[T]) -> T:
        """Drive the operation to its answer in the calling thread, never
        under the client's retry policy; blocks for its round trips (the
        caller reads its own reply when no other is awaited, as a blocking
        call does). For helpers (pykeeper.core.steps)."""
        return self._drive(op, self._call_once)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue fn(*args) on the event thread; False if the client is
        closed. Never blocks. For helpers (pykeeper.core.steps)."""
        events = self._events
        return events is not None and events.put(fn, *args)

    # -- the future twins ----------------------------------------------------------------

    # BEGIN GENERATED by tools/gen_surface.py from the sync client's methods: do not edit.
    def exists_async(self, path: str, watcher: Optional[Watcher] = None) -> Future[Optional[Stat]]:
        """Like exists(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.exists(self, path, watcher), self._send)

    def get_async(self, path: str,
                  watcher: Optional[Watcher] = None) -> Future[Tuple[bytes, Stat]]:
        """Like get(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
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
        """Like get_children(), but returns at once a concurrent.futures.Future of its result (or
        of the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.get_children(self, path, watcher, include_stat), self._send)

    def get_acl_async(self, path: str) -> Future[Tuple[List[ACL], Stat]]:
        """Like get_acl(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.get_acl(self, path), self._send)

    def sync_async(self, path: str = "/") -> Future[str]:
        """Like sync(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.sync(self, path), self._send)

    def get_ephemerals_async(self, prefix: str = "/") -> Future[List[str]]:
        """Like get_ephemerals(), but returns at once a concurrent.futures.Future of its result (or
        of the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.get_ephemerals(self, prefix), self._send)

    def get_all_children_number_async(self, path: str) -> Future[int]:
        """Like get_all_children_number(), but returns at once a concurrent.futures.Future of its
        result (or of the exception it raises). Many calls may be in flight on the one
        connection; replies come in call order. Bad arguments, and a client that is not
        connected, raise here. Callbacks added to the future run on the I/O thread: keep them
        short, never block in them.
        """
        return ops.drive_future(ops.get_all_children_number(self, path), self._send)

    def is_ephemeral_async(self, path: str) -> Future[bool]:
        """Like is_ephemeral(), but returns at once a concurrent.futures.Future of its result (or
        of the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.is_ephemeral(self, path), self._send)

    def add_watch_async(self, path: str, watcher: Watcher,
                        recursive: bool = False) -> Future[None]:
        """Like add_watch(), but returns at once a concurrent.futures.Future of its result (or of
        the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.add_watch(self, path, watcher, recursive), self._send)

    def create_async(self, path: str, value: Data = b"", acl: Optional[ACLs] = None, flags: int = 0,
                     *, ephemeral: bool = False, sequence: bool = False, container: bool = False,
                     ttl: Optional[int] = None) -> Future[str]:
        """Like create(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.create(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl), self._send)

    def create2_async(self, path: str, value: Data = b"", acl: Optional[ACLs] = None,
                      flags: int = 0, *, ephemeral: bool = False, sequence: bool = False,
                      container: bool = False,
                      ttl: Optional[int] = None) -> Future[Tuple[str, Stat]]:
        """Like create2(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.create2(self, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence, container=container, ttl=ttl), self._send)

    def set_async(self, path: str, value: Data, version: int = -1) -> Future[Stat]:
        """Like set(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.set_data(self, path, value, version), self._send)

    def whoami_async(self) -> Future[List[ClientInfo]]:
        """Like whoami(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.whoami(self), self._send)

    def check_watches_async(self, path: str, kind: str = "any") -> Future[bool]:
        """Like check_watches(), but returns at once a concurrent.futures.Future of its result (or
        of the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.check_watches(self, path, kind), self._send)

    def get_config_async(self, watcher: Optional[Watcher] = None) -> Future[Tuple[bytes, Stat]]:
        """Like get_config(), but returns at once a concurrent.futures.Future of its result (or of
        the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.get_config(self, watcher), self._send)

    def reconfig_async(self, joining: Union[str, Sequence[str], None] = None,
                       leaving: Union[str, int, Sequence[Union[str, int]], None] = None,
                       new_members: Union[str, Sequence[str], None] = None,
                       from_config: int = -1) -> Future[Tuple[bytes, Stat]]:
        """Like reconfig(), but returns at once a concurrent.futures.Future of its result (or of
        the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.reconfig(self, joining, leaving, new_members, from_config), self._send)

    def delete_async(self, path: str, version: int = -1) -> Future[None]:
        """Like delete(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.delete(self, path, version), self._send)

    def set_acl_async(self, path: str, acl: Union[ACLs, int],
                      version: Union[int, ACLs] = -1) -> Future[Stat]:
        """Like set_acl(), but returns at once a concurrent.futures.Future of its result (or of the
        exception it raises). Many calls may be in flight on the one connection; replies come in
        call order. Bad arguments, and a client that is not connected, raise here. Callbacks
        added to the future run on the I/O thread: keep them short, never block in them.
        """
        return ops.drive_future(ops.set_acl(self, path, acl, version), self._send)

    def add_auth_async(self, scheme: str, credential: Union[str, bytes]) -> Future[None]:
        """Like add_auth(), but returns at once a concurrent.futures.Future of its result (or of
        the exception it raises). Many calls may be in flight on the one connection; replies
        come in call order. Bad arguments, and a client that is not connected, raise here.
        Callbacks added to the future run on the I/O thread: keep them short, never block in
        them.
        """
        return ops.drive_future(ops.add_auth(self, scheme, credential), self._send)

    def create_recursive_async(self, path: str, value: Data = b"",
                               acl: Optional[ACLs] = None) -> Future[str]:
        """Like create_recursive(), but returns at once a concurrent.futures.Future of its result
        (or of the exception it raises). Many calls may be in flight on the one connection;
        replies come in call order. Bad arguments, and a client that is not connected, raise
        here. Callbacks added to the future run on the I/O thread: keep them short, never block
        in them.
        """
        return ops.drive_future(ops.create_recursive(self, path, value, acl), self._send)

    def delete_recursive_async(self, path: str, dry_run: bool = False,
                               force: bool = False) -> Future[List[str]]:
        """Like delete_recursive(), but returns at once a concurrent.futures.Future of its result
        (or of the exception it raises). Many calls may be in flight on the one connection;
        replies come in call order. Bad arguments, and a client that is not connected, raise
        here. Callbacks added to the future run on the I/O thread: keep them short, never block
        in them.
        """
        return ops.drive_future(ops.delete_recursive(self, path, dry_run, force), self._send)
    # END GENERATED
