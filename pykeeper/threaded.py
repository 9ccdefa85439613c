"""The thread-based driver: moves bytes between a socket and a
`ClientProtocol` on one I/O thread per client.

Callers send from their own thread (under a lock, straight into the
socket when it has room), so a request costs no thread hand-off on the way
out; the I/O thread reads, matches replies, pings, detects dead servers by
read timeout, and reconnects (resuming the session) when a connection
drops. It never runs user code: the client's `handler` gets every event
and must only hand it on.
"""

from __future__ import annotations

import logging
import random
import selectors
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, List, Optional, Protocol as TypingProtocol, TypeVar

from .hosts import Address, HostRotation
from .protocol.connection import (
    AuthReply, ClientProtocol, Connected, Notification, Reply, SessionExpired,
    SetWatchesReply,
)
from .protocol.errors import (
    AuthFailedException, ClientClosedException, ConnectionLossException, ProtocolError,
    SessionExpiredException, ZooKeeperException, exception_for,
)
from .protocol.requests import Request

log = logging.getLogger("zookeeper")

T = TypeVar("T")

_RECV_SIZE = 256 * 1024
_MAX_BACKOFF = 2.0


class Handler(TypingProtocol):
    """What the driver tells its client, always from the I/O thread."""

    def on_connecting(self) -> None: ...
    def on_associating(self) -> None: ...
    def on_connected(self, event: Connected) -> None: ...
    def on_disconnected(self) -> None: ...
    def on_session_expired(self, event: SessionExpired) -> None: ...
    def on_notification(self, event: Notification) -> None: ...
    def on_auth_failed(self) -> None: ...
    def on_closed(self) -> None: ...


def _is_read_write(address: Address, timeout: float) -> bool:
    """True if the server at `address` answers 'isro' with 'rw'."""
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"isro")
            return sock.recv(16).startswith(b"rw")
    except OSError:
        return False


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


def reply_outcome(reply: Reply) -> Any:
    """The result of a reply, or raise the exception its error code stands for."""
    if reply.err:
        raise exception_for(reply.err, reply.request.path)
    return reply.result


class ThreadedConnection:
    """One client's connection to an ensemble, served by one I/O thread.

    `send()` is safe from any thread. `close()` is bounded by its timeout.
    """

    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool = True) -> None:
        self.protocol = protocol
        self.handler = handler
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self._rotation = HostRotation(addresses)
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._outbuf = bytearray()
        self._last_send = 0.0
        self._stopping = False
        self._closing = False
        self._final_error: Optional[ZooKeeperException] = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="pykeeper-io", daemon=True)
        self.address: Optional[Address] = None
        # While connected to a read-only server, a probe thread looks for a
        # read-write one; when it finds one, the next connection goes there.
        self._read_write_found: Optional[Address] = None
        self._probe_stop = threading.Event()
        self._disconnected_since: Optional[float] = None

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        """False once the I/O thread has given up or been stopped."""
        return not self._stopping

    def locked(self, fn: Callable[[ClientProtocol], T]) -> T:
        """Run `fn(protocol)` while no reply is being processed (for changes
        to the protocol's watch table that must not race an event)."""
        with self._lock:
            return fn(self.protocol)

    # -- caller side ---------------------------------------------------------

    def send(self, request: Request) -> Future:
        """Send `request`; returns a Future of its Reply.

        Raises ConnectionLossException at once when there is no live
        session connection, ClientClosedException after close().
        """
        future: Future = Future()
        with self._lock:
            # _final_error counts as soon as it is set: the I/O thread stops
            # a moment later, and a call in between must not see a mere
            # ConnectionLoss (it raced add_auth's AuthFailed that way).
            if self._closing or self._stopping or self._final_error is not None:
                error = self._final_error
                if error is not None:
                    raise type(error)(str(error), request.path)
                raise ClientClosedException(
                    "the client is closed; call connect() to start it again")
            if not self.protocol.connected:
                raise ConnectionLossException(
                    "not connected to a server (reconnecting)", request.path)
            frame = self.protocol.send(request, future)
            self._write_locked(frame)
        return future

    def _write_locked(self, frame: bytes) -> None:
        self._last_send = time.monotonic()
        if self._outbuf:
            self._outbuf += frame
            return
        sent = 0
        try:
            sent = self._sock.send(frame)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            # The I/O thread sees the same failure on its next read and
            # fails this request with the rest.
            pass
        if sent < len(frame):
            self._outbuf += frame[sent:]
            self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a wake-up is already pending, or we are shutting down

    def close(self, timeout: float) -> None:
        """Close the session (flushing requests already sent) and stop the
        I/O thread; waits at most about `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        future: Optional[Future] = None
        with self._lock:
            if self._closing:
                return
            self._closing = True
            if self.protocol.connected and self._sock is not None:
                future = Future()
                self._write_locked(self.protocol.close_frame(future))
        if future is not None:
            try:
                future.result(max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # timeout or connection loss: the session ends anyway
                log.debug("close: no reply to CloseSession (%s)", exc)
        self._stopping = True
        self._wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(max(0.05, deadline - time.monotonic()))
        if not self._thread.is_alive():
            self._wake_r.close()
            self._wake_w.close()

    # -- the I/O thread --------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.05
        failures_in_round = 0
        try:
            while not self._stopping:
                address, new_round = self._rotation.next()
                found, self._read_write_found = self._read_write_found, None
                if found is not None:
                    address, new_round = found, False
                if new_round and failures_in_round:
                    # A whole round failed: back off (with jitter, so many
                    # clients do not reconnect in lock-step).
                    self._sleep(backoff * random.uniform(0.5, 1.5))
                    backoff = min(backoff * 2, _MAX_BACKOFF)
                    if self._stopping:
                        break
                if new_round:
                    failures_in_round = 0
                self._give_up_session_for_read_only()
                if self._stopping:
                    break
                self.handler.on_connecting()
                sock = self._open(address)
                if sock is None:
                    failures_in_round += 1
                    continue
                self.address = address
                self.handler.on_associating()
                established = self._serve(sock, address)
                if established:
                    backoff = 0.05
                    failures_in_round = 0
                else:
                    failures_in_round += 1
        except Exception:  # a bug here must not leave callers hanging
            log.exception("pykeeper I/O thread failed")
        finally:
            self._shutdown()

    def _give_up_session_for_read_only(self) -> None:
        """A read-only server refuses to resume a session made with the
        quorum. Once cut off for longer than the session timeout, such a
        session has expired on the servers anyway: drop it, so a read-only
        server will give a new (local) one."""
        protocol = self.protocol
        since = self._disconnected_since
        if (not protocol.can_be_read_only or not protocol.seen_read_write or since is None
                or time.monotonic() - since < protocol.negotiated_timeout_ms / 1000.0):
            return
        with self._lock:
            event = protocol.abandon_session()
        self._disconnected_since = None
        log.warning("session 0x%x presumed expired after %.1f s without a server; "
                    "starting a new one", event.session_id, time.monotonic() - since)
        self.handler.on_session_expired(event)
        if not self.reconnect:
            self._final_error = SessionExpiredException("the session expired")
            self._stopping = True

    def _sleep(self, seconds: float) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(self._wake_r, selectors.EVENT_READ)
            sel.select(seconds)
            self._drain_wake()
        finally:
            sel.close()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _open(self, address: Address) -> Optional[socket.socket]:
        """A connected non-blocking socket to `address`, or None."""
        try:
            infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            log.warning("cannot resolve %s: %s", address, exc)
            return None
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            sel = selectors.DefaultSelector()
            try:
                err = sock.connect_ex(sockaddr)
                if err not in (0, 115, 36, 10035):  # EINPROGRESS (Linux, BSD), WSAEWOULDBLOCK
                    raise OSError(err, "connect failed")
                sel.register(sock, selectors.EVENT_WRITE)
                sel.register(self._wake_r, selectors.EVENT_READ)
                deadline = time.monotonic() + self.connect_timeout
                while True:
                    ready = sel.select(max(0.0, deadline - time.monotonic()))
                    if self._stopping:
                        raise OSError("client closing")
                    if any(key.fileobj is sock for key, _ in ready):
                        break
                    self._drain_wake()
                    if time.monotonic() >= deadline:
                        raise OSError(f"connect timed out after {self.connect_timeout:.2f}s")
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, "connect failed")
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as exc:
                sock.close()
                log.info("cannot connect to %s: %s", address, exc)
            finally:
                sel.close()
        return None

    def _serve(self, sock: socket.socket, address: Address) -> bool:
        """Run one connection until it ends; True if a session was established on it."""
        established = False
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        want_write = False
        reason = "closed"
        with self._lock:
            self._sock = sock
            self._outbuf.clear()
            self._write_locked(self.protocol.connect_frame())
        last_recv = time.monotonic()
        try:
            while not self._stopping:
                if self.protocol.connected:
                    timeout_s = self.protocol.negotiated_timeout_ms / 1000.0
                    read_timeout = timeout_s * 2 / 3
                    ping_interval = timeout_s / 3
                else:
                    read_timeout = self.connect_timeout
                    ping_interval = None
                now = time.monotonic()
                if now - last_recv >= read_timeout:
                    reason = f"no reply from the server in {read_timeout:.2f}s"
                    break
                wait = last_recv + read_timeout - now
                if ping_interval is not None:
                    ping_due = self._last_send + ping_interval
                    if now >= ping_due:
                        with self._lock:
                            self._write_locked(self.protocol.ping_frame())
                        ping_due = self._last_send + ping_interval
                    wait = min(wait, max(0.0, ping_due - now))
                with self._lock:
                    need_write = bool(self._outbuf)
                if need_write != want_write:
                    want_write = need_write
                    sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0))
                for key, mask in sel.select(wait):
                    if key.fileobj is self._wake_r:
                        self._drain_wake()
                        continue
                    if mask & selectors.EVENT_WRITE:
                        self._flush()
                    if mask & selectors.EVENT_READ:
                        try:
                            data = sock.recv(_RECV_SIZE)
                        except (BlockingIOError, InterruptedError):
                            continue
                        if not data:
                            raise ConnectionResetError("the server closed the connection")
                        last_recv = time.monotonic()
                        if self._receive(data):
                            established = True
                if self._final_error is not None:
                    reason = str(self._final_error)
                    break
                if self._read_write_found is not None:
                    reason = f"leaving a read-only server for {self._read_write_found}"
                    break
        except (OSError, ProtocolError) as exc:
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, ProtocolError):
                log.warning("protocol error from %s, resetting the connection: %s", address, exc)
        finally:
            sel.close()
            self._drop(sock, address, reason)
        return established

    def _flush(self) -> None:
        with self._lock:
            if not self._outbuf or self._sock is None:
                return
            try:
                sent = self._sock.send(self._outbuf)
            except (BlockingIOError, InterruptedError):
                return
            del self._outbuf[:sent]

    def _receive(self, data: bytes) -> bool:
        """Feed the protocol and act on its events; True if a session was established."""
        with self._lock:
            events, frames = self.protocol.receive(data)
            for frame in frames:
                self._write_locked(frame)
        established = False
        for event in events:
            kind = type(event)
            if kind is Reply:
                if event.err:
                    resolve(event.context, error=exception_for(event.err, event.request.path))
                else:
                    resolve(event.context, event.result)
            elif kind is Notification:
                self.handler.on_notification(event)
            elif kind is Connected:
                established = True
                self._disconnected_since = None
                log.info("session 0x%x %s on %s (timeout %d ms%s)", event.session_id,
                         "established" if event.new_session else "resumed", self.address,
                         event.timeout_ms, ", read-only" if event.read_only else "")
                self.handler.on_connected(event)
                if event.read_only and len(self._rotation.addresses) > 1:
                    self._probe_stop.clear()
                    threading.Thread(target=self._probe_read_write, args=(self.address,),
                                     name="pykeeper-rw-probe", daemon=True).start()
            elif kind is AuthReply:
                if event.err:
                    # Stop and move to auth_failed before add_auth() returns,
                    # so its caller sees that state and AuthFailed from then on.
                    self._final_error = AuthFailedException(
                        f"authentication failed for scheme {event.request.scheme!r}")
                    self.handler.on_auth_failed()
                    if event.context is not None:
                        resolve(event.context, error=exception_for(event.err))
                elif event.context is not None:
                    resolve(event.context, None)
            elif kind is SessionExpired:
                log.warning("session 0x%x expired", event.session_id)
                # (set before the state change, so a caller that sees
                # expired_session gets SessionExpired, not ConnectionLoss)
                if not self.reconnect:
                    self._final_error = SessionExpiredException("the session expired")
                self.handler.on_session_expired(event)
            elif kind is SetWatchesReply and event.err:
                log.warning("re-arming watches failed with error %d", event.err)
        return established

    def _probe_read_write(self, current: Optional[Address]) -> None:
        """Ask the other servers, with growing pauses, whether they serve
        writes ('isro' answers 'rw'); stops when one does or the
        connection ends."""
        pause = 0.1
        while not self._probe_stop.wait(pause):
            for address in self._rotation.addresses:
                if address == current or self._probe_stop.is_set():
                    continue
                if _is_read_write(address, timeout=min(1.0, self.connect_timeout)):
                    log.info("%s serves writes again: moving there", address)
                    self._read_write_found = address
                    self._wake()
                    return
            pause = min(pause * 2, 60.0)

    def _drop(self, sock: socket.socket, address: Address, reason: str) -> None:
        self._probe_stop.set()
        with self._lock:
            was_connected = self.protocol.connected
            lost = self.protocol.connection_lost()
            self._sock = None
            self._outbuf.clear()
        try:
            sock.close()
        except OSError:
            pass
        error = self._final_error
        for request, future in lost:
            if future is not None:
                resolve(future, error=error or ConnectionLossException(
                    f"connection to {address} lost ({reason})", request.path))
        if was_connected and not self._stopping and error is None:
            self._disconnected_since = time.monotonic()
            log.info("connection to %s lost: %s", address, reason)
            self.handler.on_disconnected()
        if error is not None:
            self._stopping = True

    def _shutdown(self) -> None:
        self._stopping = True
        with self._lock:
            self._closing = True
        self.handler.on_closed()
