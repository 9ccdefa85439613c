"""The thread-based driver: carries out a `Session`'s actions on one I/O
thread per client, moving bytes between a `SocketStream` and the
`ClientProtocol`.

Callers send from their own thread (under a lock, straight into the
socket when it has room), so a request costs no thread hand-off on the way
out; the I/O thread reads, hands events to the session, and does what the
session answers (connect, ping, ask a four-letter word, drop, wait). It
decides nothing itself and never runs user code: the client's handler gets
every event and must only hand it on. A blocking call made when nothing
else is in flight reads its own reply in the calling thread: the rules of
that are `handoff.OwnReplyHandoff`'s.
"""

from __future__ import annotations

import logging
import select
import selectors
import socket
import ssl
import threading
import time
from concurrent.futures import Future
from collections import deque
from typing import Any, Callable, Deque, List, Optional, Tuple, TypeVar, Union

from ..core.hosts import Address
from ..protocol.client_protocol import ClientProtocol
from ..protocol.errors import ProtocolError
from ..protocol.requests import Request
from . import fourletter_io
from ..core.session import (
    Action, Connect, FourLetter, Handler, Session, Stop, Wait, plan_connection,
)
from .handoff import READER_LINGER, OwnReplyHandoff
from .streams import ConnectFailed, SocketStream, open_stream

log = logging.getLogger("zookeeper")

__all__ = ["ThreadedConnection", "DEFAULT_MAX_IN_FLIGHT", "READER_LINGER"]

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


class ThreadedConnection:
    """One client's connection to an ensemble, served by one I/O thread.

    `send()` is safe from any thread. `close()` is bounded by its timeout.
    """

    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool = True,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 ssl_context: Optional[ssl.SSLContext] = None,
                 randomize_hosts: bool = True) -> None:
        self.protocol = protocol
        self.ssl_context = ssl_context
        self.handler = handler
        self._lock = threading.Lock()
        self.session = Session(addresses, protocol, handler, connect_timeout, reconnect,
                               guard=self._lock, shuffle=randomize_hosts)
        self.max_in_flight = max_in_flight
        self._room = threading.Condition(self._lock)
        self._stream: Optional[SocketStream] = None  # the current connection's
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
        # A blocking call may read its own reply from the socket (see call()).
        self._handoff = OwnReplyHandoff(self._lock)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="pykeeper-io", daemon=True)

    @property
    def address(self) -> Optional[Address]:
        return self.session.address

    def update_hosts(self, addresses: List[Address]) -> None:
        """New servers for the session (see Session.update_hosts). Never blocks."""
        self.session.update_hosts(addresses)
        self._wake()

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

    def send(self, request: Request, future: Optional["Future[Any]"] = None) -> "Future[Any]":
        """Send `request`; returns a Future of its result (`future`, if given).

        Blocks while `max_in_flight` requests await replies (until one
        comes back, or the connection drops); never on the I/O thread itself
        (a callback there sending more), which alone could make room.
        Raises ConnectionLossException
        at once when there is no live session connection,
        ClientClosedException after close().
        """
        return self._send(request, Future() if future is None else future)

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
            frame = self.protocol.send(request, reply)
            generation = self._handoff.claim(me, self._thread, idle)
            self._write_locked(frame)
            stream, poll = self._stream, self._handoff.poll
        if generation is not None:
            self._read_until(reply, generation, stream, poll)  # type: ignore[arg-type]
        return reply.wait()

    def _send(self, request: Request, future: "Future[Any]") -> "Future[Any]":
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
                    or me is self._thread or me is self._handoff.reader):
                return
            self._room.wait()

    def _unpark_locked(self) -> None:
        """A request was sent whose reply no caller reads: if the I/O thread
        keeps off the socket, bring it back to read it."""
        if self._handoff.unpark():
            self._wake()

    def _read_until(self, reply: _Reply, generation: int, stream: SocketStream,
                    poll: Any) -> None:
        """Read and handle what comes in until `reply` is done (or the
        connection fails, or the server is silent for the read timeout:
        then the I/O thread takes over and fails or completes the call)."""
        failure: Optional[BaseException] = None
        try:
            while not reply._done:
                # Past it, the session's tick decides whether the server is
                # dead (after a pause of ours it is not): hand over.
                wait = self.session.reply_due() - time.monotonic()
                if not poll.poll(max(0.0, wait) * 1000.0):
                    break
                data = self._read_chunk(stream, True)
                if data:
                    self._receive_own(data, reply, generation)
        except (OSError, ProtocolError) as exc:
            failure = exc
        finally:
            with self._lock:
                if self._handoff.release(generation, failure, (
                        not self.protocol.idle or not reply._done
                        or self.session.final_error is not None)):
                    self._wake()

    def _write_locked(self, frame: bytes) -> None:
        if not frame:
            return  # (a request held until credentials are accepted)
        self._live.sent(time.monotonic())
        stream = self._stream
        if stream is not None and stream.tls is not None:
            try:
                frame = stream.encrypt(frame)
            except (ssl.SSLError, ValueError) as exc:
                # The stream is broken: make the I/O thread's next read fail.
                log.warning("TLS write failed, resetting the connection: %s", exc)
                self._shutdown_sock()
                return
        self._write_raw_locked(frame)

    def _shutdown_sock(self) -> None:
        if self._stream is not None:
            self._stream.shutdown()

    def _write_raw_locked(self, frame: bytes) -> None:
        if self._outbuf or self._io_awake:
            # The I/O thread is awake: it sends what is buffered, all in
            # one system call, before it waits again.
            self._outbuf += frame
            return
        sent = 0
        try:
            sent = self._stream.send(frame)  # type: ignore[union-attr]
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
        future: "Optional[Future[Any]]" = None
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self.session.close_requested()
            self._room.notify_all()
            if self.protocol.connected and self._stream is not None:
                future = Future()
                self._write_locked(self.protocol.close_frame(future))
                self._unpark_locked()
        if future is not None:
            if threading.current_thread() in (self._thread, self._handoff.reader):
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
                if isinstance(action, Stop):
                    break
                if isinstance(action, Wait):
                    if not self._answers:
                        self._sleep(max(0.0, action.until - time.monotonic()))
                    pending.extend(self._answered())
                    pending.extend(session.tick(time.monotonic()))
                elif isinstance(action, FourLetter):
                    self._ask(action)
                elif isinstance(action, Connect):
                    try:
                        stream = open_stream(action.address, action.timeout,
                                             self.ssl_context, self._wake_r,
                                             lambda: self._stopping, self._drain_wake)
                    except ConnectFailed as exc:
                        pending.extend(session.connect_failed(time.monotonic(), str(exc)))
                        continue
                    pending.extend(self._serve(stream, action.address))
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
                answer: Optional[str] = fourletter_io.ask(
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

    def _serve(self, stream: SocketStream, address: Address) -> List[Action]:
        """Run one connection until it ends; returns the session's actions after it."""
        session = self.session
        established = False
        sock = stream.sock
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(self._wake_r, selectors.EVENT_READ)
        want_write = False
        reason = "closed"
        with self._lock:
            self._stream = stream
            self._outbuf.clear()
        actions = session.connection_made(time.monotonic())
        if hasattr(select, "poll"):  # (not on Windows: no caller reads there)
            poll = select.poll()
            poll.register(sock, select.POLLIN)
            with self._lock:
                self._handoff.start_connection(poll)
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
                    deferred, failure = self._handoff.take()
                if deferred:
                    self.session.dispatch(deferred)
                if failure is not None:
                    raise failure
                with self._lock:
                    if self._outbuf:
                        self._flush_locked()
                    need_write = bool(self._outbuf)
                    reading, lingering, wait = self._handoff.park(
                        now, wait, need_write, data_waiting, self.protocol.idle)
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
                                stream, established or self.protocol.connected)
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
            after = self._drop(stream, reason)
        return after

    def _carry_out_locked(self, actions: List[Action], now: float) -> Tuple[Optional[str], float]:
        """Carry out a connection's actions; (why to drop it, or None; how
        long to wait before the next tick)."""
        plan = plan_connection(actions, now)
        for frame in plan.frames:
            self._write_locked(frame)
        for question in plan.ask:
            self._ask(question)
        return plan.drop, plan.wait

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

    def _read_chunk(self, stream: SocketStream, connected: bool) -> Optional[Buffer]:
        """What one read of `stream` brings (decrypted with TLS), valid until
        the next read; None when there is nothing yet (no data after all, or
        only part of a TLS record). Raises ConnectionResetError at the end of
        the stream (saying why, from `connected`), OSError for a failed read."""
        count = stream.recv_into(self._recv_buffer, connected)
        if not count:
            return None
        self._live.heard_at = time.monotonic()
        data: Buffer = self._recv_view[:count]
        if stream.tls is not None:
            data = self._decrypt(stream, data)
        return data or None

    def _flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._outbuf or self._stream is None:
            return
        sent = self._stream.send(self._outbuf)
        if sent:
            del self._outbuf[:sent]

    def _decrypt(self, stream: SocketStream, data: Buffer) -> bytes:
        with self._lock:
            if stream is not self._stream:
                # A caller given up on by _drop: nothing of the old stream
                # may reach the next connection.
                raise ConnectionResetError("the connection was dropped")
            plain, answer = stream.decrypt(data)
            if answer:
                self._write_raw_locked(answer)
        return plain

    def _feed_locked(self, data: Buffer) -> Tuple[List[Any], Optional[ProtocolError]]:
        """Feed the protocol; its events, and the error that ended the
        connection (events before it still count)."""
        before = self.protocol.pending_count
        error: Optional[ProtocolError] = None
        try:
            events, frames = self.session.receive(self._live.heard_at, data)
        except ProtocolError as exc:
            events, frames, error = exc.events, [], exc
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
            if not self._handoff.is_current(generation):
                return  # the I/O thread gave up on this connection meanwhile
            events, error = self._feed_locked(data)
            for index, event in enumerate(events):
                if getattr(event, "context", None) is mine:
                    if index + 1 < len(events):
                        self._handoff.defer(events[index + 1:])
                        events = events[:index + 1]
                    break
        remaining = iter(events)
        try:
            self.session.dispatch(remaining)
        except BaseException:
            with self._lock:
                self._handoff.defer(list(remaining), first=True)
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

    def _drop(self, stream: SocketStream, reason: str) -> List[Action]:
        with self._lock:
            # A caller still reading ends its read (it sees the end of the
            # stream at once) and handles what it read first, so events stay
            # in order; one that does not let go is given up on.
            deferred = self._handoff.end_connection(self._shutdown_sock)
            lost = self.protocol.connection_lost()
            self._stream = None
            self._outbuf.clear()
            self._room.notify_all()
        stream.close()
        if deferred:
            self.session.dispatch(deferred)
        if self._stopping:
            self.session.close_requested()
        return self.session.connection_lost(time.monotonic(), reason, lost)
