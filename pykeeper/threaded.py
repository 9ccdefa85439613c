"""The thread-based driver: moves bytes between a socket and a
`ClientProtocol` on one I/O thread per client.

With TLS the socket stays a plain non-blocking socket: the handshake runs
in `_open` (bounded by the connect timeout), and afterwards every frame is
encrypted under the lock on its way into the socket and every read
decrypted under it through a memory-BIO `TLSStream`, so no plaintext waits
inside an SSL object where the selector cannot see it.

Callers send from their own thread (under a lock, straight into the
socket when it has room), so a request costs no thread hand-off on the way
out; the I/O thread reads, matches replies, pings, detects dead servers by
read timeout, and reconnects (resuming the session) when a connection
drops. What to do at each step is decided by the shared `Session`; this
module only does the I/O, the timers and the locking. It never runs user
code: the client's handler gets every event and must only hand it on.

One exception to "the I/O thread reads": a blocking call made when nothing
else is in flight reads its own reply (and any watch event before it) in
the calling thread, as the inline protocol core would, so that a thread
making one call after another pays no wake-up of the I/O thread and no
hand-off back per call. For that the I/O thread "parks" (keeps off the
socket's reads) while such a caller reads, and for READER_LINGER after it,
waiting for the next call; anything else in flight brings it back at once.
One thread reads at a time, and a new reader starts only once the I/O
thread has handled everything read before, so events are handled in the
order they arrive; what a caller reads after its own reply is left to the
I/O thread. (With TLS the caller decrypts what it reads under the lock,
as the I/O thread does; not used where `select.poll` is missing: Windows.)
"""

from __future__ import annotations

import logging
import os
import select
import selectors
import socket
import ssl
import threading
import time
from concurrent.futures import Future
from collections import deque
from typing import Any, Callable, Deque, List, Optional, Tuple, TypeVar, Union

from .hosts import Address
from .protocol.connection import ClientProtocol
from .protocol.errors import ProtocolError
from .protocol.requests import Request
from . import fourletter
from .session import (
    Action, Connect, Drop, FourLetter, Handler, Send, Session, Stop, Wait,
)
from .tls import TLSStream, closed_reason, describe_tls_error

log = logging.getLogger("zookeeper")

T = TypeVar("T")
Buffer = Union[bytes, memoryview]

# Reads go into one buffer per connection: a fresh 256 KiB bytes object
# per recv() costs ~20 us more here (an mmap and its page faults) than the
# system call itself.
_RECV_SIZE = 64 * 1024
# At most this many requests wait for replies on one connection; callers
# beyond it block until replies come in. The server stops reading a
# connection at 1,000 outstanding requests, and a bound keeps a flood of
# calls from filling memory.
DEFAULT_MAX_IN_FLIGHT = 1000
# After a blocking call read its own reply, the I/O thread keeps off the
# socket this long (unless requests are in flight), so that the next
# blocking call may read its reply too instead of waiting for a hand-off.
# It bounds the extra delay of a watch event arriving just after a call.
READER_LINGER = 0.002


class _Reply:
    """Where one blocking call's answer lands: a lock released when it
    arrives. (A Future, with its Condition, costs ~5 us more per call.)"""

    __slots__ = ("_ready", "_done", "_result", "_error")

    def __init__(self) -> None:
        self._ready = threading.Lock()
        self._ready.acquire()
        self._done = False
        self._result: Any = None
        self._error: Optional[BaseException] = None

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Any) -> None:
        self._result = result
        self._done = True
        self._ready.release()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._done = True
        self._ready.release()

    def wait(self) -> Any:
        self._ready.acquire()
        if self._error is not None:
            raise self._error
        return self._result


class _AttemptFailed(Exception):
    """One connection attempt failed; the message says why."""


class ThreadedConnection:
    """One client's connection to an ensemble, served by one I/O thread.

    `send()` is safe from any thread. `close()` is bounded by its timeout.
    """

    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool = True,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.protocol = protocol
        self.ssl_context = ssl_context
        self.handler = handler
        self._lock = threading.Lock()
        self.session = Session(addresses, protocol, handler, connect_timeout, reconnect,
                               guard=self._lock)
        self.max_in_flight = max_in_flight
        self._room = threading.Condition(self._lock)
        self._sock: Optional[socket.socket] = None
        self._tls: Optional[TLSStream] = None  # the current connection's, with TLS
        self._outbuf = bytearray()
        # (Used by one thread at a time: the I/O thread, or the caller
        # reading its own reply while the I/O thread keeps off the socket.)
        self._recv_buffer = bytearray(_RECV_SIZE)
        self._recv_view = memoryview(self._recv_buffer)
        self._live = self.session.live  # (changed under the lock, but for heard_at)
        # Answers of four-letter words asked on other threads, for the I/O thread.
        self._answers: Deque[Tuple[FourLetter, Optional[str]]] = deque()
        # True while the I/O thread is between two waits (it then sends
        # _outbuf before its next wait: see _serve).
        self._io_awake = False
        self._stopping = False
        self._closing = False
        # A blocking call may read its own reply from the socket (see
        # call()): _reader names its thread while it does. The I/O thread
        # keeps off the socket's reads while it is "parked": set under the
        # lock before it stops reading, cleared under it before it reads.
        self._reader: Optional[threading.Thread] = None
        self._reader_gone = threading.Condition(self._lock)
        self._reader_poll: Optional[Any] = None
        self._reader_failure: Optional[BaseException] = None
        self._deferred_events: List[Any] = []  # read by a caller, for the I/O thread
        self._io_parked = False
        self._io_long_park = False  # parked until a reader, long at it, is done
        self._linger_until = 0.0
        self._reader_claims = 0
        self._claims_seen = 0  # _reader_claims when the I/O thread last parked
        self._generation = 0  # of connections: a reader of an older one is ignored
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="pykeeper-io", daemon=True)

    @property
    def address(self) -> Optional[Address]:
        return self.session.address

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
        """Send `request`; returns a Future of its result.

        Blocks while `max_in_flight` requests await replies (until one
        comes back, or the connection drops); never on the I/O thread itself
        (a callback there sending more), which alone could make room.
        Raises ConnectionLossException
        at once when there is no live session connection,
        ClientClosedException after close().
        """
        return self._send(request, Future())

    def call(self, request: Request) -> Any:
        """Send `request` and wait for its result (or raise its error); as
        send(), then as long as the server takes (a connection that stops
        answering is dropped after the read timeout, failing the call).

        When no other reply is awaited and the I/O thread is keeping off the
        socket (it does for a moment after each such call), the calling
        thread reads the reply itself, handling the watch events that come
        before it as the I/O thread would: a thread making one call after
        another then pays no hand-off per call."""
        reply = _Reply()
        me = threading.current_thread()
        with self._lock:
            self._wait_for_room_locked(request, me)
            idle = self.protocol.idle
            read_here = (idle and self._io_parked and self._reader is None
                         and not self._deferred_events and me is not self._thread)
            self._write_locked(self.protocol.send(request, reply))
            if read_here:
                self._reader = me
                self._reader_claims += 1
                claim = (self._generation, self._sock, self._reader_poll, self._tls)
            elif idle and self._reader_poll is not None:
                # Ask the I/O thread to keep off the socket after this reply,
                # so that a next call can read its own.
                self._linger_until = time.monotonic() + READER_LINGER
        if read_here:
            self._read_until(reply, *claim)
        return reply.wait()

    def _send(self, request: Request, future: Future) -> Future:
        with self._lock:
            self._wait_for_room_locked(request, threading.current_thread())
            self._write_locked(self.protocol.send(request, future))
            self._unpark_locked()
        return future

    def _wait_for_room_locked(self, request: Request, me: threading.Thread) -> None:
        """Return once `request` may be sent: fewer than max_in_flight
        requests in flight, or `me` is the thread that reads replies (only
        it could make room). Raises what check_open raises."""
        while True:
            self.session.check_open(request, self._closing or self._stopping)
            if (self.protocol.pending_count < self.max_in_flight
                    or me is self._thread or me is self._reader):
                return
            self._room.wait()

    def _unpark_locked(self) -> None:
        """A request was sent whose reply no caller reads: if the I/O thread
        keeps off the socket, bring it back to read it."""
        if self._io_parked and self._reader is None:
            self._io_parked = False
            self._linger_until = 0.0
            self._wake()

    def _read_until(self, reply: _Reply, generation: int, sock: socket.socket,
                    poll: Any, tls: Optional[TLSStream]) -> None:
        """Read and handle what comes in until `reply` is done (or the
        connection fails, or the server is silent for the read timeout:
        then the I/O thread takes over and fails or completes the call)."""
        failure: Optional[BaseException] = None
        try:
            while not reply._done:
                # Past the read timeout the I/O thread decides whether the
                # server is dead (after a pause of ours it is not): hand over.
                wait = self._live.heard_at + self.session.read_timeout() - time.monotonic()
                if not poll.poll(max(0.0, wait) * 1000.0):
                    break
                data = self._read_chunk(sock, tls, True)
                if data:
                    self._receive_own(data, reply, generation)
        except (OSError, ProtocolError) as exc:
            failure = exc
        finally:
            with self._lock:
                if self._generation == generation:  # (else _drop gave up on us)
                    self._reader = None
                    self._reader_gone.notify_all()
                    hand_over = (failure is not None or not self.protocol.idle
                                 or bool(self._deferred_events) or not reply._done
                                 or self.session.final_error is not None)
                    if failure is not None and self._reader_failure is None:
                        self._reader_failure = failure
                    if hand_over:
                        # No new reader before the I/O thread has caught up.
                        self._io_parked = False
                        self._linger_until = 0.0
                    else:
                        self._linger_until = time.monotonic() + READER_LINGER
                    if hand_over or self._io_long_park:
                        self._io_long_park = False
                        self._wake()

    def _write_locked(self, frame: bytes) -> None:
        if not frame:
            return  # (a request held until credentials are accepted)
        self._live.sent(time.monotonic())
        if self._tls is not None:
            try:
                frame = self._tls.encrypt(frame)
            except (ssl.SSLError, ValueError) as exc:
                # The stream is broken: make the I/O thread's next read fail.
                log.warning("TLS write failed, resetting the connection: %s", exc)
                self._shutdown_sock()
                return
        self._write_raw_locked(frame)

    def _shutdown_sock(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        except (OSError, AttributeError):
            pass

    def _write_raw_locked(self, frame: bytes) -> None:
        if self._outbuf or self._io_awake:
            # The I/O thread is awake: it sends what is buffered, all in
            # one system call, before it waits again.
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
            self.session.close_requested()
            self._room.notify_all()
            if self.protocol.connected and self._sock is not None:
                future = Future()
                self._write_locked(self.protocol.close_frame(future))
                self._unpark_locked()
        if future is not None:
            if threading.current_thread() in (self._thread, self._reader):
                # Called back on the thread reading replies, which reads the
                # reply only once this returns: the server's answer (it then closes the
                # connection) or the read timeout ends the thread, which no
                # longer reconnects.
                return
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
        """Carry out the session's actions until it says stop."""
        session = self.session
        try:
            pending: Deque[Action] = deque(session.start(time.monotonic()))
            while pending and not self._stopping:
                action = pending.popleft()
                kind = type(action)
                if kind is Stop:
                    break
                if kind is Wait:
                    if not self._answers:
                        self._sleep(max(0.0, action.until - time.monotonic()))  # type: ignore[union-attr]
                    pending.extend(self._answered())
                    pending.extend(session.tick(time.monotonic()))
                elif kind is FourLetter:
                    self._ask(action)  # type: ignore[arg-type]
                elif kind is Connect:
                    try:
                        sock, tls = self._open(action.address, action.timeout)  # type: ignore[union-attr]
                    except _AttemptFailed as exc:
                        pending.extend(session.connect_failed(time.monotonic(), str(exc)))
                        continue
                    pending.extend(self._serve(sock, action.address, tls))  # type: ignore[union-attr]
        except Exception:  # a bug here must not leave callers hanging
            log.exception("pykeeper I/O thread failed")
        finally:
            self._stopping = True
            with self._lock:
                self._closing = True
                self._room.notify_all()
            session.finished()

    def _ask(self, action: FourLetter) -> None:
        """Ask a four-letter word on a thread of its own; its answer goes
        to the I/O thread (see _answered)."""
        def ask() -> None:
            try:
                answer: Optional[str] = fourletter.ask(
                    action.address.host, action.address.port, action.word, action.timeout,
                    self.ssl_context)
            except (OSError, ValueError):
                answer = None
            self._answers.append((action, answer))
            self._wake()
        threading.Thread(target=ask, name="pykeeper-4lw", daemon=True).start()

    def _answered(self) -> List[Action]:
        """The session's actions for the four-letter answers that came in."""
        actions: List[Action] = []
        while self._answers:
            asked, answer = self._answers.popleft()
            actions.extend(self.session.four_letter_answer(
                time.monotonic(), asked.address, asked.word, answer))
        return actions

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

    def _open(self, address: Address,
              timeout: float) -> Tuple[socket.socket, Optional[TLSStream]]:
        """A connected non-blocking socket to `address`, with its TLS
        stream when the client uses TLS (handshake done), all within
        `timeout`. Raises _AttemptFailed saying why not."""
        try:
            infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            log.warning("cannot resolve %s: %s", address, exc)
            raise _AttemptFailed(f"cannot resolve the host: {exc}") from None
        reason = "no address"
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            sel = selectors.DefaultSelector()
            step = "connect"
            deadline = time.monotonic() + timeout  # for the connection and its handshake
            try:
                err = sock.connect_ex(sockaddr)
                if err not in (0, 115, 36, 10035):  # EINPROGRESS (Linux, BSD), WSAEWOULDBLOCK
                    raise OSError(err, os.strerror(err))
                sel.register(sock, selectors.EVENT_WRITE)
                sel.register(self._wake_r, selectors.EVENT_READ)
                if not self._wait(sel, sock, deadline):
                    raise OSError(f"connect timed out after {timeout:.2f}s")
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                tls = None
                if self.ssl_context is not None:
                    step = "tls"
                    tls = self._handshake(sock, sel, address, deadline, timeout)
                return sock, tls
            except (OSError, ValueError) as exc:  # (ssl.SSLError is an OSError)
                sock.close()
                if step == "tls":
                    reason = (str(exc) if "timed out" in str(exc) or self._stopping
                              else describe_tls_error(exc))
                    # A certificate the client refuses, or a server that is
                    # not speaking TLS, will not fix itself: say so loudly.
                    log.warning("cannot connect to %s: %s", address, reason)
                else:
                    reason = str(exc) or type(exc).__name__
                    log.info("cannot connect to %s: %s", address, reason)
            finally:
                sel.close()
        raise _AttemptFailed(reason)

    def _wait(self, sel: selectors.BaseSelector, sock: socket.socket, deadline: float) -> bool:
        """Wait until `sock` is ready for what `sel` asks; False at the
        deadline. Raises OSError when the client is closing."""
        while True:
            ready = sel.select(max(0.0, deadline - time.monotonic()))
            if self._stopping:
                raise OSError("client closing")
            if any(key.fileobj is sock for key, _ in ready):
                return True
            self._drain_wake()
            if time.monotonic() >= deadline:
                return False

    def _handshake(self, sock: socket.socket, sel: selectors.BaseSelector, address: Address,
                   deadline: float, timeout: float) -> TLSStream:
        """Run the TLS handshake on the connected `sock` until `deadline`."""
        tls = TLSStream(self.ssl_context, address.host)  # type: ignore[arg-type]
        started = time.monotonic()
        while True:
            done = tls.handshake_step()
            pending = tls.outgoing()
            while pending:
                sel.modify(sock, selectors.EVENT_WRITE)
                if not self._wait(sel, sock, deadline):
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
            sel.modify(sock, selectors.EVENT_READ)
            if not self._wait(sel, sock, deadline):
                raise OSError(f"TLS handshake timed out after "
                              f"{timeout:.2f}s (is this a TLS port?)")
            try:
                data = sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                raise ConnectionResetError("the server closed the connection")
            tls.feed(data)

    def _serve(self, sock: socket.socket, address: Address,
               tls: Optional[TLSStream]) -> List[Action]:
        """Run one connection until it ends; returns the session's actions after it."""
        session = self.session
        established = False
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        want_write = False
        reason = "closed"
        with self._lock:
            self._sock = sock
            self._tls = tls
            self._outbuf.clear()
        actions = session.connection_made(time.monotonic())
        if hasattr(select, "poll"):  # (not on Windows)
            with self._lock:
                self._reader_poll = select.poll()
                self._reader_poll.register(sock, select.POLLIN)
        parked = selectors.DefaultSelector()  # while a caller reads: wake-ups only
        parked.register(self._wake_r, selectors.EVENT_READ)
        data_waiting = False
        try:
            while not self._stopping:
                now = time.monotonic()
                if self._answers:
                    actions.extend(self._answered())
                with self._lock:
                    actions.extend(session.tick(now))
                    dead, wait = self._carry_out_locked(actions, now)
                actions = []
                if dead is not None:
                    reason = dead
                    break
                with self._lock:
                    self._io_parked = False  # no new reader until decided again below
                    deferred, self._deferred_events = self._deferred_events, []
                    failure, self._reader_failure = self._reader_failure, None
                if deferred:
                    self.session.dispatch(deferred)
                if failure is not None:
                    raise failure
                with self._lock:
                    if self._outbuf:
                        self._flush_locked()
                    need_write = bool(self._outbuf)
                    reading = self._reader is not None
                    lingering = (not reading and not need_write and not data_waiting
                                 and self._reader_poll is not None and self.protocol.idle
                                 and now < self._linger_until)
                    if reading:
                        # Keep off the socket. Look again soon, so that events
                        # arriving after the caller is done wait at most
                        # READER_LINGER; but a caller still at the same call
                        # then is slow, and wakes us when it is done.
                        self._io_long_park = self._reader_claims == self._claims_seen
                        self._claims_seen = self._reader_claims
                        wait = wait if self._io_long_park else min(wait, READER_LINGER)
                    elif lingering:
                        wait = min(wait, self._linger_until - now)
                    self._io_parked = reading or lingering
                    self._io_awake = False
                data_waiting = False
                if reading:
                    self._park(parked, sock, wait, need_write)
                else:
                    if need_write != want_write:
                        want_write = need_write
                        sel.modify(sock, selectors.EVENT_READ
                                   | (selectors.EVENT_WRITE if want_write else 0))
                    ready = sel.select(wait)
                    self._io_awake = True
                    for key, mask in ready:
                        if key.fileobj is self._wake_r:
                            self._drain_wake()
                            continue
                        if lingering:
                            # Data and (so far) no caller to read it: an event,
                            # or the end of the connection. Read it next time
                            # round, unless a caller claimed it meanwhile.
                            data_waiting = True
                            continue
                        if mask & selectors.EVENT_WRITE:
                            self._flush()
                        if mask & selectors.EVENT_READ:
                            data = self._read_chunk(
                                sock, tls, established or self.protocol.connected)
                            if data and self._receive(data):
                                established = True
        except (OSError, ProtocolError) as exc:
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, ssl.SSLError):
                reason = f"TLS error: {exc.reason or exc}"
            if isinstance(exc, ProtocolError):
                log.warning("protocol error from %s, resetting the connection: %s", address, exc)
        finally:
            sel.close()
            parked.close()
            after = self._drop(sock, address, reason)
        return after

    def _carry_out_locked(self, actions: List[Action], now: float) -> Tuple[Optional[str], float]:
        """Carry out a connection's actions; (why to drop it, or None; how
        long to wait before the next tick)."""
        drop: Optional[str] = None
        wait = 0.1  # (every tick of a connection ends in a Wait or a Drop)
        for action in actions:
            kind = type(action)
            if kind is Send:
                self._write_locked(action.data)  # type: ignore[union-attr]
            elif kind is Wait:
                wait = max(0.0, action.until - now)  # type: ignore[union-attr]
            elif kind is FourLetter:
                self._ask(action)  # type: ignore[arg-type]
            elif kind is Drop:
                drop = action.reason  # type: ignore[union-attr]
        return drop, wait

    def _park(self, parked: selectors.BaseSelector, sock: socket.socket, wait: float,
              need_write: bool) -> None:
        """Wait (at most `wait` s) without reading the socket: for a wake-up,
        and for room to send when frames are buffered."""
        if need_write:
            parked.register(sock, selectors.EVENT_WRITE)
        try:
            ready = parked.select(wait)
        finally:
            self._io_awake = True
            if need_write:
                parked.unregister(sock)
        for key, _ in ready:
            if key.fileobj is self._wake_r:
                self._drain_wake()
            else:
                self._flush()

    def _read_chunk(self, sock: socket.socket, tls: Optional[TLSStream],
                    connected: bool) -> Optional[Buffer]:
        """What one read of `sock` brings (decrypted with TLS), valid until
        the next read; None when there is nothing yet (no data after all, or
        only part of a TLS record). Raises ConnectionResetError at the end of
        the stream (saying why, from `connected`), OSError for a failed read."""
        try:
            count = sock.recv_into(self._recv_buffer)
        except (BlockingIOError, InterruptedError):
            return None
        if not count:
            raise ConnectionResetError(closed_reason(connected, tls is not None))
        self._live.heard_at = time.monotonic()
        data: Buffer = self._recv_view[:count]
        if tls is not None:
            data = self._decrypt(tls, data)
        return data or None

    def _flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._outbuf or self._sock is None:
            return
        try:
            sent = self._sock.send(self._outbuf)
        except (BlockingIOError, InterruptedError):
            return
        del self._outbuf[:sent]

    def _decrypt(self, tls: TLSStream, data: Buffer) -> bytes:
        with self._lock:
            if tls is not self._tls:
                # A caller given up on by _drop: nothing of the old stream
                # may reach the next connection.
                raise ConnectionResetError("the connection was dropped")
            plain = tls.decrypt(data)
            # (TLS 1.3 may answer, e.g. a key update, on its own.)
            reply = tls.outgoing()
            if reply:
                self._write_raw_locked(reply)
        return plain

    def _feed_locked(self, data: Buffer) -> Tuple[List[Any], Optional[ProtocolError]]:
        """Feed the protocol; its events, and the error that ended the
        connection (events before it still count)."""
        before = self.protocol.pending_count
        try:
            events, frames = self.session.receive(self._live.heard_at, data)
        except ProtocolError as exc:
            events, frames, error = exc.events, [], exc  # type: ignore[attr-defined]
        else:
            error = None
        for frame in frames:
            self._write_locked(frame)
        if before >= self.max_in_flight > self.protocol.pending_count:
            self._room.notify_all()
        return events, error

    def _receive_own(self, data: Buffer, mine: _Reply, generation: int) -> None:
        """A caller's _receive: acts only on the events up to its own reply
        (`mine`) and leaves the rest, in order, to the I/O thread, so other
        callers' future callbacks never run in a thread inside a call of
        its own; and what it cannot handle (an exception raised in it, say
        by a signal handler) is left there too, not lost."""
        with self._lock:
            if generation != self._generation:
                return  # the I/O thread gave up on this connection meanwhile
            events, error = self._feed_locked(data)
            for index, event in enumerate(events):
                if getattr(event, "context", None) is mine:
                    if index + 1 < len(events):
                        self._deferred_events = events[index + 1:]
                        events = events[:index + 1]
                    break
        remaining = iter(events)
        try:
            self.session.dispatch(remaining)
        except BaseException:
            with self._lock:
                self._deferred_events[:0] = list(remaining)
            raise
        if error is not None:
            raise error

    def _receive(self, data: Buffer) -> bool:
        """Feed the protocol and act on its events; True if a session was established."""
        with self._lock:
            events, error = self._feed_locked(data)
        if error is not None:
            self.session.dispatch(events)
            raise error
        return self.session.dispatch(events) is not None

    def _drop(self, sock: socket.socket, address: Address, reason: str) -> List[Action]:
        with self._lock:
            if self._reader is not None:
                # End its read (it sees the end of the stream at once), and
                # let it finish handling what it read before this, so events
                # stay in order. One that does not let go (an exception raised
                # by a signal handler at the wrong moment can leave _reader
                # set) is given up on: the generation tells it so.
                self._shutdown_sock()  # (still this connection's socket here)
                deadline = time.monotonic() + 1.0
                while self._reader is not None and time.monotonic() < deadline:
                    self._reader_gone.wait(max(0.0, deadline - time.monotonic()))
                self._reader = None
            self._generation += 1
            self._reader_poll = None
            self._reader_failure = None
            deferred, self._deferred_events = self._deferred_events, []
            self._io_parked = False
            self._io_long_park = False
            self._linger_until = 0.0
            lost = self.protocol.connection_lost()
            self._sock = None
            self._tls = None
            self._outbuf.clear()
            self._room.notify_all()
        try:
            sock.close()
        except OSError:
            pass
        if deferred:
            self.session.dispatch(deferred)
        if self._stopping:
            self.session.close_requested()
        return self.session.connection_lost(time.monotonic(), reason, lost)
