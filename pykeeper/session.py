"""The session's life across connections, shared by every driver and
free of I/O: which server to try next and how long to back off, when to
ping and when to give up on a silent server, and what each event of the
protocol means for the client and for the callers waiting on replies.

A driver owns the sockets (or streams), the timers and the locking; it
asks a `Session` what to do and hands it what happened.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import Future
from typing import Any, Iterable, List, Optional, Protocol as TypingProtocol, Tuple

from .hosts import Address, HostRotation
from .protocol.connection import (
    AuthReply, ClientProtocol, Connected, Notification, Reply, SessionExpired,
    SetWatchesReply,
)
from .protocol.errors import (
    AuthFailedException, ClientClosedException, ConnectionLossException, SessionExpiredException, ZooKeeperException,
    exception_for,
)
from .protocol.requests import Request

log = logging.getLogger("zookeeper")

INITIAL_BACKOFF = 0.05
MAX_BACKOFF = 2.0
# While read-only, how often to ask the other servers whether they serve writes.
PROBE_FIRST_PAUSE = 0.1
PROBE_MAX_PAUSE = 60.0
# A driver that wakes this much later than it asked to was paused itself
# (a stopped process, a blocked event loop): its silence proves nothing.
PAUSE_SLACK = 1.0


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


def resolve(future: Future, result: Any = None, error: Optional[BaseException] = None) -> None:
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


def parse_srvr_zxid(answer: Optional[str]) -> Optional[int]:
    """The "Zxid: 0x..." of a serving server's answer to 'srvr', or None."""
    for line in (answer or "").splitlines():
        if line.startswith("Zxid:"):
            try:
                return int(line.split(":", 1)[1].strip(), 16)
            except ValueError:
                return None
    return None


class Liveness:
    """When silence proves a connection dead: only when a ping or a call
    has gone unanswered for the read timeout, counted from the last sign of
    life (bytes in), or from the end of a pause of the client's own.

    The driver calls `sent` for every frame it writes, `heard` for bytes
    in, and `tick` whenever it wakes; `tick` says whether to drop, whether
    to ping, and how long to wait before the next tick.
    """

    __slots__ = ("heard_at", "sent_at", "waiting_since", "wake_at")

    def __init__(self) -> None:
        self.heard_at = 0.0
        self.sent_at = 0.0
        # Since when the server owes an answer (a call or a ping), counted
        # from its sending or the last bytes in, whichever is later.
        self.waiting_since: Optional[float] = None
        self.wake_at: Optional[float] = None  # what the last tick asked for

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

    def tick(self, now: float, read_timeout: float,
             ping_interval: Optional[float]) -> Tuple[Optional[str], bool, float]:
        """(why the connection is dead, or None; whether to ping now; how
        long to wait before the next tick). Call it after reading what came
        in, so a reply that arrived during a pause counts."""
        wake_at = self.wake_at
        paused = wake_at is not None and now > wake_at + PAUSE_SLACK
        if paused:
            # Give the server the read timeout from now, and ask it at once.
            log.info("the client was paused for %.1fs: pinging the server",
                     now - wake_at)  # type: ignore[operator]
            self.heard_at = now
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
            if now >= deadline:
                self.wake_at = None
                return f"no reply from the server in {now - self.heard_at:.2f}s", False, 0.0
            wait = deadline - now
        else:
            wait = read_timeout  # nothing owed: only the ping timer counts
        if ping_interval is not None:
            wait = min(wait, max(0.0, self.sent_at + ping_interval - now))
        self.wake_at = now + wait
        return None, ping, wait


class Session:
    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool) -> None:
        self.protocol = protocol
        self.handler = handler
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self.rotation = HostRotation(addresses)
        self.address: Optional[Address] = None
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
        self._next_zxid_check = 0.0
        self._backoff = INITIAL_BACKOFF
        self._failures_in_round = 0

    # -- choosing a server ---------------------------------------------------

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
        self._failures_in_round += 1
        self.last_attempt_refused = False
        if reason:
            self.last_error = f"{address}: {reason}"

    def connection_ended(self, established: bool) -> None:
        if established:
            self._backoff = INITIAL_BACKOFF
            self._failures_in_round = 0
        else:
            self._failures_in_round += 1

    def check_open(self, request: Request, closed: bool) -> None:
        """Raise what a call must get when it cannot be sent now: the
        session's final error, ClientClosedException, or ConnectionLoss."""
        # final_error counts as soon as it is set: the driver stops a moment
        # later, and a call in between must not see a mere ConnectionLoss.
        error = self.final_error
        if error is not None:
            raise type(error)(str(error), request.path)
        if closed:
            raise ClientClosedException("the client is closed; call connect() to start it again")
        if not self.protocol.connected:
            raise ConnectionLossException("not connected to a server (reconnecting)",
                                          request.path)

    # -- timing --------------------------------------------------------------

    def read_timeout(self) -> float:
        """Give up on a connection that sent nothing for this long."""
        if self.protocol.connected:
            return self.protocol.negotiated_timeout_ms / 1000.0 * 2 / 3
        return self.connect_timeout

    def ping_interval(self) -> Optional[float]:
        """Ping after this long without sending anything (None: not yet)."""
        if self.protocol.connected:
            return self.protocol.negotiated_timeout_ms / 1000.0 / 3
        return None

    def should_abandon(self, now: float) -> bool:
        """Whether to give the session up and ask the next server for a new one.

        - A read-only server refuses to resume a session made with the
          quorum. Once cut off for longer than the session timeout, such a
          session has expired on the servers anyway: give it up, so a
          read-only server will give a new (local) one.
        (A server that lost its data is the other case: see
        server_lost_our_zxid.)
        """
        protocol = self.protocol
        since = self.disconnected_since
        if since is None:
            return False
        cut_off = now - since
        timeout = protocol.negotiated_timeout_ms / 1000.0
        return protocol.can_be_read_only and protocol.seen_read_write and cut_off >= timeout

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

    # -- what happened -------------------------------------------------------

    def dispatch(self, events: Iterable[Any]) -> Optional[Connected]:
        """Act on the protocol's events; returns the Connected event, if any."""
        connected = None
        for event in events:
            kind = type(event)
            if kind is Reply:
                if event.err:
                    resolve(event.context, None,
                                  exception_for(event.err, event.request.path))
                else:
                    resolve(event.context, event.result, None)
            elif kind is Notification:
                self.handler.on_notification(event)
            elif kind is Connected:
                connected = event
                self.disconnected_since = None
                self.last_attempt_refused = False
                self.last_error = None
                log.info("session 0x%x %s on %s (timeout %d ms%s)", event.session_id,
                         "established" if event.new_session else "resumed", self.address,
                         event.timeout_ms, ", read-only" if event.read_only else "")
                self.handler.on_connected(event)
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
            elif kind is SessionExpired:
                self.session_expired(event)
            elif kind is SetWatchesReply and event.err:
                log.warning("re-arming watches failed with error %d", event.err)
        return connected

    def session_expired(self, event: SessionExpired) -> None:
        log.warning("session 0x%x expired", event.session_id)
        # Set before the state changes, so a caller that sees
        # expired_session gets SessionExpired, not ConnectionLoss.
        if not self.reconnect:
            self.final_error = SessionExpiredException("the session expired")
        self.handler.on_session_expired(event)

    def connection_lost(self, lost: List[Tuple[Request, Any]], address: Address, reason: str,
                        was_connected: bool, closing: bool, now: float) -> None:
        """Fail the calls that were waiting on a connection that is gone."""
        error = self.final_error
        for request, context in lost:
            if context is not None:
                resolve(context, None, error or ConnectionLossException(
                    f"connection to {address} lost ({reason})", request.path))
        if not was_connected and not closing:
            self.last_error = f"{address}: {reason}"
            self.last_attempt_refused = True
        if was_connected and not closing and error is None:
            self.disconnected_since = now
            log.info("connection to %s lost: %s", address, reason)
            self.handler.on_disconnected()

    def probe_pauses(self) -> Iterable[float]:
        """Pauses between rounds of asking the other servers for writes."""
        pause = PROBE_FIRST_PAUSE
        while True:
            yield pause
            pause = min(pause * 2, PROBE_MAX_PAUSE)

    def probe_targets(self, current: Optional[Address]) -> List[Address]:
        return [a for a in self.rotation.addresses if a != current]
