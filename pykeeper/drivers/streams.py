"""The thread driver's network stream: a non-blocking TCP connection,
opened (TLS handshake included) within a timeout, then read and written
without blocking. With TLS the socket stays a plain non-blocking socket
and the encryption runs through a memory-BIO `TLSStream`, so no plaintext
waits inside an SSL object where a selector cannot see it.

Not thread-safe: the driver serialises `send`, `encrypt` and `decrypt`
under its lock; `recv_into` is used by one thread at a time.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import ssl
import time
from typing import Callable, Optional, Union

from ..core.hosts import Address
from .tls import TLSStream, closed_reason, describe_tls_error

__all__ = ["SocketStream", "ConnectFailed", "open_stream"]

log = logging.getLogger("zookeeper")

_HANDSHAKE_READ = 64 * 1024
# connect_ex() codes of a connection under way: EINPROGRESS (Linux, BSD), WSAEWOULDBLOCK
_IN_PROGRESS = (0, 115, 36, 10035)

Buffer = Union[bytes, bytearray, memoryview]


class ConnectFailed(Exception):
    """One connection attempt failed; the message says why."""


class SocketStream:
    """One open connection: its socket and, with TLS, its TLS state."""

    __slots__ = ("sock", "tls")

    def __init__(self, sock: socket.socket, tls: Optional[TLSStream]) -> None:
        self.sock = sock
        self.tls = tls

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: Buffer) -> int:
        """Write what the socket takes now (never blocks); how many bytes it
        took. Raises OSError when the connection failed."""
        try:
            return self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            return 0

    def encrypt(self, frame: bytes) -> bytes:
        """The bytes to put on the wire for `frame` (itself without TLS).
        Raises ssl.SSLError or ValueError for a broken TLS stream."""
        tls = self.tls
        return frame if tls is None else tls.encrypt(frame)

    def recv_into(self, buffer: bytearray, connected: bool) -> int:
        """Read into `buffer` without blocking: the byte count (0: nothing
        yet). Raises ConnectionResetError at the end of the stream (saying
        why, from `connected`: a session was started), OSError for a failed read."""
        try:
            count = self.sock.recv_into(buffer)
        except (BlockingIOError, InterruptedError):
            return 0
        if not count:
            raise ConnectionResetError(closed_reason(connected, self.tls is not None))
        return count

    def decrypt(self, data: Buffer) -> "tuple[bytes, bytes]":
        """(the plaintext `data` completes, TLS bytes to send in answer);
        only with TLS. Raises ConnectionResetError, ssl.SSLError."""
        tls = self.tls
        assert tls is not None
        plain = tls.decrypt(data)  # type: ignore[arg-type]  # (a MemoryBIO takes any buffer)
        return plain, tls.outgoing()  # (TLS 1.3 may answer, e.g. a key update, on its own)

    def shutdown(self) -> None:
        """End both directions now: a thread blocked reading sees the end at once."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def open_stream(address: Address, timeout: float, ssl_context: Optional[ssl.SSLContext],
                wake: socket.socket, stopping: Callable[[], bool],
                drain: Callable[[], None]) -> SocketStream:
    """A connected stream to `address` (TLS handshake done, with
    `ssl_context`), within `timeout` s; blocks up to that long, less if
    `wake` becomes readable while `stopping()` is true (then `drain()` is
    called for any other wake-up). Raises ConnectFailed saying why not."""
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        log.warning("cannot resolve %s: %s", address, exc)
        raise ConnectFailed(f"cannot resolve the host: {exc}") from None
    reason = "no address"
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        waiter = _Waiter(sock, wake, stopping, drain)
        step = "connect"
        deadline = time.monotonic() + timeout  # for the connection and its handshake
        try:
            err = sock.connect_ex(sockaddr)
            if err not in _IN_PROGRESS:
                raise OSError(err, os.strerror(err))
            if not waiter.wait(selectors.EVENT_WRITE, deadline):
                raise OSError(f"connect timed out after {timeout:.2f}s")
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = None
            if ssl_context is not None:
                step = "tls"
                tls = _handshake(sock, waiter, ssl_context, address, deadline, timeout)
            return SocketStream(sock, tls)
        except (OSError, ValueError) as exc:  # (ssl.SSLError is an OSError)
            sock.close()
            if step == "tls":
                reason = (str(exc) if "timed out" in str(exc) or stopping()
                          else describe_tls_error(exc))
                # A certificate the client refuses, or a server that is
                # not speaking TLS, will not fix itself: say so loudly.
                log.warning("cannot connect to %s: %s", address, reason)
            else:
                reason = str(exc) or type(exc).__name__
                log.info("cannot connect to %s: %s", address, reason)
        finally:
            waiter.close()
    raise ConnectFailed(reason)


class _Waiter:
    """Waits for a connecting socket, or for the driver's wake-up."""

    def __init__(self, sock: socket.socket, wake: socket.socket, stopping: Callable[[], bool],
                 drain: Callable[[], None]) -> None:
        self.sock = sock
        self.stopping = stopping
        self.drain = drain
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_WRITE)
        self.sel.register(wake, selectors.EVENT_READ)
        self.events = selectors.EVENT_WRITE

    def wait(self, events: int, deadline: float) -> bool:
        """Wait until the socket is ready for `events`; False at the
        deadline. Raises OSError when the client is closing."""
        if events != self.events:
            self.sel.modify(self.sock, events)
            self.events = events
        while True:
            ready = self.sel.select(max(0.0, deadline - time.monotonic()))
            if self.stopping():
                raise OSError("client closing")
            if any(key.fileobj is self.sock for key, _ in ready):
                return True
            self.drain()
            if time.monotonic() >= deadline:
                return False

    def close(self) -> None:
        self.sel.close()


def _handshake(sock: socket.socket, waiter: _Waiter, context: ssl.SSLContext,
               address: Address, deadline: float, timeout: float) -> TLSStream:
    """Run the TLS handshake on the connected `sock` until `deadline`."""
    tls = TLSStream(context, address.host)
    started = time.monotonic()
    while True:
        done = tls.handshake_step()
        pending = tls.outgoing()
        while pending:
            if not waiter.wait(selectors.EVENT_WRITE, deadline):
                raise OSError("TLS handshake timed out")
            try:
                sent = sock.send(pending)
            except (BlockingIOError, InterruptedError):
                continue
            pending = pending[sent:]
        if done:
            log.debug("TLS (%s) with %s in %.3f s", tls.version, address,
                      time.monotonic() - started)
            return tls
        if not waiter.wait(selectors.EVENT_READ, deadline):
            raise OSError(f"TLS handshake timed out after {timeout:.2f}s (is this a TLS port?)")
        try:
            data = sock.recv(_HANDSHAKE_READ)
        except (BlockingIOError, InterruptedError):
            continue
        if not data:
            raise ConnectionResetError("the server closed the connection")
        tls.feed(data)
