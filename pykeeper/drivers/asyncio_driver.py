"""The asyncio driver: moves bytes between an asyncio transport and a
`ClientProtocol`, on the event loop, with no threads.

Like the thread driver, it only does I/O, timers and waiting; what to do
at each step (which server next, back-off, pings, read timeouts, what
each protocol event means) is the shared `Session`'s. With TLS, asyncio's
own SSL transport does the encryption; the handshake is part of opening
the connection, so the connect timeout bounds it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from concurrent.futures import Future
from collections import deque
from typing import Any, Deque, List, Optional, Tuple, Union

from ..core.hosts import Address
from ..protocol.client_protocol import ClientProtocol
from ..protocol.errors import ConnectionLossException, ProtocolError
from ..protocol.requests import Request
from . import fourletter_io
from ..core.session import (
    Action, Connect, FourLetter, Handler, Session, Stop, Wait, plan_connection,
)
from .tls import closed_reason, describe_tls_error

log = logging.getLogger("zookeeper")

DEFAULT_MAX_IN_FLIGHT = 1000


# The transport reads into one buffer of ours: asyncio's default, a fresh
# 256 KiB bytes object per read, costs ~20 us more here (an mmap and its
# page faults) than the system call itself.
_READ_SIZE = 64 * 1024


class _Stream(asyncio.BufferedProtocol):
    """Hands a transport's bytes and its end to the connection."""

    def __init__(self, owner: "AsyncioConnection") -> None:
        self.owner = owner
        self.lost: Optional[str] = None
        self._buffer = memoryview(bytearray(_READ_SIZE))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        # (The protocol copies what it keeps: the buffer is free again after.)
        self.owner._data_received(self, self._buffer[:nbytes])

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        owner = self.owner
        self.lost = str(exc) if exc else closed_reason(
            owner.protocol.connected, owner.ssl_context is not None)
        self.owner._wake.set()


class AsyncioConnection:
    """One client's connection to an ensemble, driven by an asyncio task.

    Every method must be called on the connection's event loop.
    """

    def __init__(self, addresses: List[Address], protocol: ClientProtocol, handler: Handler,
                 connect_timeout: float, reconnect: bool = True,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 ssl_context: Optional[ssl.SSLContext] = None,
                 randomize_hosts: bool = True) -> None:
        self.protocol = protocol
        self.ssl_context = ssl_context
        self.handler = handler
        self.session = Session(addresses, protocol, handler, connect_timeout, reconnect,
                               shuffle=randomize_hosts)
        self.max_in_flight = max_in_flight
        self._transport: Optional[asyncio.Transport] = None
        self._stream: Optional[_Stream] = None
        self._live = self.session.live
        # Answers of four-letter words asked by tasks of their own.
        self._answers: Deque[Tuple[FourLetter, Optional[str]]] = deque()
        self._asking: "set[asyncio.Task[None]]" = set()
        self._stopping = False
        self._closing = False
        self._wake = asyncio.Event()
        # Requests waiting for room in the in-flight window, with their
        # futures; sent in order as replies make room.
        self._queued: Deque[Tuple[Request, "asyncio.Future[Any]"]] = deque()
        self._task: "Optional[asyncio.Task[None]]" = None
        self._protocol_error: Optional[ProtocolError] = None
        # Frames written in this turn of the loop, sent together at its end
        # (one system call for a burst of requests instead of one each).
        self._outgoing: List[bytes] = []
        self._flushing: Optional[asyncio.Handle] = None

    @property
    def address(self) -> Optional[Address]:
        return self.session.address

    @property
    def alive(self) -> bool:
        return not self._stopping

    def update_hosts(self, addresses: List[Address]) -> None:
        """New servers for the session (see Session.update_hosts); call on
        the loop."""
        self.session.update_hosts(addresses)
        self._wake.set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())

    # -- caller side ---------------------------------------------------------

    def call(self, request: Request) -> "asyncio.Future[Any]":
        """Send `request`; an asyncio future of its result (cancelling it
        drops the reply). While `max_in_flight` requests await replies it
        is queued, and sent, in order, as replies make room.

        Raises ConnectionLossException at once when there is no live
        session connection, ClientClosedException after close(); a queued
        request gets the same if the connection ends before it is sent.
        """
        self.session.check_open(request, self._closing or self._stopping)
        # An asyncio future: cheaper than a concurrent one, and awaited
        # directly. (Its callbacks run later, on the loop: fine for a
        # caller awaiting it, not for the caches, which use send_now.)
        future = self._loop.create_future()
        if self._queued or self.protocol.pending_count >= self.max_in_flight:
            self._queued.append((request, future))
        else:
            self._write(self.protocol.send(request, future))
        return future

    def _send_queued(self) -> None:
        queued = self._queued
        while queued and self.protocol.pending_count < self.max_in_flight:
            request, future = queued.popleft()
            if future.done():
                continue  # cancelled while it waited
            try:
                frame = self.protocol.send(request, future)
            except Exception as exc:  # (too big for the server, say)
                future.set_exception(exc)
                continue
            self._write(frame)

    def _fail_queued(self) -> None:
        """The requests never sent get what a new call would get now."""
        queued, self._queued = self._queued, deque()
        for request, future in queued:
            if future.done():
                continue
            try:
                self.session.check_open(request, self._closing or self._stopping)
                error: Exception = ConnectionLossException(
                    "the connection ended before the request was sent",
                    getattr(request, "path", None))
            except Exception as exc:
                error = exc
            future.set_exception(error)

    def send_now(self, request: Request,
                 future: Optional["Future[Any]"] = None) -> "Future[Any]":
        """Send `request` without waiting for room in the in-flight window;
        its reply resolves `future` (a new one if None), returned."""
        self.session.check_open(request, self._closing or self._stopping)
        # A concurrent.futures, not an asyncio, future: its callbacks run at
        # once, in reply order, before the next notification is processed,
        # which is what keeps the caches' stores ahead of invalidations.
        if future is None:
            future = Future()
        self._write(self.protocol.send(request, future))
        return future

    def _write(self, frame: bytes) -> None:
        if not frame:
            return  # (a request held until credentials are accepted)
        self._live.sent(time.monotonic())
        if self._transport is not None:
            if not self._outgoing:
                self._flushing = self._loop.call_soon(self._flush)
            self._outgoing.append(frame)

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        if frames and self._transport is not None:
            self._transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    async def close(self, timeout: float) -> None:
        """Close the session (flushing requests already sent) and stop;
        waits at most about `timeout` seconds in all."""
        if self._closing:
            return
        deadline = time.monotonic() + timeout
        self._closing = True
        self.session.close_requested()
        self._fail_queued()
        if self.protocol.connected and self._transport is not None:
            future: "Future[Any]" = Future()
            self._write(self.protocol.close_frame(future))
            try:
                await asyncio.wait_for(asyncio.wrap_future(future),
                                       max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # timeout or connection loss: the session ends anyway
                log.debug("close: no reply to CloseSession (%s)", exc)
        self._stopping = True
        self._wake.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task),
                                       max(0.05, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                self._task.cancel()

    # -- the connection task ---------------------------------------------------

    async def _run(self) -> None:
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
                        await self._pause(max(0.0, action.until - time.monotonic()))
                    pending.extend(self._answered())
                    pending.extend(session.tick(time.monotonic()))
                elif isinstance(action, FourLetter):
                    self._ask(action)
                elif isinstance(action, Connect):
                    stream = await self._open(action.address, action.timeout)
                    if isinstance(stream, str):
                        pending.extend(session.connect_failed(time.monotonic(), stream))
                        continue
                    pending.extend(await self._serve(stream, action.address))
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug here must not leave callers hanging
            log.exception("pykeeper connection task failed")
        finally:
            self._stopping = True
            self._closing = True
            for task in list(self._asking):
                task.cancel()
            self._fail_queued()
            session.finished()

    def _ask(self, action: FourLetter) -> None:
        """Ask a four-letter word in a task of its own; its answer goes to
        the connection task (see _answered)."""
        async def ask() -> None:
            try:
                answer: Optional[str] = await fourletter_io.ask_async(
                    action.address.host, action.address.port, action.word, action.timeout,
                    self.ssl_context)
            except (OSError, ValueError, asyncio.TimeoutError):
                answer = None
            self._answers.append((action, answer))
            self._wake.set()
        task = self._loop.create_task(ask())
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    def _answered(self) -> List[Action]:
        """The session's actions for the four-letter answers that came in."""
        actions: List[Action] = []
        while self._answers:
            asked, answer = self._answers.popleft()
            actions.extend(self.session.four_letter_answer(
                time.monotonic(), asked.address, asked.word, answer))
        return actions

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _open(self, address: Address, timeout: float) -> Union[_Stream, str]:
        """The stream of a new connection to `address` (TLS handshake
        done, with TLS) within `timeout`, or why there is none."""
        loop = asyncio.get_running_loop()
        stream = _Stream(self)
        tls = self.ssl_context
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(
                    lambda: stream, address.host, address.port, ssl=tls,
                    server_hostname=address.host if tls is not None else None,
                    ssl_handshake_timeout=timeout if tls is not None else None),
                timeout)
        except (ssl.SSLError, ConnectionResetError) as exc:
            if tls is None:
                reason = str(exc) or type(exc).__name__
                log.info("cannot connect to %s: %s", address, reason)
            else:
                reason = describe_tls_error(exc)
                log.warning("cannot connect to %s: %s", address, reason)
            return reason
        except (OSError, asyncio.TimeoutError) as exc:
            reason = str(exc) or (
                f"connect timed out after {timeout:.2f}s" if isinstance(exc, asyncio.TimeoutError)
                else type(exc).__name__)
            if tls is not None and isinstance(exc, asyncio.TimeoutError):
                # The TCP connection or the handshake: both are bounded by the timeout.
                reason = f"connect or TLS handshake timed out after {timeout:.2f}s"
            log.info("cannot connect to %s: %s", address, reason)
            return reason
        sock = transport.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            # Closed by the peer as soon as it was made: a failed attempt.
            log.info("connection to %s dropped at once: %s", address, exc)
            transport.close()
            return f"dropped at once: {exc}"
        if stream.lost is not None:
            log.info("connection to %s dropped at once: %s", address, stream.lost)
            transport.close()
            return f"dropped at once: {stream.lost}"
        self._transport = transport
        return stream

    async def _serve(self, stream: _Stream, address: Address) -> List[Action]:
        """Run one connection until it ends; returns the session's actions after it."""
        session = self.session
        self._stream = stream
        self._protocol_error = None
        actions = session.connection_made(time.monotonic())
        reason = "closed"
        try:
            while not self._stopping:
                if stream.lost is not None:
                    reason = stream.lost
                    break
                if self._protocol_error is not None:
                    reason = str(self._protocol_error)
                    log.warning("protocol error from %s, resetting the connection: %s",
                                address, reason)
                    break
                now = time.monotonic()
                if self._answers:
                    actions.extend(self._answered())
                actions.extend(session.tick(now))
                dead, wait = self._carry_out(actions, now)
                actions = []
                if dead is not None:
                    reason = dead
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except asyncio.TimeoutError:
                    pass
        finally:
            after = self._drop(stream, address, reason)
        return after

    def _carry_out(self, actions: List[Action], now: float) -> Tuple[Optional[str], float]:
        """Carry out a connection's actions; (why to drop it, or None; how
        long to wait before the next tick)."""
        plan = plan_connection(actions, now)
        for frame in plan.frames:
            self._write(frame)
        for question in plan.ask:
            self._ask(question)
        return plan.drop, plan.wait

    def _data_received(self, stream: _Stream, data: memoryview) -> None:
        if stream is not self._stream or self._protocol_error is not None:
            return
        try:
            events, frames = self.session.receive(time.monotonic(), data)
        except ProtocolError as exc:
            self._protocol_error = exc
            self._wake.set()
            self.session.dispatch(exc.events)
            return
        for frame in frames:
            self._write(frame)
        connected = self.session.dispatch(events)
        if self._queued:
            self._send_queued()
        if connected is not None or self.session.final_error is not None:
            self._wake.set()  # (the session's next tick acts on it)

    def _drop(self, stream: _Stream, address: Address, reason: str) -> List[Action]:
        lost = self.protocol.connection_lost()
        transport, self._transport, self._stream = self._transport, None, None
        self._outgoing = []
        if self._flushing is not None:
            self._flushing.cancel()  # (its frames were for the connection now gone)
        if transport is not None:
            transport.close()
        if self._stopping:
            self.session.close_requested()
        after = self.session.connection_lost(time.monotonic(), reason, lost)
        self._fail_queued()
        return after
