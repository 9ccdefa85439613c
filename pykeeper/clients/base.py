"""What the sync and the asyncio clients share: their settings, reading
their state, listeners, and the handler the driver calls (state changes
and watch delivery). Each client supplies how a state change is recorded
and announced (`_set_state`, `_wake_waiters`) and how queued watchers run
(`_dispatch`): under a lock with an event thread, or on the event loop."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from enum import Enum
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple, Union

from .events import Multicast
from ..core.fourletter import encode_word
from ..core.hosts import Address, parse_hosts
from ..core.paths import DEFAULT_MAX_DATA
from ..protocol.client_protocol import (
    DEFAULT_MAX_FRAME, ClientProtocol, Connected, Notification, SessionExpired,
)
from ..protocol.errors import (
    AuthFailedException, ClientClosedException, ConnectionLossException, SessionExpiredException,
    TimeoutException,
    ZooKeeperException,
)
from ..core import operations as ops
from ..protocol.records import ACL, EventType, KeeperState, WatchedEvent
from ..protocol.requests import Auth
from ..core.retry import RetryPolicy
from ..core.config import parse_config
from ..core.sasl import sasl_factory
from ..drivers.tls import PathArg, make_ssl_context

__all__ = [
    "CONNECTED_STATES", "STATE_TO_KEEPER", "ClientBase", "ClientEvents", "State",
]

log = logging.getLogger("pykeeper")


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


CONNECTED_STATES = (State.CONNECTED, State.CONNECTED_READONLY)
STATE_TO_KEEPER = {
    State.CONNECTING: KeeperState.DISCONNECTED,
    State.ASSOCIATING: KeeperState.DISCONNECTED,
    State.CONNECTED: KeeperState.SYNC_CONNECTED,
    State.CONNECTED_READONLY: KeeperState.CONNECTED_READ_ONLY,
    State.AUTH_FAILED: KeeperState.AUTH_FAILED,
    State.EXPIRED_SESSION: KeeperState.EXPIRED,
    State.CLOSED: KeeperState.CLOSED,
}


# An ACL argument: ACL entries (or the original binding's dicts with
# perms/scheme/id), or one of them alone.
ACLs = Union[ACL, Mapping[str, Any], Iterable[Union[ACL, Mapping[str, Any]]]]


def _checked_auth_data(auth_data: Any) -> List[Auth]:
    """kazoo's `auth_data`: (scheme, credential) pairs, checked."""
    if auth_data is None:
        return []
    if isinstance(auth_data, (str, bytes)) or not isinstance(auth_data, Iterable):
        raise TypeError(f"auth_data must be a list of (scheme, credential) pairs, "
                        f"not {type(auth_data).__name__}")
    checked = []
    for pair in auth_data:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"auth_data must be a list of (scheme, credential) pairs, "
                            f"not one of {type(pair).__name__}")
        request = ops.add_auth(None, pair[0], pair[1])
        assert isinstance(request, Auth)
        checked.append(request)
    return checked


def _check_client_id(client_id: Any) -> Optional[Tuple[int, bytes]]:
    if client_id is None:
        return None
    if (not isinstance(client_id, (tuple, list)) or len(client_id) != 2
            or isinstance(client_id[0], bool) or not isinstance(client_id[0], int)
            or not isinstance(client_id[1], (bytes, bytearray))):
        raise TypeError(f"client_id must be a (session id, password bytes) pair, as "
                        f"client_id gives it, not {type(client_id).__name__}")
    session_id, password = int(client_id[0]), bytes(client_id[1])
    if session_id <= 0 or len(password) != 16:
        raise ValueError("client_id must hold a session id > 0 and its 16-byte password")
    return session_id, password


class ClientBase:
    _public_name = "pykeeper.ZooKeeper"

    def __init__(self, hosts: str = "127.0.0.1:2181", reconnect: bool = True, *,
                 session_timeout: float = 10.0, connect_timeout: Optional[float] = None,
                 max_data_size: int = DEFAULT_MAX_DATA, can_be_read_only: bool = False,
                 close_timeout: float = 5.0, retry: Optional[RetryPolicy] = None,
                 use_ssl: Optional[bool] = None, ca: Optional[PathArg] = None,
                 certfile: Optional[PathArg] = None, keyfile: Optional[PathArg] = None,
                 keyfile_password: Optional[Union[str, bytes]] = None,
                 verify_hostname: Optional[bool] = None,
                 ssl_context: Optional[ssl.SSLContext] = None,
                 client_id: Optional[Tuple[int, bytes]] = None,
                 randomize_hosts: bool = True,
                 sasl_options: Optional[Mapping[str, Any]] = None,
                 follow_config: bool = False,
                 default_acl: Optional[ACLs] = None,
                 auth_data: Optional[Iterable[Tuple[str, Union[str, bytes]]]] = None) -> None:
        self.addresses, self.chroot = parse_hosts(hosts)
        if session_timeout <= 0:
            raise ValueError(f"session_timeout must be positive seconds, not {session_timeout}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a pykeeper.RetryPolicy, not {type(retry).__name__}")
        self.servers = hosts
        self.hosts = hosts
        self.reconnect = reconnect
        self.session_timeout = float(session_timeout)
        self.connect_timeout = (connect_timeout if connect_timeout is not None
                                else max(0.5, self.session_timeout / max(1, len(self.addresses))))
        if isinstance(max_data_size, bool) or not isinstance(max_data_size, int) \
                or max_data_size <= 0:
            raise ValueError(f"max_data_size must be a positive number of bytes (the "
                             f"server's jute.maxbuffer), not {max_data_size!r}")
        self.max_data_size = max_data_size
        self._resume_id = _check_client_id(client_id)
        self.can_be_read_only = can_be_read_only
        self.randomize_hosts = bool(randomize_hosts)
        self.close_timeout = close_timeout
        self.retry_policy = retry
        # TLS: built (and its files read) once, here, so a bad argument
        # fails the constructor; the password is not kept.
        self.ssl_context = make_ssl_context(
            use_ssl, ca=ca, certfile=certfile, keyfile=keyfile, keyfile_password=keyfile_password,
            verify_hostname=verify_hostname, ssl_context=ssl_context)
        self.use_ssl = self.ssl_context is not None
        # SASL: checked here; the credentials live in the factory only.
        self._sasl = sasl_factory(sasl_options) if sasl_options is not None else None
        self.sasl_mechanism: Optional[str] = (
            str(sasl_options["mechanism"]).upper() if sasl_options is not None else None)
        self.follow_config = bool(follow_config)
        self.default_acl: Optional[List[ACL]] = (
            None if default_acl is None else ops.acl_list(default_acl))
        self._auth_data = _checked_auth_data(auth_data)
        self._config_watch: Any = None  # (while following: the ConfigWatch)
        self._hosts_lock = threading.Lock()
        self.on_state = Multicast()
        self.on_event = Multicast()
        self._listeners: List[Callable[[State], Any]] = []
        if self.follow_config:
            self._listeners.append(self._follow_when_connected)
        self._listeners_lock = threading.Lock()
        self._state = State.CLOSED
        self._connection: Any = None
        self._protocol: Optional[ClientProtocol] = None
        self._events_for_driver = ClientEvents(self)
        self._setup()

    def _new_protocol(self) -> ClientProtocol:
        """The protocol state of a new session (or of the session given as
        `client_id`, the first time)."""
        protocol = ClientProtocol(
            int(self.session_timeout * 1000), self.chroot, self.can_be_read_only,
            max_frame=max(DEFAULT_MAX_FRAME, self.max_data_size + 64 * 1024),
            max_request=self.max_data_size, sasl=self._sasl)
        protocol.auth = list(self._auth_data)  # (sent first on every connection)
        resume, self._resume_id = self._resume_id, None
        if resume is not None:
            protocol.resume(*resume)
        return protocol

    def update_hosts(self, hosts: str) -> None:
        """Point the client at a new list of servers (the ensemble changed),
        as the Java client's updateServerList: a connected client moves off
        a server no longer listed, or onto added servers with the share
        that spreads the load evenly, its session going on; servers left
        out are never tried again. `hosts` is a connection string; its
        chroot, if it has one, must be the client's. Never blocks (the
        asyncio client's: call it on its loop). ValueError for a bad string
        or another chroot. With `follow_config=True` the client does this
        itself whenever the ensemble's configuration changes."""
        addresses, chroot = parse_hosts(hosts)
        if chroot and chroot != self.chroot:
            raise ValueError(f"the chroot cannot change (the client's is {self.chroot!r}, "
                             f"not {chroot!r})")
        with self._hosts_lock:  # (the client's list and the session's agree)
            self.addresses = addresses
            self.hosts = self.servers = ",".join(map(str, addresses)) + self.chroot
            connection = self._connection
            if connection is not None:
                connection.update_hosts(addresses)

    def _follow_when_connected(self, state: State) -> None:
        """A listener while following: (re)start the ConfigWatch once
        connected (a first read that failed is tried again then)."""
        if state not in CONNECTED_STATES:
            return
        watch = self._config_watch
        if watch is not None and not watch.stopped:
            return
        try:
            self._config_watch = self._watch_config()
        except ZooKeeperException as exc:
            log.warning("cannot follow the ensemble's configuration yet (%s): trying again "
                        "at the next connection", exc)

    def _watch_config(self) -> Any:
        raise NotImplementedError

    def _stop_following(self) -> None:
        """close() began: the ConfigWatch stops (connect() starts another)."""
        watch, self._config_watch = self._config_watch, None
        if watch is not None:
            watch.stop()

    def _follow(self, data: Optional[bytes], stat: Any) -> None:
        """The configuration changed: take its members' client addresses."""
        if not data:
            return
        try:
            config = parse_config(data)
        except ValueError as exc:
            log.warning("not following a configuration that cannot be read: %s", exc)
            return
        if any(member.client_address is None for member in config.members):
            log.warning("not following a configuration whose members do not all name a "
                        "client address (server.N=...;host:port)")
            return
        hosts = config.hosts
        if hosts and set(parse_hosts(hosts)[0]) != set(self.addresses):
            log.info("following the ensemble's configuration: %s", hosts)
            self.update_hosts(hosts)

    def __repr__(self) -> str:
        return f"<{self._public_name} {self.hosts!r} {self.state_name} at 0x{id(self):x}>"

    # -- reading the state -----------------------------------------------------

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
        return self._state in CONNECTED_STATES

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
        if connection is None or self._state not in CONNECTED_STATES:
            return None
        address = connection.address
        return str(address) if address is not None else None

    def _command_target(self, cmd: Union[str, bytes]) -> Tuple[Address, str]:
        """For command(): the connected server and the word, checked."""
        if isinstance(cmd, bytes):
            cmd = cmd.decode("ascii", "replace")
        if not isinstance(cmd, str):
            raise TypeError(f"cmd must be a four-letter word (str or bytes), not {cmd!r}")
        encode_word(cmd)  # (ValueError unless it has four letters)
        connection = self._connection
        address = connection.address if connection is not None else None
        if address is None or self._state not in CONNECTED_STATES:
            raise ConnectionLossException(f"not connected to a server to ask {cmd!r}")
        return address, cmd

    @staticmethod
    def _unanswered(address: Address, word: str, exc: BaseException) -> ConnectionLossException:
        """For command(): what a server that did not answer `word` raises."""
        return ConnectionLossException(
            f"{address} did not answer {word!r}: {type(exc).__name__}: {exc}")

    @property
    def negotiated_session_timeout(self) -> Optional[float]:
        """The session timeout the server granted, in seconds."""
        protocol = self._protocol
        if protocol is None or not protocol.negotiated_timeout_ms:
            return None
        return protocol.negotiated_timeout_ms / 1000.0

    def _time_left_to_connect(self, deadline: Optional[float],
                              timeout: Optional[float]) -> Optional[float]:
        """For a not-yet-connected client: seconds left to wait (None: no
        limit); raises when waiting is pointless or the time is up."""
        if self._connection is None:
            raise ClientClosedException("the client is not started: call connect()")
        if self._state == State.AUTH_FAILED:
            final = self._connection.session.final_error
            if final is not None:  # (why: the credentials refused, or SASL required)
                raise type(final)(f"{final}; the client stopped")
            raise AuthFailedException("authentication failed; the client stopped")
        if self._state == State.EXPIRED_SESSION and not self.reconnect:
            raise SessionExpiredException("the session expired and reconnect is off")
        if not self._connection.alive:
            raise ClientClosedException("the client stopped; call connect() to start it again")
        if deadline is None:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            last_error = self._connection.session.last_error
            error = TimeoutException(f"not connected after {timeout} s (state {self._state.value}"
                                     + (f"; last error: {last_error})" if last_error else ")"))
            error.last_error = last_error
            raise error
        return remaining

    def _connect_timed_out(self, timeout: Optional[float],
                           cause: TimeoutException) -> TimeoutException:
        """What connect() raises when no server gave a session in time:
        names the hosts and why the last attempt failed."""
        last_error = cause.last_error
        error = TimeoutException(
            f"no ZooKeeper server at {self.hosts} gave a session within {timeout} s"
            + (f" (last error: {last_error})" if last_error else ""))
        error.last_error = last_error
        return error

    # -- listeners ---------------------------------------------------------------

    def add_listener(self, listener: Callable[[State], Any]) -> None:
        """Call `listener(state)` on every state change (on the client's
        event thread, or as an event-loop callback for the asyncio client)."""
        if not callable(listener):
            raise TypeError(f"{listener!r} is not callable")
        with self._listeners_lock:
            if listener not in self._listeners:
                self._listeners = self._listeners + [listener]

    def remove_listener(self, listener: Callable[[State], Any]) -> None:
        with self._listeners_lock:
            self._listeners = [fn for fn in self._listeners if fn != listener]

    # -- what each client does its own way ------------------------------------------

    def _setup(self) -> None:
        """Make the client's own state (locks, loop references); called last
        by __init__, so the constructor's arguments are written once."""
        raise NotImplementedError

    def _set_state(self, state: State, running_only: bool = False) -> None:
        """Record and announce `state` (with `running_only`: unless closed)."""
        raise NotImplementedError

    def _wake_waiters(self) -> None:
        raise NotImplementedError

    def _dispatch(self, event: WatchedEvent, watchers: List[Any]) -> None:
        """Run `watchers(event)`, then the on_event hook, outside the driver."""
        raise NotImplementedError

    def _tell_removed(self, path: str, removed: List[Tuple[Any, int]]) -> None:
        """Give each watcher removed by remove_watches its *_watch_removed event."""
        for watcher, event_type in removed:
            self._deliver(WatchedEvent(event_type, KeeperState.SYNC_CONNECTED, path), [watcher])

    def _deliver(self, event: WatchedEvent, watchers: List[Any]) -> None:
        # Inline watchers (pykeeper's own caches) run right here, in the
        # driver, so no read can see a cache entry the server already
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
        self._dispatch(event, queued)


class ClientEvents:
    """What the session tells its client (pykeeper.core.session.Handler),
    kept off the client's public surface: state changes, and watch events to
    deliver. Called from the driver's I/O context; it only records and
    hands on, never runs user code."""

    __slots__ = ("_client",)

    def __init__(self, client: ClientBase) -> None:
        self._client = client

    def on_connecting(self) -> None:
        self._client._set_state(State.CONNECTING, running_only=True)

    def on_associating(self) -> None:
        self._client._set_state(State.ASSOCIATING, running_only=True)

    def on_connected(self, event: Connected) -> None:
        self._client._set_state(State.CONNECTED_READONLY if event.read_only else State.CONNECTED)
        self._client._deliver(WatchedEvent(EventType.NONE, STATE_TO_KEEPER[self._client._state], None), [])

    def on_disconnected(self) -> None:
        self._client._set_state(State.CONNECTING, running_only=True)
        self._client._deliver(WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, None), [])

    def on_session_expired(self, event: SessionExpired) -> None:
        self._client._set_state(State.EXPIRED_SESSION)
        self._client._deliver(WatchedEvent(EventType.NONE, KeeperState.EXPIRED, None), event.watchers)

    def on_notification(self, event: Notification) -> None:
        self._client._deliver(event.event, event.watchers)

    def on_auth_failed(self) -> None:
        self._client._set_state(State.AUTH_FAILED)
        self._client._deliver(WatchedEvent(EventType.NONE, KeeperState.AUTH_FAILED, None), [])

    def on_closed(self) -> None:
        # A client stopped by a failed auth or an expiry stays in that state.
        if self._client._state not in (State.AUTH_FAILED, State.EXPIRED_SESSION):
            self._client._set_state(State.CLOSED)
        else:
            self._client._wake_waiters()
