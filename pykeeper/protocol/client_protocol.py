"""`ClientProtocol`: the client side of one ZooKeeper session, sans-I/O.

It never touches a socket or a clock. A driver calls:

- `connect_frame(server)` when a new TCP connection to `server` (its host
  name) is up, and sends the bytes;
- `send(request, context)` for every request, and sends the bytes;
- `receive(data)` with every chunk read, and acts on the events returned;
- `connection_lost()` when the connection is gone, and fails the requests
  it returns with ConnectionLoss.

The session (id, password, last zxid seen), the armed watches and the
credentials to re-send live here, so they survive from one connection to
the next and every driver shares one implementation of them.

With a SASL mechanism factory, every handshake is followed by the SASL
exchange (its tokens are the frames `receive` returns) and only then is the
session `Connected`: nothing else is sent before the server knows who the
client is, as servers that require SASL demand.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any, Callable, Deque, List, NamedTuple, Optional, Tuple, Union

from .errors import (
    AuthFailedException, NoNodeException, ProtocolError, SessionClosedRequireSaslException,
    exception_for,
)
from .jute import REPLY_HEADER, Reader, Writer
from .records import WatchedEvent, Xid
from .requests import (
    CONFIG_NODE, WATCH_EXIST, Auth, CloseSession, Exists, Ping, Request, Sasl, SetWatches,
    strip_chroot,
)
from .sasl import SaslError, SaslMechanism
from .watches import WatchRegistry

__all__ = [
    "AuthReply", "ClientProtocol", "Connected", "DEFAULT_MAX_FRAME", "DEFAULT_MAX_REQUEST",
    "Notification", "PROTOCOL_VERSION", "PingReply", "Reply", "SET_WATCHES_LIMIT",
    "SaslFailed", "SessionExpired", "SetWatchesReply",
]

_LENGTH = struct.Struct(">i")
_HEADER = struct.Struct(">ii")
_NO_NODE = NoNodeException.code
_REQUIRES_SASL = SessionClosedRequireSaslException.code

# The server refuses SetWatches packets over its jute.maxbuffer; stay well
# below 128 KB as the Java client does.
SET_WATCHES_LIMIT = 128 * 1024
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
# The server drops a connection whose request body exceeds its jute.maxbuffer
# (default 0xfffff bytes), so such a request is refused before sending.
DEFAULT_MAX_REQUEST = 0xFFFFF
PROTOCOL_VERSION = 0


_REQUEST_NAMES = {
    "Create": "create", "Delete": "delete", "SetData": "set", "SetACL": "set_acl",
    "Check": "check", "Auth": "add_auth", "SetWatches": "re-arming the watches",
}


def describe(request: Request) -> str:
    """How an error message names `request`: "the create of '/a'", "a
    transaction of 3 operations"."""
    ops = getattr(request, "ops", None)
    if ops is not None:
        return f"a {'read ' if getattr(request, 'read', False) else ''}transaction of {len(ops)} operations"
    kind = type(request).__name__
    name = _REQUEST_NAMES.get(kind, kind)
    path = getattr(request, "path", None)
    return f"the {name} of {path!r}" if path else f"the {name} request"


class Connected(NamedTuple):
    """The handshake finished. `new_session` is False when an existing
    session was resumed."""

    session_id: int
    timeout_ms: int
    read_only: bool
    new_session: bool


class SessionExpired(NamedTuple):
    """The server refused to resume the session: it has expired. `watchers`
    are every watcher that was armed in it (now dropped)."""

    session_id: int
    watchers: List[Any]


class Reply(NamedTuple):
    """The answer to `request`: `err` 0 and a `result`, or an error code."""

    request: Request
    context: Any
    zxid: int
    err: int
    result: Any


class Notification(NamedTuple):
    """A watch fired on the server; `watchers` are the client watchers it fires."""

    event: WatchedEvent
    watchers: List[Any]


class AuthReply(NamedTuple):
    request: Auth
    context: Any
    err: int


class PingReply(NamedTuple):
    pass


class SaslFailed(NamedTuple):
    """The SASL exchange failed: refused by the server (`err`, its error
    code) or given up by the client (`err` is AuthFailed's). The server
    closes the connection after a refusal."""

    err: int
    reason: str


class SetWatchesReply(NamedTuple):
    err: int


_PING_REPLY = PingReply()


class ClientProtocol:
    """The protocol state of one client session across its connections."""

    def __init__(self, session_timeout_ms: int = 10000, chroot: str = "",
                 can_be_read_only: bool = False, max_frame: int = DEFAULT_MAX_FRAME,
                 max_request: int = DEFAULT_MAX_REQUEST,
                 sasl: Optional[Callable[[str], SaslMechanism]] = None) -> None:
        self.session_timeout_ms = session_timeout_ms
        self.chroot = chroot
        self.can_be_read_only = can_be_read_only
        self.max_frame = max_frame
        self.max_request = max_request

        self.session_id = 0
        self.password = b"\x00" * 16
        self.last_zxid = 0
        self.negotiated_timeout_ms = 0
        self.read_only = False
        # A session a read-only server gave is local to it: until a
        # read-write server has accepted the session, reconnect with a new one.
        self.seen_read_write = False

        self.watches = WatchRegistry()
        # Credentials are re-sent on every new connection.
        self.auth: List[Auth] = []

        self.handshaking = False
        self.connected = False
        # SASL: a new mechanism (for the server's host name) per connection.
        self.sasl = sasl
        self.authenticating = False
        self._server = ""
        self._mechanism: Optional[SaslMechanism] = None
        self._sasl_xid = 0
        self._sasl_connected: Optional[Connected] = None  # told once SASL is done
        self._xid = 0
        self._pending: Deque[Tuple[int, Request, Any]] = deque()
        self._pending_auth: Deque[Tuple[Auth, Any]] = deque()
        # Frames of requests made while credentials await their reply.
        self._held: List[bytes] = []
        self._buffer = bytearray()

    def resume(self, session_id: int, password: bytes) -> None:
        """Ask the next handshake to resume this session (another client's,
        say, handed over by its `client_id`) instead of making a new one."""
        if self.connected or self.handshaking:
            raise RuntimeError("resume() before the first connection")
        self.session_id = session_id
        self.password = password
        self.seen_read_write = True
        # (Until the server answers: the timeout it gave the session's maker.)
        self.negotiated_timeout_ms = self.session_timeout_ms

    # -- outgoing ----------------------------------------------------------

    def connect_frame(self, server: str = "") -> bytes:
        """Begin the handshake on a fresh connection to `server` (the host
        name SASL mechanisms are made for); returns the bytes to send."""
        if self._pending or self._pending_auth:
            raise RuntimeError("connection_lost() must be called before reconnecting")
        self._buffer.clear()
        self._server = server
        self.handshaking = True
        self.connected = False
        w = Writer()
        w.int(PROTOCOL_VERSION)
        w.long(self.last_zxid)
        w.int(self.session_timeout_ms)
        if self.seen_read_write:
            w.long(self.session_id)
            w.buffer(self.password)
        else:
            w.long(0)
            w.buffer(b"\x00" * 16)
        w.bool(self.can_be_read_only)
        return _LENGTH.pack(len(w.buf)) + bytes(w.buf)

    def _frame(self, xid: int, request: Request) -> bytes:
        w = Writer()
        w.buf += b"\x00\x00\x00\x00"
        w.buf += _HEADER.pack(xid, request.opcode)
        request.write(w, self.chroot)
        size = len(w.buf) - 4
        if size > self.max_request:
            raise ValueError(
                f"{describe(request)} would be {size} bytes, over the {self.max_request} "
                f"bytes a whole request may be (the server's jute.maxbuffer; for a server "
                f"started with a larger -Djute.maxbuffer, pass max_data_size= to the client)")
        struct.pack_into(">i", w.buf, 0, size)
        return bytes(w.buf)

    def send(self, request: Request, context: Any = None) -> bytes:
        """Queue `request` for a reply; returns the bytes to send.

        `context` comes back unchanged in the `Reply` (a future, say).
        """
        if not self.connected:
            raise RuntimeError("send() before the session is established")
        if isinstance(request, Auth):
            frame = self._frame(Xid.AUTH, request)  # (may refuse it: before queueing)
            self._pending_auth.append((request, context))
            return frame
        xid = (self._xid + 1) & 0x7FFFFFFF or 1
        frame = self._frame(xid, request)
        self._xid = xid
        self._pending.append((xid, request, context))
        if self._pending_auth:
            # Held until the credentials are accepted: if they are refused,
            # the server closes the connection, and a request written after
            # them could only fail with a connection loss that hides the
            # AuthFailed (or run without the credentials it was meant for).
            self._held.append(frame)
            return b""
        return frame

    def ping_frame(self) -> bytes:
        return self._frame(Xid.PING, Ping())

    def close_frame(self, context: Any = None) -> bytes:
        """A CloseSession request; its Reply means the session is gone."""
        return self.send(CloseSession(), context)

    def _session_frames(self, new_session: bool) -> List[bytes]:
        """Credentials to re-send on every connection, and on a resumed
        session the watches to re-arm."""
        frames = [self._frame(Xid.AUTH, auth) for auth in self.auth]
        self._pending_auth.extend((auth, None) for auth in self.auth)
        if new_session or not self.watches:
            return frames
        data, exist, child, persistent, recursive = self.watches.set_watches_paths()
        groups: List[List[List[str]]] = [[[], [], [], [], []]]
        size = 0
        for index, paths in enumerate((data, exist, child, persistent, recursive)):
            for path in paths:
                cost = 4 + len(path.encode("utf-8")) + len(self.chroot)
                if size + cost > SET_WATCHES_LIMIT - 64 and size:
                    groups.append([[], [], [], [], []])
                    size = 0
                groups[-1][index].append(path)
                size += cost
        for d, e, c, p, r in groups:
            frames.append(self._frame(Xid.SET_WATCHES,
                                      SetWatches(self.last_zxid, d, e, c, p, r)))
        return frames

    # -- incoming ----------------------------------------------------------

    def receive(
            self, data: Union[bytes, bytearray, memoryview]) -> Tuple[List[Any], List[bytes]]:
        """Feed bytes read from the connection.

        Returns (events, frames): the events they complete, in order, and
        bytes the protocol needs sent in answer (after a handshake: the
        credentials and SetWatches). Raises `ProtocolError` for bytes that
        break the protocol; the connection must then be dropped. The error's
        `events` are those decoded before the bad bytes: act on them too.
        """
        buf = self._buffer
        buf += data
        events: List[Any] = []
        frames: List[bytes] = []
        offset = 0
        size = len(buf)
        max_frame = self.max_frame
        try:
            while size - offset >= 4:
                length = _LENGTH.unpack_from(buf, offset)[0]
                if length < 0 or length > max_frame:
                    raise ProtocolError(
                        f"frame length {length} outside 0..{max_frame} (client limit)")
                end = offset + 4 + length
                if end > size:
                    break
                if self.handshaking:
                    handshake = self._handshake(buf, offset + 4, end)
                    connected = handshake[-1]
                    if isinstance(connected, Connected) and self.sasl is not None:
                        handshake.pop()
                        events.extend(handshake)
                        self._sasl_begin(connected, events, frames)
                    else:
                        events.extend(handshake)
                        if isinstance(connected, Connected):
                            frames.extend(self._session_frames(connected.new_session))
                elif self.authenticating:
                    self._sasl_reply(buf, offset + 4, end, events, frames)
                else:
                    event = self._reply(buf, offset + 4, end)
                    events.append(event)
                    if self._held and not self._pending_auth and type(event) is AuthReply \
                            and not event.err:
                        frames.extend(self._held)
                        self._held.clear()
                offset = end
        except ProtocolError as exc:
            exc.events = events
            raise
        finally:
            if offset:
                del buf[:offset]
        return events, frames

    # -- SASL --------------------------------------------------------------

    def _sasl_begin(self, connected: Connected, events: List[Any], frames: List[bytes]) -> None:
        """The handshake is done: hold the session back and start SASL."""
        assert self.sasl is not None
        self.connected = False
        self.authenticating = True
        self._sasl_connected = connected
        self._mechanism = self.sasl(self._server)
        self._sasl_step(None, events, frames)

    def _sasl_step(self, token: Optional[bytes], events: List[Any],
                   frames: List[bytes]) -> None:
        """Answer the server's `token`; once the mechanism is done, the
        session is Connected and its credentials and watches go out."""
        mechanism = self._mechanism
        assert mechanism is not None
        try:
            answer = mechanism.respond(token)
        except SaslError as exc:
            self._sasl_failed(AuthFailedException.code, f"SASL {mechanism.name} failed: {exc}",
                              events)
            return
        except Exception as exc:  # (a mechanism's bug must not end the driver; its
            # message may hold what it was computing with, so only its type is told)
            self._sasl_failed(AuthFailedException.code, f"SASL {mechanism.name} failed: "
                              f"{type(exc).__name__} in the mechanism", events)
            return
        if answer is not None:
            self._sasl_xid = xid = (self._xid + 1) & 0x7FFFFFFF or 1
            self._xid = xid
            frames.append(self._frame(xid, Sasl(answer)))
            return
        if not mechanism.complete:
            self._sasl_failed(AuthFailedException.code,
                              f"SASL {mechanism.name} stopped before it was complete", events)
            return
        connected, self._sasl_connected = self._sasl_connected, None
        assert connected is not None
        self.authenticating = False
        self._mechanism = None
        self.connected = True
        events.append(connected)
        frames.extend(self._session_frames(connected.new_session))

    def _sasl_reply(self, buf: bytearray, start: int, end: int, events: List[Any],
                    frames: List[bytes]) -> None:
        if end - start < 16:
            raise ProtocolError(f"reply of {end - start} bytes is shorter than its header")
        xid, zxid, err = REPLY_HEADER.unpack_from(buf, start)
        if xid != self._sasl_xid:
            raise ProtocolError(f"reply for xid {xid} during SASL, expected {self._sasl_xid}")
        mechanism = self._mechanism
        assert mechanism is not None
        if err:
            self._sasl_failed(err, f"the server refused SASL {mechanism.name} authentication "
                                   f"as {mechanism.who}: check the credentials (the server "
                                   f"answered: {exception_for(err)})", events)
            return
        reader = Reader(buf, start + 16, end)
        token = reader.buffer()
        reader.expect_end("the SASL reply")
        if zxid > self.last_zxid:
            self.last_zxid = zxid
        # (A server with nothing to say sends a null token: b"", since None
        # tells a mechanism that the exchange starts.)
        self._sasl_step(token if token is not None else b"", events, frames)

    def _sasl_failed(self, err: int, reason: str, events: List[Any]) -> None:
        self.authenticating = False
        self._mechanism = None
        self._sasl_connected = None
        events.append(SaslFailed(err, reason))

    def abandon_session(self) -> SessionExpired:
        """Forget the session (expired, or given up on): the next connection
        asks for a new one. Returns the SessionExpired event, with every
        watcher that was armed in it."""
        old = self.session_id
        self.session_id = 0
        self.password = b"\x00" * 16
        self.last_zxid = 0
        self.seen_read_write = False
        return SessionExpired(old, self.watches.clear())

    def _handshake(self, buf: bytearray, start: int, end: int) -> List[Any]:
        if end - start == REPLY_HEADER.size:
            # Not a ConnectResponse but a bare reply header: the server
            # refused to make the session (a read-only server without local
            # sessions answers NotReadOnly this way).
            refusal = exception_for(REPLY_HEADER.unpack_from(buf, start)[2])
            raise ProtocolError(
                f"the server refused the session: {type(refusal).__name__}: {refusal}")
        r = Reader(buf, start, end)
        r.int()  # protocol version
        timeout = r.int()
        session_id = r.long()
        password = r.buffer()
        read_only = r.bool() if r.remaining() else False
        self.handshaking = False
        if timeout <= 0:
            return [self.abandon_session()]
        events: List[Any] = []
        new_session = session_id != self.session_id
        if new_session and self.session_id:
            # A read-only server's local session, replaced by a real one:
            # what was armed in it is gone, as on expiry.
            events.append(self.abandon_session())
        if not read_only:
            self.seen_read_write = True
        self.session_id = session_id
        self.password = password if password is not None else b""
        self.negotiated_timeout_ms = timeout
        self.read_only = read_only
        self.connected = True
        events.append(Connected(session_id, timeout, read_only, new_session))
        return events

    def _reply(self, buf: bytearray, start: int, end: int) -> Any:
        if end - start < 16:
            raise ProtocolError(f"reply of {end - start} bytes is shorter than its header")
        xid, zxid, err = REPLY_HEADER.unpack_from(buf, start)
        event = self._decode_reply(buf, start, end, xid, zxid, err)
        # Only a reply that decoded may move the zxid: a server refuses a
        # client that claims to have seen a zxid newer than its own, so one
        # garbled frame must not lock the client out of every server.
        if zxid > self.last_zxid:
            self.last_zxid = zxid
        return event

    def _decode_reply(self, buf: bytearray, start: int, end: int, xid: int, zxid: int,
                      err: int) -> Any:
        if xid > 0:
            if not self._pending:
                raise ProtocolError(f"reply for xid {xid} but no request is waiting")
            want, request, context = self._pending[0]
            if want != xid:
                raise ProtocolError(f"reply for xid {xid} out of order: expected {want}")
            result = None
            if err == 0:
                reader = Reader(buf, start + 16, end)
                result = request.read_response(reader, self.chroot)
                # Bytes left over mean the reply is not the record this
                # request expects (a corrupt frame, or a reply matched to
                # the wrong request): never act on it. (An error reply's
                # body, and a notification's, may carry what this client
                # does not read, as the Java client allows.)
                reader.expect_end(f"the {type(request).__name__} reply")
            # Only now: a reply that fails to decode leaves its request
            # waiting, to fail with the connection like the others.
            self._pending.popleft()
            watcher = getattr(request, "watcher", None)
            if watcher is not None and request.watch is not None:
                assert request.path is not None  # (every watching request names a node)
                if err == 0:
                    kind = request.watch
                    if kind == WATCH_EXIST:
                        kind = "data"
                    self.watches.add(kind, request.path, watcher)
                elif err == _NO_NODE and isinstance(request, Exists):
                    self.watches.add(WATCH_EXIST, request.path, watcher)
            return Reply(request, context, zxid, err, result)
        if xid == Xid.NOTIFICATION:
            r = Reader(buf, start + 16, end)
            event_type = r.int()
            state = r.int()
            path = r.ustring()
            if path is None:
                raise ProtocolError("watch notification without a path")
            if path != CONFIG_NODE:  # (getConfig's watch: outside any chroot)
                path = strip_chroot(self.chroot, path)
            return Notification(WatchedEvent(event_type, state, path),
                                self.watches.fire(event_type, path))
        if xid == Xid.PING:
            if err == _REQUIRES_SASL:  # (a server that requires SASL answers so, then closes)
                return SaslFailed(err, str(exception_for(err)))
            return _PING_REPLY
        if xid == Xid.AUTH:
            if not self._pending_auth:
                raise ProtocolError("auth reply but no auth request is waiting")
            auth, context = self._pending_auth.popleft()
            if err == 0 and auth not in self.auth:
                self.auth.append(auth)
            return AuthReply(auth, context, err)
        if xid == Xid.SET_WATCHES:
            return SetWatchesReply(err)
        raise ProtocolError(f"reply with unknown xid {xid}")

    # -- connection end ----------------------------------------------------

    def connection_lost(self) -> List[Tuple[Request, Any]]:
        """The connection is gone. Returns every (request, context) that was
        waiting for a reply; none of them will get one. Watches, credentials
        and the session stay for the next connection."""
        lost: List[Tuple[Request, Any]] = [(r, c) for _, r, c in self._pending]
        lost.extend((a, c) for a, c in self._pending_auth if c is not None)
        self._pending.clear()
        self._pending_auth.clear()
        self._held.clear()
        self._buffer.clear()
        self.handshaking = False
        self.connected = False
        self.authenticating = False
        self._mechanism = None
        self._sasl_connected = None
        return lost

    def arming(self, path: str) -> List[str]:
        """The watch tables that requests still awaiting replies will arm on
        `path` when they succeed."""
        return [request.watch for _, request, _ in self._pending
                if request.path == path and request.watch is not None
                and getattr(request, "watcher", None) is not None]

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def idle(self) -> bool:
        """True when no reply is awaited (requests and credentials alike)."""
        return not self._pending and not self._pending_auth
