"""A TCP proxy that can break the network between a client and a server on demand.

Faults it can make:

- ``drop_all()``: close every proxied connection now (both sides see it);
- ``blackhole()``: nothing flows in either direction, yet every connection
  stays open and new ones are still accepted -- like a partitioned network;
- ``set_latency(s)``: every byte is held ``s`` seconds before it is passed on;
- ``refuse()``: drop everything and stop listening, so connects are refused;
- ``retarget(host, port)``: new connections go to another server;
- ``heal()``: undo blackhole, refuse and latency.

Bytes are never reordered, duplicated or lost within a connection: a
connection either carries the exact byte stream or is closed. In particular a
blackhole *holds* bytes rather than discarding them (the proxy stops reading,
so they wait in kernel buffers, as in TCP across a partition); after ``heal()``
a connection that survived carries on exactly where it stopped.

One background thread does all socket work; the control methods may be
called from any thread and return once the proxy thread has applied them.
"""

from __future__ import annotations

import collections
import errno
import logging
import queue
import selectors
import socket
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, TypeVar, Union

__all__ = ["FaultProxy"]

log = logging.getLogger("pykeeper.testing")

T = TypeVar("T")

_CHUNK = 65536
# Per direction: stop reading from the sender while this much waits to be
# written, so a slow receiver slows the sender instead of filling our memory.
_HIGH_WATER = 1 << 20
_CONTROL_TIMEOUT = 10.0

_LISTEN = "listen"
_WAKE = "wake"


def _parse_target(host: Union[str, Tuple[str, int]], port: Optional[int]) -> Tuple[str, int]:
    if port is not None:
        return str(host), int(port)
    if isinstance(host, tuple):
        return host[0], int(host[1])
    text = str(host)
    if "," in text:
        raise ValueError(f"a FaultProxy forwards to one server, not {text!r}")
    name, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"expected 'host:port', not {text!r}")
    return name.strip("[]"), int(port_text)


def _resolve(host: str, port: int) -> Tuple[int, Any]:
    """Return (family, sockaddr) for the target, resolved in the caller's thread."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"cannot resolve {host}:{port}")
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


class _Direction:
    """Bytes flowing one way through a connection: read from src, written to dst."""

    __slots__ = ("src", "dst", "chunks", "queued", "eof", "shut")

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src = src
        self.dst = dst
        # [release time, bytes] in arrival order, always served from the head:
        # a chunk never overtakes an earlier one, even if latency was lowered.
        self.chunks: Deque[List[Any]] = collections.deque()
        self.queued = 0
        self.eof = False
        self.shut = False


class _Connection:
    __slots__ = ("client", "upstream", "connected", "up", "down")

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.connected = False
        self.up = _Direction(client, upstream)
        self.down = _Direction(upstream, client)


class FaultProxy:
    """Forward TCP connections from a free 127.0.0.1 port to ``target``.

    ``FaultProxy("127.0.0.1:2181")``, ``FaultProxy("127.0.0.1", 2181)`` and
    ``FaultProxy(("127.0.0.1", 2181))`` are the same. Starts listening and
    forwarding at once. Raises OSError if the target name cannot be resolved
    or no port can be bound.
    """

    def __init__(
        self,
        target_host: Union[str, Tuple[str, int]],
        target_port: Optional[int] = None,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        host, port = _parse_target(target_host, target_port)
        self._target = (host, port)
        self._target_addr = _resolve(host, port)
        self._listen_host = listen_host
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        self._listener: Optional[socket.socket] = None
        self._port = listen_port
        self._listen()
        self._connections: Dict[int, _Connection] = {}
        self._count = 0
        self._blackholed = False
        self._refusing = False
        self._latency = 0.0
        self._commands: "queue.SimpleQueue[Tuple[Callable[[], Any], Dict[str, Any], threading.Event]]" = (
            queue.SimpleQueue()
        )
        self._running = True
        self._failure: Optional[BaseException] = None
        self._close_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"pykeeper-fault-proxy-{self._port}", daemon=True)
        self._thread.start()

    # -- public API ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the proxy listens on (kept across ``refuse()``/``heal()``)."""
        return self._port

    @property
    def hosts(self) -> str:
        """The connect string for clients: ``"127.0.0.1:PORT"``."""
        return f"{self._listen_host}:{self._port}"

    @property
    def target(self) -> Tuple[str, int]:
        """Where new connections are forwarded."""
        return self._target

    @property
    def connection_count(self) -> int:
        """Number of proxied connections currently open."""
        return self._count

    @property
    def latency(self) -> float:
        return self._latency

    @property
    def blackholed(self) -> bool:
        return self._blackholed

    @property
    def refusing(self) -> bool:
        return self._refusing

    def drop_all(self) -> int:
        """Close every current connection, both sides; new ones are still accepted.

        Returns how many were closed.
        """
        return self._call(self._drop_all)

    def blackhole(self) -> None:
        """Stop all traffic both ways, for current and new connections, keeping them open."""

        def apply() -> None:
            self._blackholed = True

        self._call(apply)

    def set_latency(self, seconds: float) -> None:
        """Hold every byte ``seconds`` before passing it on, in both directions.

        Bytes already waiting keep their release time. Raises ValueError if negative.
        """
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, not {seconds}")

        def apply() -> None:
            self._latency = float(seconds)

        self._call(apply)

    def refuse(self) -> None:
        """Drop every connection and stop listening, so new connects get ECONNREFUSED."""

        def apply() -> None:
            self._refusing = True
            self._drop_all()
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None

        self._call(apply)

    def heal(self) -> None:
        """Forward normally again: no blackhole, no latency, listening on the same port.

        Raises OSError if the port was taken by someone else while refusing.
        """

        def apply() -> None:
            self._blackholed = False
            self._latency = 0.0
            if self._listener is None:
                self._listen()
            self._refusing = False

        self._call(apply)

    def retarget(self, host: Union[str, Tuple[str, int]], port: Optional[int] = None) -> None:
        """Send new connections to ``host:port``; open connections stay where they are.

        Raises OSError if the name cannot be resolved.
        """
        target = _parse_target(host, port)
        addr = _resolve(*target)

        def apply() -> None:
            self._target = target
            self._target_addr = addr

        self._call(apply)

    def close(self) -> None:
        """Close every connection and the listening port, and stop the thread; idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._thread.is_alive():

            def apply() -> None:
                self._running = False

            try:
                self._call(apply)
            except RuntimeError:
                pass
            self._thread.join(_CONTROL_TIMEOUT)
        self._teardown()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "refusing" if self._refusing else "blackholed" if self._blackholed else "forwarding"
        return (
            f"<FaultProxy {self.hosts} -> {self._target[0]}:{self._target[1]} {state}"
            f" latency={self._latency:g} connections={self._count}>"
        )

    # -- control plumbing -----------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the proxy thread and return its result, re-raising its error."""
        if threading.current_thread() is self._thread:
            return fn()
        if not self._thread.is_alive():
            raise RuntimeError(f"FaultProxy thread is not running (failure: {self._failure!r})")
        box: Dict[str, Any] = {}
        done = threading.Event()
        self._commands.put((fn, box, done))
        self._wake()
        if not done.wait(_CONTROL_TIMEOUT):
            raise RuntimeError(f"FaultProxy thread did not respond (failure: {self._failure!r})")
        if "error" in box:
            raise box["error"]
        result: T = box["result"]
        return result

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a wake-up is already pending, or we are closing

    def _run_commands(self) -> None:
        try:
            while True:
                self._wake_r.recv(4096)
        except (BlockingIOError, OSError):
            pass
        while True:
            try:
                fn, box, done = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                box["result"] = fn()
            except BaseException as exc:
                box["error"] = exc
            done.set()

    # -- the proxy thread ---------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Re-binding the same port after refuse() must work even while
            # closed connections on it linger in TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._listen_host, self._port))
            listener.listen(128)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, _LISTEN)

    def _run(self) -> None:
        try:
            while self._running:
                timeout = self._pump()
                for key, events in self._selector.select(timeout):
                    self._dispatch(key, events)
                if not self._running:
                    break
        except BaseException as exc:
            self._failure = exc
            log.exception("FaultProxy on port %d failed", self._port)
        finally:
            self._running = False
            # Nobody will run queued commands now: release their callers.
            while True:
                try:
                    _, box, done = self._commands.get_nowait()
                except queue.Empty:
                    break
                box["error"] = RuntimeError(f"FaultProxy stopped (failure: {self._failure!r})")
                done.set()

    def _dispatch(self, key: selectors.SelectorKey, events: int) -> None:
        tag = key.data
        if tag == _WAKE:
            self._run_commands()
        elif tag == _LISTEN:
            if key.fileobj is self._listener:  # (not one refuse() closed earlier in this batch)
                self._accept()
        else:
            conn: _Connection = tag
            if id(conn) not in self._connections:
                return  # closed earlier in this same batch of events
            try:
                if key.fileobj is conn.upstream and not conn.connected and events & selectors.EVENT_WRITE:
                    self._finish_connect(conn)
                elif events & selectors.EVENT_READ:
                    direction = conn.up if key.fileobj is conn.client else conn.down
                    self._read(direction)
            except OSError as exc:
                log.debug("FaultProxy connection closed: %s", exc)
                self._close(conn)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # e.g. ECONNABORTED or EMFILE: skip this one, keep serving.
                log.debug("FaultProxy accept failed: %s", exc)
                return
            family, sockaddr = self._target_addr
            try:
                upstream = socket.socket(family, socket.SOCK_STREAM)
            except OSError as exc:  # out of descriptors: refuse this one only
                log.debug("FaultProxy cannot open an upstream socket: %s", exc)
                client.close()
                continue
            for sock in (client, upstream):
                sock.setblocking(False)
                # Small writes (a ZooKeeper ping) must not sit waiting on
                # Nagle plus delayed ACK: that alone adds ~40 ms.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(client, upstream)
            self._connections[id(conn)] = conn
            self._count = len(self._connections)
            err = upstream.connect_ex(sockaddr)
            if err in (0, errno.EISCONN):
                conn.connected = True
            elif err not in (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
                log.debug("FaultProxy cannot reach %s: %s", sockaddr, errno.errorcode.get(err, err))
                self._close(conn)
                continue
            self._update_interest(conn)

    def _finish_connect(self, conn: _Connection) -> None:
        err = conn.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, f"upstream connect failed: {errno.errorcode.get(err, err)}")
        conn.connected = True

    def _read(self, direction: _Direction) -> None:
        try:
            data = direction.src.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            direction.eof = True
            return
        direction.chunks.append([time.monotonic() + self._latency, data])
        direction.queued += len(data)

    def _flush(self, direction: _Direction, now: float) -> None:
        """Write whatever is due; raises OSError if the receiver is gone."""
        chunks = direction.chunks
        while chunks and chunks[0][0] <= now:
            data = chunks[0][1]
            try:
                sent = direction.dst.send(data)
            except (BlockingIOError, InterruptedError):
                return
            direction.queued -= sent
            if sent < len(data):
                chunks[0][1] = data[sent:]
                return
            chunks.popleft()
        if direction.eof and not chunks and not direction.shut:
            # Pass the half-close on, so the other side still gets to answer.
            direction.shut = True
            direction.dst.shutdown(socket.SHUT_WR)

    def _pump(self) -> Optional[float]:
        """Move due bytes, refresh interests; return the select timeout (None: no deadline)."""
        if self._blackholed:
            for conn in list(self._connections.values()):
                self._update_interest(conn)
            return None
        now = time.monotonic()
        next_due: Optional[float] = None
        for conn in list(self._connections.values()):
            if not conn.connected:
                continue
            try:
                for direction in (conn.up, conn.down):
                    self._flush(direction, now)
            except OSError as exc:
                log.debug("FaultProxy connection closed: %s", exc)
                self._close(conn)
                continue
            if conn.up.shut and conn.down.shut:
                self._close(conn)
                continue
            self._update_interest(conn)
            for direction in (conn.up, conn.down):
                if direction.chunks:
                    due = direction.chunks[0][0]
                    if due > now and (next_due is None or due < next_due):
                        next_due = due
        if next_due is None:
            return None
        return max(0.0, next_due - time.monotonic())

    def _update_interest(self, conn: _Connection) -> None:
        if not conn.connected:
            self._set_events(conn.client, 0, conn)
            self._set_events(conn.upstream, selectors.EVENT_WRITE, conn)
            return
        now = time.monotonic()
        for sock, inbound, outbound in ((conn.client, conn.up, conn.down), (conn.upstream, conn.down, conn.up)):
            events = 0
            if not self._blackholed:
                if not inbound.eof and inbound.queued < _HIGH_WATER:
                    events |= selectors.EVENT_READ
                if outbound.chunks and outbound.chunks[0][0] <= now:
                    # Due bytes are still here only because the socket was full.
                    events |= selectors.EVENT_WRITE
            self._set_events(sock, events, conn)

    def _set_events(self, sock: socket.socket, events: int, conn: _Connection) -> None:
        # Selectors refuse an empty interest set, so "no events" means
        # "not registered".
        try:
            key: Optional[selectors.SelectorKey] = self._selector.get_key(sock)
        except KeyError:
            key = None
        if key is None:
            if events:
                self._selector.register(sock, events, conn)
        elif not events:
            self._selector.unregister(sock)
        elif key.events != events:
            self._selector.modify(sock, events, conn)

    def _close(self, conn: _Connection) -> None:
        if self._connections.pop(id(conn), None) is None:
            return
        self._count = len(self._connections)
        for sock in (conn.client, conn.upstream):
            try:
                self._selector.unregister(sock)
            except KeyError:
                pass  # it had no interest registered
            sock.close()

    def _drop_all(self) -> int:
        conns = list(self._connections.values())
        for conn in conns:
            self._close(conn)
        return len(conns)

    def _teardown(self) -> None:
        self._drop_all()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
