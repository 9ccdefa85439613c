"""The session's life across connections as a sans-I/O state machine,
shared by every driver.

A driver tells a `Session` what happened (`start`, `connection_made`,
`connect_failed`, `connection_lost`, `tick` when a timer fired or the
driver woke, `four_letter_answer`, `close_requested`) and carries out the
actions it answers with: `Connect` to an address within a timeout, `Send`
bytes, `FourLetter` to ask a server a four-letter word, `Drop` the
connection for a reason, `Wait` (tick me again by then at the latest) and
`Stop`. Replies, watch events and the handshake go through `dispatch`.
Every decision (which server, how long to back off, when to ping, when
silence means a dead server, read-only probing, the zxid check, giving a
session up, when to stop) is made here; the drivers own sockets, timers
and locks only. Model: h11's `Connection`.

States: idle -> backoff -> (checking ->) connecting -> handshaking ->
connected -> (the connection ends) backoff ... -> stopped.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections import deque
from typing import (
    Any, ContextManager, Deque, Iterable, List, NamedTuple, Optional,
    Protocol as TypingProtocol, Tuple, Union,
)

from .fourletter import parse_srvr_zxid, serves_writes
from .hosts import Address, HostRotation
from ..protocol.client_protocol import (
    AuthReply, ClientProtocol, Connected, Notification, Reply, SaslFailed, SessionExpired,
    SetWatchesReply,
)
from ..protocol.errors import (
    AuthFailedException, ClientClosedException, ConnectionLossException,
    SessionClosedRequireSaslException, SessionExpiredException, ZooKeeperException, exception_for,
)
from ..protocol.requests import Request

__all__ = ["Session", "Handler", "Liveness", "Connect", "Send", "FourLetter", "Drop", "Wait",
           "Stop", "Action", "ConnectionPlan", "plan_connection", "resolve", "parse_srvr_zxid"]

log = logging.getLogger("zookeeper")

_REQUIRES_SASL = SessionClosedRequireSaslException.code
SASL_REQUIRED_MESSAGE = (
    "the server requires SASL authentication and closed the session: give the client "
    "sasl_options={'mechanism': 'DIGEST-MD5', 'username': ..., 'password': ...} "
    "(or {'mechanism': 'GSSAPI'} for Kerberos)")

INITIAL_BACKOFF = 0.05
MAX_BACKOFF = 2.0
# While read-only, how often to ask the other servers whether they serve writes.
PROBE_FIRST_PAUSE = 0.1
PROBE_MAX_PAUSE = 60.0
# A driver that wakes this much later than it asked to was paused itself
# (a stopped process, a blocked event loop): its silence proves nothing.
PAUSE_SLACK = 1.0


# -- actions -----------------------------------------------------------------

class Connect(NamedTuple):
    """Open a connection (TLS handshake included) to `address` within
    `timeout` s; then call connection_made or connect_failed."""
    address: Address
    timeout: float


class Send(NamedTuple):
    """Write these bytes to the current connection."""
    data: bytes


class FourLetter(NamedTuple):
    """Ask `address` the four-letter `word` (within `timeout` s, without
    holding up the connection); then call four_letter_answer."""
    address: Address
    word: str
    timeout: float


class Drop(NamedTuple):
    """End the current connection; then call connection_lost(reason)."""
    reason: str


class Wait(NamedTuple):
    """Call tick() again at `until` (monotonic time) at the latest."""
    until: float


class Stop(NamedTuple):
    """The session is over: end the driver (then call finished())."""
    reason: str


Action = Union[Connect, Send, FourLetter, Drop, Wait, Stop]


class ConnectionPlan(NamedTuple):
    """A live connection's actions sorted for a driver: `frames` to write,
    four-letter words to `ask`, why to `drop` it (or None), and how long to
    `wait` before the next tick."""
    frames: List[bytes]
    ask: List[FourLetter]
    drop: Optional[str]
    wait: float


def plan_connection(actions: List[Action], now: float) -> ConnectionPlan:
    """Sort the actions of a tick (or of bytes in) on a live connection."""
    frames: List[bytes] = []
    ask: List[FourLetter] = []
    drop: Optional[str] = None
    wait = 0.1  # (every tick of a connection ends in a Wait or a Drop)
    for action in actions:
        if isinstance(action, Send):
            frames.append(action.data)
        elif isinstance(action, Wait):
            wait = max(0.0, action.until - now)
        elif isinstance(action, FourLetter):
            ask.append(action)
        elif isinstance(action, Drop):
            drop = action.reason
    return ConnectionPlan(frames, ask, drop, wait)


class Handler(TypingProtocol):
    """What a session tells its client (from the driver's I/O context)."""

    def on_connecting(self) -> None: ...
    def on_associating(self) -> None: ...
    def on_connected(self, event: Connected) -> None: ...
    def on_disconnected(self) -> None: ...
    def on_session_expired(self, event: SessionExpired) -> None: ...
    def on_notification(self, event: Notification) -> None: ...
    def on_auth_failed(self) -> None: ...
    def on_closed(self) -> None: ...


def resolve(future: Any, result: Any = None, error: Optional[BaseException] = None) -> None:
    """Complete `future` unless its caller already cancelled it."""
    if future.done():
        return
    try:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    except Exception:  # cancelled between the check and the set
        pass


class Liveness:
    """When silence proves a connection dead: only when a ping or a call
    has gone unanswered for the read timeout, counted from the last sign of
    life (bytes in), or from the end of a pause of the client's own.

    The driver calls `sent` for every frame it writes and `heard` for bytes
    in (the hot path: plain attribute updates); the session's tick asks
    `check`.
    """

    __slots__ = ("heard_at", "sent_at", "waiting_since", "wake_at", "_resumed_at")

    def __init__(self) -> None:
        self.heard_at = 0.0
        self.sent_at = 0.0
        # Since when the server owes an answer (a call or a ping), counted
        # from its sending or the last bytes in, whichever is later.
        self.waiting_since: Optional[float] = None
        self.wake_at: Optional[float] = None  # what the last check asked for
        self._resumed_at: Optional[float] = None  # of the last pause that reset the clock

    def start(self, now: float) -> None:
        """A new connection: nothing owed, nothing heard yet."""
        self.heard_at = now
        self.sent_at = now
        self.waiting_since = None
        self.wake_at = None

    def sent(self, now: float) -> None:
        self.sent_at = now
        if self.waiting_since is None:
            self.waiting_since = now

    def heard(self, now: float, owed: bool) -> None:
        """Bytes came in; `owed`: replies are still awaited after them."""
        self.heard_at = now
        self.waiting_since = now if owed else None

    def check(self, now: float, read_timeout: float,
              ping_interval: Optional[float]) -> Tuple[Optional[str], bool, float]:
        """(why the connection is dead, or None; whether to ping now; when
        to check again). The driver must have read what came in first, so
        that a reply that arrived during a pause counts."""
        wake_at = self.wake_at
        # (Once per wait: a ping sent after a pause and unanswered in the
        # read timeout is proof, however late the driver keeps waking.)
        paused = (wake_at is not None and now > wake_at + PAUSE_SLACK
                  and (self.waiting_since is None or self.waiting_since != self._resumed_at))
        if paused:
            # Give the server the read timeout from now, and ask it at once.
            log.info("the client was paused for %.1fs: pinging the server",
                     now - wake_at)  # type: ignore[operator]
            self.heard_at = now
            self._resumed_at = now
            if self.waiting_since is not None:
                self.waiting_since = now
        ping = ping_interval is not None and (paused or now >= self.sent_at + ping_interval)
        if ping:
            self.sent(now)
        waiting = self.waiting_since
        if waiting is not None:
            deadline = self.heard_at + read_timeout
            if ping_interval is not None:
                deadline = max(deadline, waiting + ping_interval)
            else:
                # Not yet connected (handshake, SASL): each step goes out only
                # after the last answer, perhaps after a slow KDC, and the
                # server has the whole read timeout from its sending.
                deadline = max(deadline, waiting + read_timeout)
            if now >= deadline:
                self.wake_at = None
                return f"no reply from the server in {now - self.heard_at:.2f}s", False, now
            until = deadline
        else:
            until = now + read_timeout  # nothing owed: only the ping timer counts
        if ping_interval is not None:
            until = min(until, max(now, self.sent_at + ping_interval))
        self.wake_at = until
        return None, ping, until


NOTHING: List[Action] = []  # (never changed: returned when there is nothing to do)


def _path(request: Request) -> Optional[str]:
    """The node a request is about, for its error (None for one about none)."""
    path: Optional[str] = getattr(request, "path", None)
    return path


class Session:
    """One client session's life-cycle; see the module docstring.

    Not thread-safe: a driver calls it from its I/O context (the thread
    driver's callers only use `check_open`, `dispatch` and `live`). The
    `guard` is held around changes of the protocol's session state that
    must not race a caller's send (the thread driver's lock).
    """

    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool,
                 guard: Optional[ContextManager[Any]] = None, shuffle: bool = True) -> None:
        self.protocol = protocol
        self.handler = handler
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self.guard: ContextManager[Any] = guard if guard is not None else contextlib.nullcontext()
        self.rotation = HostRotation(addresses, shuffle)
        self.live = Liveness()
        self.state = "idle"
        self.address: Optional[Address] = None  # of the current (or last) connection
        # Set when the session cannot go on (auth failed, expired without
        # reconnect): every later call fails with it.
        self.final_error: Optional[ZooKeeperException] = None
        # Found by the read-only probe: the next connection goes there.
        self.read_write_found: Optional[Address] = None
        self.disconnected_since: Optional[float] = None
        # Why the last attempt to get a session failed ("host:port: reason"),
        # for the message of connect()'s timeout; None once connected.
        self.last_error: Optional[str] = None
        # Whether the last connection ended before the server gave a session.
        self.last_attempt_refused = False
        self.closing = False
        self._next_zxid_check = 0.0
        self._backoff = INITIAL_BACKOFF
        self._failures_in_round = 0
        self._attempt: Optional[Address] = None  # the next server to try
        self._attempt_at = 0.0
        self._check_deadline = 0.0
        self._established = False  # a session was established on this connection
        self._drop_reason: Optional[str] = None  # a Drop asked for, not yet done
        # Read-only probing: next round at _probe_at; targets left in it.
        self._probe_at: Optional[float] = None
        self._probe_pause = PROBE_FIRST_PAUSE
        self._probe_targets: List[Address] = []
        self._probe_out = False
        # A new host list (update_hosts), taken at the next tick (a deque:
        # set from any thread, taken by the driver's, without a lock).
        self._new_addresses: Deque[List[Address]] = deque(maxlen=1)

    # -- inputs: each returns the actions to carry out, in order; none
    # blocks, and none raises but for a bug ---------------------------------------

    def start(self, now: float) -> List[Action]:
        """The driver starts: the first attempt."""
        return self._next_attempt(now)

    def update_hosts(self, addresses: List[Address]) -> None:
        """The ensemble's servers are now `addresses`: the next tick takes
        them (moving off a removed server, or onto new ones to spread the
        load; the session goes on). Safe from any thread: it only records."""
        self._new_addresses.append(list(addresses))

    def tick(self, now: float) -> List[Action]:
        """A timer fired, or the driver woke (after reading what came in)."""
        if self._new_addresses:
            moving = self._take_hosts()
            if moving is not None:
                return moving
        state = self.state
        if state in ("handshaking", "connected"):
            return self._tick_connection(now)
        if self.closing and state in ("backoff", "checking"):
            return self._stop("closed")
        if state == "backoff":
            if now < self._attempt_at:
                return [Wait(self._attempt_at)]
            return self._try(now)
        if state == "checking":
            if now >= self._check_deadline:  # (no answer: as if it said nothing)
                return self._checked(now, None)
            return [Wait(self._check_deadline)]
        if state == "stopped":
            return [Stop(str(self.final_error or "closed"))]
        return NOTHING

    def connect_failed(self, now: float, reason: str) -> List[Action]:
        """The last Connect failed (`reason` says why, for connect()'s error)."""
        address = self._attempt
        self._failures_in_round += 1
        self.last_attempt_refused = False
        if reason:
            self.last_error = f"{address}: {reason}"
        return self._next_attempt(now)

    def connection_made(self, now: float) -> List[Action]:
        """The connection of the last Connect is open: begin the handshake."""
        self.address = self._attempt
        self.state = "handshaking"
        self._established = False
        if self._attempt not in self.rotation.addresses:  # (removed while connecting)
            return self._drop(f"{self._attempt} left the ensemble while connecting")
        self._drop_reason = None
        self.handler.on_associating()
        with self.guard:
            self.live.start(now)
            frame = self.protocol.connect_frame(self.address.host if self.address else "")
        self.live.sent(now)
        return [Send(frame)] + self._tick_connection(now)

    def connection_lost(self, now: float, reason: str,
                        lost: List[Tuple[Request, Any]]) -> List[Action]:
        """The connection ended (asked for by a Drop, or not); `lost`: the
        calls that were waiting on it (from protocol.connection_lost())."""
        reason = self._drop_reason or reason
        self._drop_reason = None
        was_connected = self.state == "connected"
        self._stop_probing()
        error = self.final_error
        address = self.address
        for request, context in lost:
            if context is not None:
                resolve(context, None, error or ConnectionLossException(
                    f"connection to {address} lost ({reason})", _path(request)))
        if not was_connected and not self.closing:
            self.last_error = f"{address}: {reason}"
            self.last_attempt_refused = True
        if was_connected and not self.closing and error is None:
            self.disconnected_since = now
            log.info("connection to %s lost: %s", address, reason)
            self.handler.on_disconnected()
        if self._established:
            self._backoff = INITIAL_BACKOFF
            self._failures_in_round = 0
        else:
            self._failures_in_round += 1
        self._established = False
        if error is not None or self.closing:
            return self._stop(str(error or "closed"))
        return self._next_attempt(now)

    def four_letter_answer(self, now: float, address: Address, word: str,
                           answer: Optional[str]) -> List[Action]:
        """The answer to a FourLetter (None: no answer)."""
        if word == "srvr" and self.state == "checking":
            return self._checked(now, answer)
        if word == "isro" and self._probe_out:
            self._probe_out = False
            if self.state != "connected" or self._probe_at is None:
                return NOTHING
            if serves_writes(answer):
                log.info("%s serves writes again: moving there", address)
                self.read_write_found = address
                return self._drop(f"leaving a read-only server for {address}")
            return self._tick_connection(now)
        return NOTHING

    def close_requested(self) -> None:
        """close() began: a connection that ends from now on is not replaced."""
        self.closing = True

    def finished(self) -> None:
        """The driver has stopped: tell the client."""
        self.state = "stopped"
        self.closing = True
        self.handler.on_closed()

    # -- for callers -------------------------------------------------------------

    def check_open(self, request: Request, closed: bool) -> None:
        """Raise what a call must get when it cannot be sent now: the
        session's final error, ClientClosedException, or ConnectionLoss."""
        # final_error counts as soon as it is set: the driver stops a moment
        # later, and a call in between must not see a mere ConnectionLoss.
        error = self.final_error
        if error is not None:
            raise type(error)(str(error), _path(request))
        if closed:
            raise ClientClosedException("the client is closed; call connect() to start it again")
        if not self.protocol.connected:
            raise ConnectionLossException("not connected to a server (reconnecting)",
                                          _path(request))

    def receive(self, now: float, data: Any) -> Tuple[List[Any], List[bytes]]:
        """Bytes in: the protocol's events (hand them to `dispatch`) and the
        frames to send in answer. Raises ProtocolError, whose `events` (those
        before the bad bytes) count too; the connection must then go."""
        events, frames = self.protocol.receive(data)
        live = self.live
        live.heard_at = now
        live.waiting_since = None if self.protocol.idle else now
        return events, frames

    def dispatch(self, events: Iterable[Any]) -> Optional[Connected]:
        """Act on the protocol's events; returns the Connected event, if any.
        (Callers of the thread driver use it too: it only resolves futures,
        hands events to the client and records what tick() acts on.)"""
        connected = None
        for event in events:
            kind = type(event)
            if kind is Reply:
                if event.err:
                    if event.err == _REQUIRES_SASL:
                        self._sasl_required()
                        resolve(event.context, None, SessionClosedRequireSaslException(
                            SASL_REQUIRED_MESSAGE, event.request.path))
                    else:
                        resolve(event.context, None,
                                exception_for(event.err, event.request.path))
                else:
                    resolve(event.context, event.result, None)
            elif kind is Notification:
                self.handler.on_notification(event)
            elif kind is Connected:
                connected = event
                self._session_established(event)
            elif kind is AuthReply:
                if event.err:
                    # Stop and move to auth_failed before add_auth() returns,
                    # so its caller sees that state and AuthFailed from then on.
                    self.final_error = AuthFailedException(
                        f"authentication failed for scheme {event.request.scheme!r}")
                    self.handler.on_auth_failed()
                    if event.context is not None:
                        resolve(event.context, None, exception_for(event.err))
                elif event.context is not None:
                    resolve(event.context, None, None)
            elif kind is SaslFailed:
                if event.err == _REQUIRES_SASL and self.protocol.sasl is None:
                    self._sasl_required()
                else:
                    self._refused(AuthFailedException(event.reason))
            elif kind is SessionExpired:
                self.session_expired(event)
            elif kind is SetWatchesReply and event.err:
                if event.err == _REQUIRES_SASL:  # (on a resumed session: its first request)
                    self._sasl_required()
                else:
                    log.warning("re-arming watches failed with error %d", event.err)
        return connected

    def _refused(self, error: ZooKeeperException) -> None:
        """The server will not serve this client as it is configured: stop
        in auth_failed (the next tick drops the connection)."""
        if self.final_error is None:
            log.warning("%s", error)
            self.final_error = error
            self.handler.on_auth_failed()

    def _sasl_required(self) -> None:
        """The server closed the session for want of SASL (error -124, to
        whichever request came first): no retry can help."""
        self._refused(SessionClosedRequireSaslException(SASL_REQUIRED_MESSAGE))

    def session_expired(self, event: SessionExpired) -> None:
        log.warning("session 0x%x expired", event.session_id)
        # Set before the state changes, so a caller that sees
        # expired_session gets SessionExpired, not ConnectionLoss.
        if not self.reconnect:
            self.final_error = SessionExpiredException("the session expired")
        self.handler.on_session_expired(event)

    # -- timing ------------------------------------------------------------------

    def read_timeout(self) -> float:
        """A ping or call unanswered this long ends the connection."""
        if self.protocol.connected:
            return self.protocol.negotiated_timeout_ms / 1000.0 * 2 / 3
        return self.connect_timeout

    def reply_due(self) -> float:
        """When silence since the last bytes in becomes worth a look: a
        caller reading its own reply hands over to the driver's tick then
        (which decides, pauses counted, whether the server is dead)."""
        return self.live.heard_at + self.read_timeout()

    def ping_interval(self) -> Optional[float]:
        """Ping after this long without sending anything (None: not yet)."""
        if self.protocol.connected:
            return self.protocol.negotiated_timeout_ms / 1000.0 / 3
        return None

    # -- choosing a server ---------------------------------------------------------

    def next_attempt(self) -> Tuple[Address, float]:
        """The server to try next, and how long to wait before trying it.

        After a whole round of failures the wait grows exponentially, with
        jitter so that many clients do not reconnect in lock-step; but while
        there is a session to resume it stays under a third of the session
        timeout: servers regaining a quorum give each session its whole
        timeout from then, and a client still waiting out a longer back-off
        would find its session expired.
        """
        address, new_round = self.rotation.next()
        found, self.read_write_found = self.read_write_found, None
        if found is not None:
            return found, 0.0
        delay = 0.0
        if new_round:
            if self._failures_in_round:
                base = self._backoff
                protocol = self.protocol
                if protocol.session_id and protocol.seen_read_write:  # (resumable)
                    # Capped before the jitter, so clients still spread out.
                    base = min(base, protocol.negotiated_timeout_ms / 1000.0 / 3 / 1.5)
                delay = base * random.uniform(0.5, 1.5)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            self._failures_in_round = 0
        return address, delay

    def attempt_failed(self, address: Optional[Address] = None, reason: str = "") -> None:
        """(For next_attempt's tests: an attempt failed, as connect_failed says.)"""
        self._failures_in_round += 1
        self.last_attempt_refused = False
        if reason:
            self.last_error = f"{address}: {reason}"

    def should_abandon(self, now: float) -> bool:
        """Whether to give the session up and ask the next server for a new one.

        A read-only server refuses to resume a session made with the
        quorum. Once cut off for longer than the session timeout, such a
        session has expired on the servers anyway: give it up, so a
        read-only server will give a new (local) one. (A server that lost
        its data is the other case: see server_lost_our_zxid.)
        """
        protocol = self.protocol
        since = self.disconnected_since
        if since is None:
            return False
        timeout = protocol.negotiated_timeout_ms / 1000.0
        return protocol.can_be_read_only and protocol.seen_read_write and now - since >= timeout

    def zxid_check_due(self, now: float) -> bool:
        """Whether to ask the server that keeps closing our handshakes how
        far its data goes (see server_lost_our_zxid): it did so for at least
        the session timeout, and was not asked within the last one."""
        protocol = self.protocol
        since = self.disconnected_since
        if (since is None or not self.last_attempt_refused or protocol.last_zxid <= 0
                or self.address is None):
            return False
        timeout = protocol.negotiated_timeout_ms / 1000.0
        if now - since < timeout or now < self._next_zxid_check:
            return False
        self._next_zxid_check = now + timeout
        return True

    def server_lost_our_zxid(self, srvr_answer: Optional[str]) -> bool:
        """Whether a server's answer to 'srvr' shows it serving with data
        older than what this session has seen: it lost its data and will
        refuse the session forever (a server that is merely not serving,
        say without a quorum, answers that it is not serving)."""
        zxid = parse_srvr_zxid(srvr_answer)
        return zxid is not None and zxid < self.protocol.last_zxid

    # -- the machine's steps ---------------------------------------------------------

    def _next_attempt(self, now: float) -> List[Action]:
        if self.final_error is not None or self.closing:
            return self._stop(str(self.final_error or "closed"))
        address, delay = self.next_attempt()
        self._attempt = address
        self.state = "backoff"
        self._attempt_at = now + delay
        if delay:
            return [Wait(self._attempt_at)]
        return self._try(now)

    def _try(self, now: float) -> List[Action]:
        """The back-off is over: check the server's data first, if due."""
        if self.zxid_check_due(now) and self.address is not None:
            self.state = "checking"
            self._check_deadline = now + self.connect_timeout + 1.0
            return [FourLetter(self.address, "srvr", self.connect_timeout),
                    Wait(self._check_deadline)]
        return self._checked(now, None)

    def _checked(self, now: float, srvr_answer: Optional[str]) -> List[Action]:
        if self.should_abandon(now) or self.server_lost_our_zxid(srvr_answer):
            self.disconnected_since = None
            with self.guard:
                event = self.protocol.abandon_session()
            self.session_expired(event)
            if self.final_error is not None:
                return self._stop(str(self.final_error))
        self.state = "connecting"
        self.handler.on_connecting()
        assert self._attempt is not None
        return [Connect(self._attempt, self.connect_timeout)]

    def _session_established(self, event: Connected) -> None:
        now = self.live.heard_at
        self.state = "connected"
        self._established = True
        self.disconnected_since = None
        self.last_attempt_refused = False
        self.last_error = None
        log.info("session 0x%x %s on %s (timeout %d ms%s)", event.session_id,
                 "established" if event.new_session else "resumed", self.address,
                 event.timeout_ms, ", read-only" if event.read_only else "")
        if event.read_only and len(self.rotation.addresses) > 1:
            self._probe_pause = PROBE_FIRST_PAUSE
            self._probe_at = now + self._probe_pause
            self._probe_targets = []
        self.handler.on_connected(event)

    def _take_hosts(self) -> Optional[List[Action]]:
        try:
            addresses = self._new_addresses.popleft()
        except IndexError:  # (taken meanwhile)
            return None
        on = self.state in ("handshaking", "connected")
        move = self.rotation.update(addresses, self.address if on else None)
        listed = self.rotation.addresses
        log.info("servers now %s", ", ".join(map(str, listed)))
        if self.read_write_found not in listed:
            self.read_write_found = None
        self._probe_targets = []
        if self._probe_at is not None and len(listed) < 2:
            self._stop_probing()  # (no other server to ask)
        if self.state in ("backoff", "checking") and self._attempt not in listed:
            self._attempt, _ = self.rotation.next()  # (never a removed server)
        if on and (move or self.address not in listed) and self._drop_reason is None:
            return self._drop(f"moving from {self.address}: the ensemble changed")
        return None

    def _tick_connection(self, now: float) -> List[Action]:
        if self._drop_reason is not None:
            return NOTHING  # (the Drop is being carried out)
        if self.final_error is not None:
            return self._drop(str(self.final_error))
        dead, ping, until = self.live.check(now, self.read_timeout(), self.ping_interval())
        if dead is not None:
            return self._drop(dead)
        actions: List[Action] = []
        if ping:
            actions.append(Send(self.protocol.ping_frame()))
        if self._probe_at is not None and not self._probe_out:
            if now >= self._probe_at:
                actions.extend(self._probe(now))
            if self._probe_at is not None:
                until = min(until, self._probe_at)
        actions.append(Wait(until))
        return actions

    def _probe(self, now: float) -> List[Action]:
        """The next 'isro' of a read-only connection's probe round."""
        if not self._probe_targets:
            self._probe_targets = [a for a in self.rotation.addresses if a != self.address]
        if not self._probe_targets:
            self._stop_probing()
            return NOTHING
        target = self._probe_targets.pop(0)
        if not self._probe_targets:  # the round is complete once this answers
            self._probe_pause = min(self._probe_pause * 2, PROBE_MAX_PAUSE)
            self._probe_at = now + self._probe_pause
        self._probe_out = True
        return [FourLetter(target, "isro", min(1.0, self.connect_timeout))]

    def _stop_probing(self) -> None:
        self._probe_at = None
        self._probe_targets = []
        self._probe_out = False

    def _drop(self, reason: str) -> List[Action]:
        self._drop_reason = reason
        return [Drop(reason)]

    def _stop(self, reason: str) -> List[Action]:
        self.state = "stopped"
        return [Stop(reason)]
