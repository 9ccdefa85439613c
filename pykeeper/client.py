"""`pykeeper.ZooKeeper`: the synchronous, thread-safe client."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from enum import Enum
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

from . import recursive, retried_writes
from .events import EventThread, Multicast
from .hosts import parse_hosts
from .paths import DEFAULT_MAX_DATA, check_version, to_bytes, validate_path
from .protocol import requests as rq
from .protocol.connection import ClientProtocol, Connected, Notification, SessionExpired
from .protocol.watches import KINDS
from .protocol.errors import (
    AuthFailedException, ClientClosedException, NoNodeException, NoWatcherException,
    SessionExpiredException, TimeoutException, UnimplementedException,
)
from .retry import RetryPolicy, current_attempt, run_with_retry
from .protocol.records import (
    ACL, OPEN_ACL_UNSAFE, CreateFlags, EventType, Id, KeeperState, Stat, WatchedEvent,
    WatcherType,
)
from .threaded import ThreadedConnection, resolve
from .transaction import Transaction

log = logging.getLogger("pykeeper")

Watcher = Callable[[WatchedEvent], Any]
Data = Union[bytes, bytearray, memoryview, str, None]

# Flag bits of create(), as the official binding numbered them.
EPHEMERAL = CreateFlags.EPHEMERAL
SEQUENCE = CreateFlags.SEQUENTIAL


class State(str, Enum):
    """The client's connection state; each compares equal to its name."""

    CONNECTING = "connecting"
    ASSOCIATING = "associating"
    CONNECTED = "connected"
    CONNECTED_READONLY = "connected_readonly"
    AUTH_FAILED = "auth_failed"
    EXPIRED_SESSION = "expired_session"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


_CONNECTED_STATES = (State.CONNECTED, State.CONNECTED_READONLY)
_STATE_TO_KEEPER = {
    State.CONNECTING: KeeperState.DISCONNECTED,
    State.ASSOCIATING: KeeperState.DISCONNECTED,
    State.CONNECTED: KeeperState.SYNC_CONNECTED,
    State.CONNECTED_READONLY: KeeperState.CONNECTED_READ_ONLY,
    State.AUTH_FAILED: KeeperState.AUTH_FAILED,
    State.EXPIRED_SESSION: KeeperState.EXPIRED,
    State.CLOSED: KeeperState.CLOSED,
}


def _acl_list(acl: Optional[Iterable[Any]]) -> List[ACL]:
    """ACL entries from ACL tuples or the original binding's dicts."""
    if acl is None:
        return list(OPEN_ACL_UNSAFE)
    if isinstance(acl, (ACL, dict)):
        acl = [acl]
    out = []
    for entry in acl:
        if isinstance(entry, ACL):
            out.append(entry)
        elif isinstance(entry, dict) and {"perms", "scheme", "id"} <= set(entry):
            out.append(ACL(int(entry["perms"]), Id(str(entry["scheme"]), str(entry["id"]))))
        else:
            raise TypeError(f"ACL entries must be pykeeper.ACL or dicts with perms/scheme/id, "
                            f"not {entry!r}")
    if not out:
        raise ValueError("an ACL list must not be empty")
    return out


def _check_watcher(watcher: Any) -> None:
    if watcher is not None and not callable(watcher):
        raise TypeError(f"watcher must be callable, not {type(watcher).__name__}")


# remove_watches kinds: (client watch tables, server WatcherType, removal event type).
_REMOVABLE = {
    "data": [(("data", "exist"), WatcherType.DATA, EventType.DATA_WATCH_REMOVED)],
    "child": [(("child",), WatcherType.CHILDREN, EventType.CHILD_WATCH_REMOVED)],
    "persistent": [(("persistent",), WatcherType.PERSISTENT,
                    EventType.PERSISTENT_WATCH_REMOVED)],
    "recursive": [(("recursive",), WatcherType.PERSISTENT_RECURSIVE,
                   EventType.PERSISTENT_WATCH_REMOVED)],
}
_REMOVABLE["any"] = [group for groups in list(_REMOVABLE.values()) for group in groups]


class ZooKeeper:
    """A ZooKeeper client.

    Thread safety: every method may be called from any thread at once.
    Calls that talk to the server block the calling thread until the reply
    arrives; since a connection that stops answering is dropped after 2/3
    of the session timeout (failing its calls with
    ConnectionLossException), no call blocks longer than that. Watchers
    and listeners run on the client's own event thread and may call the
    client.

    `hosts` is "host:port[,host:port...][/chroot]". `session_timeout` is in
    seconds (the server bounds it). With `reconnect` (the default) a new
    session is made after the old one expires; connection drops are always
    recovered from within the session.
    """

    def __init__(self, hosts: str = "127.0.0.1:2181", reconnect: bool = True, *,
                 session_timeout: float = 10.0, connect_timeout: Optional[float] = None,
                 max_data_size: int = DEFAULT_MAX_DATA, can_be_read_only: bool = False,
                 close_timeout: float = 5.0, retry: Optional[RetryPolicy] = None) -> None:
        self.addresses, self.chroot = parse_hosts(hosts)
        if session_timeout <= 0:
            raise ValueError(f"session_timeout must be positive seconds, not {session_timeout}")
        self.servers = hosts
        self.hosts = hosts
        self.reconnect = reconnect
        self.session_timeout = float(session_timeout)
        self.connect_timeout = (connect_timeout if connect_timeout is not None
                                else max(0.5, self.session_timeout / max(1, len(self.addresses))))
        self.max_data_size = max_data_size
        self.can_be_read_only = can_be_read_only
        self.close_timeout = close_timeout
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a pykeeper.RetryPolicy, not {type(retry).__name__}")
        self.retry_policy = retry

        self.on_state = Multicast()
        self.on_event = Multicast()
        self._listeners: List[Callable[[State], Any]] = []

        self._lock = threading.Lock()
        self._state_changed = threading.Condition(self._lock)
        self._state = State.CLOSED
        self._connection: Optional[ThreadedConnection] = None
        self._protocol: Optional[ClientProtocol] = None
        self._events: Optional[EventThread] = None
        self._auth: List[Tuple[str, bytes]] = []

    # -- lifecycle -------------------------------------------------------------

    def connect(self, timeout: Optional[float] = 15.0) -> None:
        """Start the client and wait until it has a session.

        Blocks at most `timeout` seconds (None: until connected). Raises
        TimeoutException, after closing the client again, when no server
        gave a session in time. Calling it on a connected client does nothing.
        """
        with self._lock:
            stale = self._connection is not None and not self._connection.alive
        if stale:
            # The previous connection gave up (auth failed, or the session
            # expired with reconnect off): start over with a new one.
            self.close()
        with self._lock:
            if self._connection is None:
                self._protocol = ClientProtocol(
                    int(self.session_timeout * 1000), self.chroot, self.can_be_read_only)
                self._events = EventThread()
                self._connection = ThreadedConnection(
                    self.addresses, self._protocol, self, self.connect_timeout, self.reconnect)
                self._set_state_locked(State.CONNECTING)
                self._connection.start()
        try:
            self.wait_until_connected(timeout)
        except TimeoutException:
            self.close()
            raise TimeoutException(
                f"no ZooKeeper server at {self.hosts} gave a session within {timeout} s")

    def close(self, timeout: Optional[float] = None) -> None:
        """End the session and stop the client's threads.

        Requests already sent get their replies first. Blocks at most
        `timeout` seconds (default: the client's close_timeout, 5 s).
        Idempotent; the client may be connect()ed again afterwards.
        """
        timeout = self.close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
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

    def __repr__(self) -> str:
        return f"<pykeeper.ZooKeeper {self.hosts!r} {self.state_name} at 0x{id(self):x}>"

    # -- state -------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The connection state (a `State`, equal to its name string)."""
        return self._state

    @property
    def state_name(self) -> str:
        """The connection state as a string: connecting, associating, connected,
        connected_readonly, auth_failed, expired_session or closed."""
        return self._state.value

    @property
    def connected(self) -> bool:
        return self._state in _CONNECTED_STATES

    @property
    def client_id(self) -> Optional[Tuple[int, bytes]]:
        """(session id, session password) of the current session, or None."""
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
        """The newest transaction id this client has seen (0 before any)."""
        protocol = self._protocol
        return protocol.last_zxid if protocol else 0

    @property
    def current_server(self) -> Optional[str]:
        """"host:port" of the server the client is connected to, or None."""
        connection = self._connection
        if connection is None or self._state not in _CONNECTED_STATES:
            return None
        address = connection.address
        return str(address) if address is not None else None

    @property
    def negotiated_session_timeout(self) -> Optional[float]:
        """The session timeout the server granted, in seconds."""
        protocol = self._protocol
        if protocol is None or not protocol.negotiated_timeout_ms:
            return None
        return protocol.negotiated_timeout_ms / 1000.0

    def wait_until_connected(self, timeout: Optional[float] = None) -> None:
        """Block until the client is connected (read-write or read-only).

        Raises TimeoutException after `timeout` seconds (None: wait forever),
        and ClientClosedException or the final error (session expired,
        auth failed) if the client stops trying.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state_changed:
            while self._state not in _CONNECTED_STATES:
                if self._connection is None:
                    raise ClientClosedException("the client is not started: call connect()")
                if self._state == State.AUTH_FAILED:
                    raise AuthFailedException("authentication failed; the client stopped")
                if self._state == State.EXPIRED_SESSION and not self.reconnect:
                    raise SessionExpiredException("the session expired and reconnect is off")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutException(
                        f"not connected after {timeout} s (state {self._state.value})")
                self._state_changed.wait(remaining)

    def add_listener(self, listener: Callable[[State], Any]) -> None:
        """Call `listener(state)` on every state change, on the event thread."""
        if not callable(listener):
            raise TypeError(f"{listener!r} is not callable")
        with self._lock:
            if listener not in self._listeners:
                self._listeners = self._listeners + [listener]

    def remove_listener(self, listener: Callable[[State], Any]) -> None:
        with self._lock:
            self._listeners = [fn for fn in self._listeners if fn != listener]

    def _set_state_locked(self, state: State) -> None:
        if state == self._state:
            return
        self._state = state
        self._state_changed.notify_all()
        events = self._events
        if events is not None:
            events.put(self._announce_state, state, list(self._listeners))

    def _announce_state(self, state: State, listeners: List[Callable[[State], Any]]) -> None:
        for listener in listeners:
            try:
                listener(state)
            except Exception:
                log.exception("state listener %r raised", listener)
        self.on_state(self, state.value)

    # Handler callbacks, called by the driver on its I/O thread.

    def on_connecting(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._set_state_locked(State.CONNECTING)

    def on_associating(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._set_state_locked(State.ASSOCIATING)

    def on_connected(self, event: Connected) -> None:
        with self._lock:
            self._set_state_locked(
                State.CONNECTED_READONLY if event.read_only else State.CONNECTED)
        self._deliver(WatchedEvent(EventType.NONE, _STATE_TO_KEEPER[self._state], None), [])

    def on_disconnected(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._set_state_locked(State.CONNECTING)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, None), [])

    def on_session_expired(self, event: SessionExpired) -> None:
        with self._lock:
            self._set_state_locked(State.EXPIRED_SESSION)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.EXPIRED, None), event.watchers)

    def on_notification(self, event: Notification) -> None:
        self._deliver(event.event, event.watchers)

    def on_auth_failed(self) -> None:
        with self._lock:
            self._set_state_locked(State.AUTH_FAILED)
        self._deliver(WatchedEvent(EventType.NONE, KeeperState.AUTH_FAILED, None), [])

    def on_closed(self) -> None:
        with self._lock:
            if self._state not in (State.AUTH_FAILED, State.EXPIRED_SESSION):
                self._set_state_locked(State.CLOSED)
            else:
                self._state_changed.notify_all()

    def _deliver(self, event: WatchedEvent, watchers: List[Any]) -> None:
        # Inline watchers (pykeeper's own caches) run right here, on the I/O
        # thread, so no read can see a cache entry the server already
        # invalidated; they only update memory and never block.
        queued = []
        for watcher in watchers:
            if getattr(watcher, "inline", False):
                try:
                    watcher(event)
                except Exception:
                    log.exception("inline watcher %r raised for %r", watcher, event)
            else:
                queued.append(watcher)
        events = self._events
        if events is not None:
            events.put(self._run_watchers, event, queued)

    def _run_watchers(self, event: WatchedEvent, watchers: List[Any]) -> None:
        for watcher in watchers:
            try:
                watcher(event)
            except Exception:
                log.exception("watcher %r raised for %r", watcher, event)
        self.on_event(event)

    # -- sending ----------------------------------------------------------------

    def _send(self, request: rq.Request) -> "Future[Any]":
        connection = self._connection
        if connection is None:
            raise ClientClosedException(
                "the client is not connected: call connect() first")
        return connection.send(request)

    def _call(self, request: rq.Request) -> Any:
        policy = self.retry_policy
        if policy is not None and request.idempotent and current_attempt() is None:
            return run_with_retry(policy, self.wait_until_connected, self._call_once, request)
        return self._send(request).result()

    def _send_mapped(self, request: rq.Request, fn: Callable[[Future], Any]) -> "Future[Any]":
        """A future of `fn(reply future)`: fn returns the result or raises."""
        inner = self._send(request)
        outer: Future = Future()

        def done(f: Future) -> None:
            try:
                result = fn(f)
            except BaseException as exc:
                resolve(outer, error=exc)
            else:
                resolve(outer, result)

        inner.add_done_callback(done)
        return outer

    def _call_once(self, request: rq.Request) -> Any:
        return self._send(request).result()

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
        validate_path(path)
        _check_watcher(watcher)
        try:
            return self._call(rq.Exists(path, watcher))
        except NoNodeException:
            return None

    def get(self, path: str, watcher: Optional[Watcher] = None) -> Tuple[bytes, Stat]:
        """(data, stat) of the node at `path`.

        `watcher(event)` fires once when the node changes or is deleted.
        Raises NoNodeException if there is no node.
        """
        validate_path(path)
        _check_watcher(watcher)
        return self._call(rq.GetData(path, watcher))

    def get_children(self, path: str, watcher: Optional[Watcher] = None,
                     include_stat: bool = False) -> Any:
        """The names of the node's children (in the server's order), or with
        `include_stat` a (names, parent stat) pair.

        `watcher(event)` fires once when a child is added or removed, or the
        node is deleted. Raises NoNodeException if there is no node.
        """
        validate_path(path)
        _check_watcher(watcher)
        children, stat = self._call(rq.GetChildren(path, watcher))
        return (children, stat) if include_stat else children

    def get_async(self, path: str, watcher: Optional[Watcher] = None) -> "Future[Tuple[bytes, Stat]]":
        """Send get() and return at once: a Future of (data, stat).

        Many calls may be in flight at once on the one connection; replies
        come in the order the calls were made. The future fails with the
        same exceptions get() raises. Callbacks added to it run on the
        I/O thread: keep them short and do not block in them.
        """
        validate_path(path)
        _check_watcher(watcher)
        return self._send(rq.GetData(path, watcher))

    def get_children_async(self, path: str, watcher: Optional[Watcher] = None,
                           include_stat: bool = False) -> "Future[Any]":
        """Send get_children() and return at once: a Future of its result."""
        validate_path(path)
        _check_watcher(watcher)
        if include_stat:
            return self._send(rq.GetChildren(path, watcher))
        return self._send_mapped(rq.GetChildren(path, watcher), lambda f: f.result()[0])

    def exists_async(self, path: str, watcher: Optional[Watcher] = None) -> "Future[Optional[Stat]]":
        """Send exists() and return at once: a Future of the Stat or None."""
        validate_path(path)
        _check_watcher(watcher)

        def stat_or_none(f: Future) -> Optional[Stat]:
            try:
                return f.result()
            except NoNodeException:
                return None

        return self._send_mapped(rq.Exists(path, watcher), stat_or_none)

    def get_acl(self, path: str) -> Tuple[List[ACL], Stat]:
        """(acl list, stat) of the node. Raises NoNodeException."""
        validate_path(path)
        return self._call(rq.GetACL(path))

    def sync(self, path: str = "/") -> str:
        """Wait until the server this client is on has caught up with the
        leader, so a following read sees every write committed before; returns `path`."""
        validate_path(path)
        return self._call(rq.Sync(path))

    def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """Paths of this session's ephemeral nodes at or under `prefix` (server 3.6+)."""
        validate_path(prefix)
        return self._call(rq.GetEphemerals(prefix))

    def get_all_children_number(self, path: str) -> int:
        """How many nodes there are below `path`, at any depth (server 3.6+)."""
        validate_path(path)
        return self._call(rq.GetAllChildrenNumber(path))

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
        validate_path(path)
        if not callable(watcher):
            raise TypeError(f"watcher must be callable, not {type(watcher).__name__}")
        try:
            self._call(rq.AddWatch(path, watcher, recursive))
        except UnimplementedException:
            raise UnimplementedException(
                "persistent watches need a ZooKeeper server 3.6 or newer", path) from None

    def remove_watches(self, path: str, watcher: Optional[Watcher] = None,
                       kind: str = "any") -> None:
        """Remove `watcher` (or every watcher) of `kind` from `path`.

        `kind` is "data" (get/exists watchers), "child", "persistent",
        "recursive" or "any". Each removed watcher is called once more with
        a *_watch_removed event. The server is told once no watcher of
        that kind is left on the path. Raises NoWatcherException if nothing
        matched.
        """
        validate_path(path)
        groups = _REMOVABLE.get(kind)
        if groups is None:
            raise ValueError(f"kind must be one of {', '.join(_REMOVABLE)}, not {kind!r}")
        connection = self._connection
        if connection is None:
            raise ClientClosedException("the client is not connected: call connect() first")

        def take(protocol: ClientProtocol) -> Tuple[List[Tuple[Any, int]], List[int]]:
            removed: List[Tuple[Any, int]] = []
            emptied: List[int] = []
            for tables, server_type, event_type in groups:
                gone = [w for table in tables
                        for w in protocol.watches.remove(table, path, watcher)]
                if gone:
                    removed.extend((w, event_type) for w in gone)
                    if not any(protocol.watches.has(table, path) for table in tables):
                        emptied.append(server_type)
            if any(t in (WatcherType.PERSISTENT, WatcherType.PERSISTENT_RECURSIVE)
                   for t in emptied):
                # Servers up to 3.8 refuse the persistent watcher types here
                # (MarshallingError) and remove persistent watches only with
                # ANY, which would take the path's other watches too: send it
                # only when the client has nothing else armed on the path. A
                # persistent watch left on the server just sends events no
                # watcher receives, until the session ends.
                emptied = [t for t in emptied if t in (WatcherType.DATA, WatcherType.CHILDREN)]
                if not any(protocol.watches.has(kind, path) for kind in KINDS):
                    emptied = [WatcherType.ANY]
            return removed, emptied

        removed, emptied = connection.locked(take)
        if not removed:
            raise NoWatcherException(path=path)
        for server_type in emptied:
            try:
                self._call(rq.RemoveWatches(path, server_type))
            except NoWatcherException:
                pass  # it fired on the server meanwhile: gone all the same
        for w, event_type in removed:
            self._deliver(WatchedEvent(event_type, KeeperState.SYNC_CONNECTED, path), [w])

    def is_ephemeral(self, path: str, cache: bool = False) -> bool:
        """True if the node at `path` is ephemeral. Raises NoNodeException."""
        return bool(self.get(path)[1].ephemeralOwner)

    # -- writes --------------------------------------------------------------------

    def _create_request(self, path: str, value: Data, acl: Any, flags: int, ephemeral: bool,
                        sequence: bool, container: bool, ttl: Optional[int]) -> rq.Create:
        if isinstance(flags, bool) or not isinstance(flags, int) or flags & ~3:
            raise ValueError(f"flags must be a combination of EPHEMERAL (1) and SEQUENCE (2), "
                             f"not {flags!r}")
        ephemeral = ephemeral or bool(flags & EPHEMERAL)
        sequence = sequence or bool(flags & SEQUENCE)
        validate_path(path, sequential=sequence)
        if path == "/":
            raise ValueError("cannot create the root node '/'")
        data = to_bytes(value, self.max_data_size)
        if container and (ephemeral or sequence or ttl is not None):
            raise ValueError("a container node cannot be ephemeral, sequential or have a TTL")
        if ttl is not None:
            if ephemeral:
                raise ValueError("a TTL node cannot be ephemeral")
            if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 0xFFFFFFFFFF:
                raise ValueError(f"ttl must be positive milliseconds, not {ttl!r}")
            mode = (CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL if sequence
                    else CreateFlags.PERSISTENT_WITH_TTL)
        elif container:
            mode = CreateFlags.CONTAINER
        else:
            mode = (EPHEMERAL if ephemeral else 0) | (SEQUENCE if sequence else 0)
        return rq.Create(path, data, _acl_list(acl), mode, ttl or 0)

    def create(self, path: str, value: Data = b"", acl: Any = None, flags: int = 0, *,
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
        return self.create2(path, value, acl, flags, ephemeral=ephemeral, sequence=sequence,
                            container=container, ttl=ttl)[0]

    def create2(self, path: str, value: Data = b"", acl: Any = None, flags: int = 0, *,
                ephemeral: bool = False, sequence: bool = False, container: bool = False,
                ttl: Optional[int] = None) -> Tuple[str, Stat]:
        """Like create(), but returns (path, stat of the new node)."""
        request = self._create_request(path, value, acl, flags, ephemeral, sequence,
                                       container, ttl)
        attempt = current_attempt()
        if attempt is not None:
            return retried_writes.create(self, request, attempt)
        return self._call(request)

    def set(self, path: str, value: Data, version: int = -1) -> Stat:
        """Replace the node's data; returns its new Stat.

        With `version` >= 0 the write happens only if the node is at that
        version (else BadVersionException). Raises NoNodeException.
        """
        validate_path(path)
        request = rq.SetData(path, to_bytes(value, self.max_data_size), check_version(version))
        attempt = current_attempt()
        if attempt is not None:
            return retried_writes.set_data(self, request, attempt)
        return self._call(request)

    def set2(self, path: str, value: Data, version: int = -1) -> Stat:
        """The original API's name for set(): returns the new Stat."""
        return self.set(path, value, version)

    def delete(self, path: str, version: int = -1) -> None:
        """Delete the node. Raises NoNodeException, NotEmptyException,
        BadVersionException (when `version` >= 0 does not match)."""
        validate_path(path)
        if path == "/":
            raise ValueError("cannot delete the root node '/'")
        request = rq.Delete(path, check_version(version))
        attempt = current_attempt()
        if attempt is not None:
            retried_writes.delete(self, request, attempt)
        else:
            self._call(request)

    def set_acl(self, path: str, acl: Any, version: Any = -1) -> Stat:
        """Replace the node's ACL; returns its new Stat.

        The original argument order set_acl(path, version, acl) works too.
        Raises NoNodeException, BadVersionException, InvalidACLException.
        """
        validate_path(path)
        if isinstance(acl, int) and not isinstance(acl, bool) and not isinstance(version, int):
            acl, version = version, acl
        return self._call(rq.SetACL(path, _acl_list(acl), check_version(version)))

    def add_auth(self, scheme: str, credential: Union[str, bytes]) -> None:
        """Add credentials to this connection (e.g. "digest", "user:password").

        They are re-sent on every reconnect. Raises AuthFailedException if
        the server refuses them (the client then stops: state auth_failed).
        """
        if not isinstance(scheme, str) or not scheme:
            raise TypeError("scheme must be a non-empty str such as 'digest'")
        self._call(rq.Auth(scheme, to_bytes(credential, None, "credential")))

    def transaction(self) -> Transaction:
        """A Transaction: queue create/delete/set_data/check, then commit()
        them atomically. Usable as a context manager (commits on exit)."""
        return Transaction(self)

    multi = transaction

    def _commit(self, ops: Sequence[rq.Request]) -> List[Any]:
        return self._call(rq.Multi(ops))

    # -- helpers ----------------------------------------------------------------------

    def create_recursive(self, path: str, value: Data = b"", acl: Any = None) -> str:
        """Create `path` with `value`, creating missing parents (empty) first.

        Parents that exist, or that another client creates meanwhile, are
        fine. Returns the path. Raises NodeExistsException if the node
        itself already exists.
        """
        return recursive.create_recursive(self, path, value, acl)

    def delete_recursive(self, path: str, dry_run: bool = False,
                         force: bool = False) -> List[str]:
        """Delete `path` and everything below it, deepest first.

        Ephemeral nodes (and so their ancestors) are left alone unless
        `force`. With `dry_run`, nothing is deleted. Returns the paths
        deleted (or that would be). Children created concurrently are
        deleted too.
        """
        return recursive.delete_recursive(self, path, dry_run, force)
