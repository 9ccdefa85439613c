"""zkpython handles: the table of small ints, and what one handle adds to a
pykeeper client to behave as the C library does -- session events for the
session watcher and for every outstanding one-shot watcher, calls made
before a connection waiting for it, completions on the event thread.

Every callback (watcher or completion) runs on the client's event thread,
in the order the server's replies and events arrived, as the C library's
completion thread runs them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, TypeVar

from ..clients.base import CONNECTED_STATES, State
from ..clients.events import EventThread
from ..clients.sync import ZooKeeper
from ..core.operations import Operation
from ..protocol.errors import (
    ClientClosedException, ClosingException, ConnectionLossException, InvalidStateException,
    OperationTimeoutException, TimeoutException, ZooKeeperException,
)
from ..protocol.records import EventType, KeeperState, WatchedEvent
from .constants import (
    ASSOCIATING_STATE, AUTHFAILED, AUTH_FAILED_STATE, CLOSED_STATE, CLOSING, CONNECTED_STATE,
    CONNECTING_STATE, CONNECTIONLOSS, EXPIRED_SESSION_STATE, MARSHALLINGERROR, OK,
    OPERATIONTIMEOUT, READONLY_STATE, SESSIONEXPIRED, SESSION_EVENT, SYSTEMERROR,
)

__all__ = [
    "STATE_CODES", "Handle", "OneShot", "call_user", "free", "lookup", "register", "release",
    "return_code",
]

T = TypeVar("T")
Callback = Callable[..., Any]
# What a finished request hands its completion: (return code, the arguments after it).
Shaped = Tuple[int, Tuple[Any, ...]]

STATE_CODES = {
    State.CONNECTING: CONNECTING_STATE,
    State.ASSOCIATING: ASSOCIATING_STATE,
    State.CONNECTED: CONNECTED_STATE,
    State.CONNECTED_READONLY: READONLY_STATE,
    State.AUTH_FAILED: AUTH_FAILED_STATE,
    State.EXPIRED_SESSION: EXPIRED_SESSION_STATE,
    State.CLOSED: CLOSED_STATE,
}
_EVENT_STATES: Dict[int, int] = {
    KeeperState.SYNC_CONNECTED: CONNECTED_STATE,
    KeeperState.CONNECTED_READ_ONLY: READONLY_STATE,
    KeeperState.DISCONNECTED: CONNECTING_STATE,
    KeeperState.EXPIRED: EXPIRED_SESSION_STATE,
    KeeperState.AUTH_FAILED: AUTH_FAILED_STATE,
    KeeperState.CLOSED: CLOSED_STATE,
}


def call_user(fn: Callback, args: Tuple[Any, ...]) -> None:
    """Call a user's watcher or completion; as the binding did, print what
    it raises (to stderr) and go on."""
    try:
        fn(*args)
    except Exception:
        traceback.print_exc()


def return_code(exc: BaseException) -> int:
    """The C library's return code for a failed request."""
    if isinstance(exc, ClientClosedException):
        return CLOSING
    if isinstance(exc, TimeoutException):
        return OPERATIONTIMEOUT
    if isinstance(exc, ZooKeeperException) and exc.code:
        return exc.code
    return SYSTEMERROR


class OneShot:
    """A watcher given to one read: called once, `fn(handle, type, state,
    path)`, for its event; told of every session event from the read's
    reply (when the server set the watch) until then."""

    __slots__ = ("handle", "fn", "state")

    def __init__(self, handle: "Handle", fn: Callback) -> None:
        self.handle = handle
        self.fn = fn
        self.state = "sent"  # -> "set" by the read's reply -> "done"

    def __call__(self, event: WatchedEvent) -> None:
        if event.type == EventType.NONE:
            return  # (session events: the handle tells each set watcher itself)
        if self.handle.forget(self):
            state = _EVENT_STATES.get(event.state, int(event.state))
            call_user(self.fn, (self.handle.number, int(event.type), state, event.path or ""))


class Handle:
    """One zkpython handle over a pykeeper client (started, reconnect off:
    an expired session ends the handle, as in the C library)."""

    def __init__(self, number: int, client: ZooKeeper, watcher: Optional[Callback],
                 binary: bool, client_id: Tuple[int, bytes]) -> None:
        self.number = number
        self.client = client
        self.binary = binary
        self.watcher = watcher
        self.closing = False
        self._lock = threading.Lock()
        self._watches: Dict[OneShot, None] = {}  # (set ones, ordered as set)
        # Calls made while not connected: (deadline, send, fail), in call order.
        self._pending: Deque[Tuple[float, Callable[[], None], Callable[[int], None]]] = deque()
        self._flush_lock = threading.Lock()  # (one thread sends the waiting calls at a time)
        self._flushing = False
        self._timer: Optional[threading.Timer] = None
        self._late: Optional[EventThread] = None
        self._was_connected = False
        self._client_id = client_id
        client.add_listener(self._on_state)

    # -- reading ---------------------------------------------------------------------

    @property
    def state(self) -> int:
        return STATE_CODES[self.client.state]

    @property
    def client_id(self) -> Tuple[int, bytes]:
        live = self.client.client_id
        if live is not None and self.client.state in CONNECTED_STATES:
            return live
        return self._client_id

    @property
    def recv_timeout(self) -> int:
        negotiated = self.client.negotiated_session_timeout
        return int(round((negotiated or self.client.session_timeout) * 1000))

    # -- watchers ---------------------------------------------------------------------

    def watch(self, fn: Optional[Callback]) -> Optional[OneShot]:
        """A one-shot watcher for `fn` (None for None), to give a read."""
        return None if fn is None else OneShot(self, fn)

    def activate(self, watch: Optional[OneShot]) -> None:
        """The read succeeded, so the server set its watch: from now on the
        watcher hears session events (unless its event came first)."""
        if watch is None:
            return
        with self._lock:
            if watch.state == "sent":
                watch.state = "set"
                self._watches[watch] = None

    def forget(self, watch: Optional[OneShot]) -> bool:
        """The watcher hears nothing more; False if that was so already."""
        if watch is None:
            return False
        with self._lock:
            if watch.state == "done":
                return False
            watch.state = "done"
            self._watches.pop(watch, None)
            return True

    def _on_state(self, state: State) -> None:
        # (on the event thread, in order with watch events and completions)
        if self.closing:
            return
        if state in CONNECTED_STATES:
            self._was_connected = True
            self._client_id = self.client.client_id or self._client_id
            self._flush(None)
        elif state == State.CONNECTING and self._was_connected:
            self._was_connected = False
        elif state in (State.EXPIRED_SESSION, State.AUTH_FAILED):
            self._flush(SESSIONEXPIRED if state == State.EXPIRED_SESSION else AUTHFAILED)
        else:
            return  # (the C library reports no first connecting, associating or close)
        self._session_event(STATE_CODES[state])

    def _session_event(self, code: int) -> None:
        with self._lock:
            watches = list(self._watches)
            if code < 0:  # the session is over: one-shot watchers hear no more
                for watch in watches:
                    watch.state = "done"
                self._watches.clear()
            watcher = self.watcher
        args = (self.number, SESSION_EVENT, code, "")
        for watch in watches:
            call_user(watch.fn, args)
        if watcher is not None:  # (last, as the C library lists it)
            call_user(watcher, args)

    # -- sending ---------------------------------------------------------------------

    def check_usable(self) -> None:
        """InvalidStateException once the session expired or auth failed."""
        state = self.client.state
        if state in (State.EXPIRED_SESSION, State.AUTH_FAILED):
            raise InvalidStateException(
                f"invalid zhandle state: {state.value} (the handle can only be closed)")

    def _ready_locked(self) -> bool:
        """Connected, with no earlier call waiting: a call may go out now."""
        return self.client.state in CONNECTED_STATES and not self._pending \
            and not self._flushing

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) once connected (waiting at most the session timeout)
        and after the a* calls made before it, with the pykeeper client's
        errors as the binding's."""
        self.check_usable()
        with self._lock:
            ready = self._ready_locked()
        if not ready:
            try:
                self.client.wait_until_connected(self.client.session_timeout)
            except TimeoutException:
                raise ConnectionLossException(
                    f"connection loss: not connected to {self.client.hosts} within "
                    f"recv_timeout ({self.recv_timeout} ms)") from None
            except ClientClosedException:
                raise ClosingException("zookeeper is closing") from None
            self._flush(None)  # (calls made before this one go first)
        try:
            return fn(*args)
        except ClientClosedException:
            raise ClosingException("zookeeper is closing") from None
        except TimeoutException as exc:
            raise OperationTimeoutException(f"operation timeout: {exc}") from None

    def call_async(self, op: Operation[Any], completion: Optional[Callback],
                   shape: Callable[[Any], Shaped], failed: Tuple[Any, ...],
                   watch: Optional[OneShot] = None, bounded: bool = True) -> int:
        """Send the operation (now, or once connected: within the session
        timeout, unless not `bounded`) and give `completion(handle, rc,
        *args)` its outcome on the event thread: `shape(result)` on
        success, `failed` after the rc otherwise. Returns OK."""
        self.check_usable()

        def fail(rc: int) -> None:
            self.forget(watch)
            self._deliver(completion, lambda: (rc, failed))

        def finished(future: "Future[Any]") -> None:
            # (on the I/O thread, in reply order: attached before the send)
            error = future.exception()
            if error is not None:
                fail(return_code(error))
                return
            self.activate(watch)
            self._deliver(completion, lambda: self._shaped(shape, future.result(), failed))

        def go() -> None:
            future: Future[Any] = Future()
            future.add_done_callback(finished)
            try:
                self.client.start_operation(op, future)
            except Exception as exc:  # (a lost connection, a client closed meanwhile)
                fail(return_code(exc))

        with self._lock:
            queued = not self._ready_locked()
            if queued:
                deadline = time.monotonic() + self.client.session_timeout if bounded \
                    else float("inf")
                self._pending.append((deadline, go, fail))
                self._arm_timer_locked()
        if not queued:
            go()
        return OK

    def _shaped(self, shape: Callable[[Any], Shaped], result: Any,
                failed: Tuple[Any, ...]) -> Shaped:
        try:
            return shape(result)
        except UnicodeDecodeError as exc:
            # (the binding could not build the callback's arguments either)
            traceback.print_exception(type(exc), exc, None)
            return MARSHALLINGERROR, failed

    def _deliver(self, completion: Optional[Callback], outcome: Callable[[], Shaped]) -> None:
        if completion is None:
            return

        def run() -> None:
            rc, args = outcome()
            call_user(completion, (self.number, rc) + args)

        if not self.client.call_soon(run):
            # (the client has closed: still run it, after the others that came late)
            with self._lock:
                if self._late is None:
                    self._late = EventThread("pykeeper-zookeeper-late")
                late = self._late
            late.put(run)

    def _flush(self, rc: Optional[int]) -> None:
        """Send every waiting call (rc None), or fail each with `rc`, in call
        order; calls made meanwhile wait behind them."""
        with self._flush_lock:
            while True:
                with self._lock:
                    if not self._pending:
                        self._flushing = False
                        if self._timer is not None:
                            self._timer.cancel()
                            self._timer = None
                        return
                    self._flushing = True
                    pending = list(self._pending)
                    self._pending.clear()
                for _, go, fail in pending:
                    if rc is None:
                        go()
                    else:
                        fail(rc)

    def _arm_timer_locked(self) -> None:
        deadline = min((entry[0] for entry in self._pending), default=float("inf"))
        if self._timer is None and deadline != float("inf"):
            delay = max(0.0, deadline - time.monotonic())
            self._timer = threading.Timer(delay, self._time_out_pending)
            self._timer.daemon = True
            self._timer.start()

    def _time_out_pending(self) -> None:
        now = time.monotonic()
        late: List[Callable[[int], None]] = []
        with self._lock:
            if self._timer is not threading.current_thread():
                return  # (cancelled: a flush took the calls)
            self._timer = None
            # (add_auth waits without deadline: the others may time out around it)
            late = [entry[2] for entry in self._pending if entry[0] <= now]
            self._pending = deque(entry for entry in self._pending if entry[0] > now)
            self._arm_timer_locked()
        for fail in late:
            fail(CONNECTIONLOSS)

    def close(self) -> int:
        """Fail the waiting calls with CLOSING, then close the client
        (blocks at most its close_timeout, 5 s). Returns OK."""
        self.closing = True
        self._flush(CLOSING)
        with self._lock:
            for watch in self._watches:
                watch.state = "done"
            self._watches.clear()
        self.client.remove_listener(self._on_state)
        self.client.close()
        with self._lock:
            late, self._late = self._late, None
        if late is not None:
            late.stop(self.client.close_timeout)
        return OK


# -- the table of handles -----------------------------------------------------------

_table: List[Optional[Handle]] = []
_table_lock = threading.Lock()


def register(make: Callable[[int], Handle]) -> Handle:
    """Make a handle under the lowest free number (closed handles' numbers
    are reused, as the binding reuses them)."""
    with _table_lock:
        number = next((i for i, h in enumerate(_table) if h is None), len(_table))
        handle = make(number)
        if number == len(_table):
            _table.append(handle)
        else:
            _table[number] = handle
        return handle


def lookup(zh: Any) -> Handle:
    """The open handle numbered `zh`; TypeError for a non-int, the binding's
    ZooKeeperException for a number out of range or closed (or closing)."""
    if not isinstance(zh, int):
        raise TypeError(f"a zookeeper handle is an int, not {type(zh).__name__}")
    with _table_lock:
        if not 0 <= zh < len(_table):
            raise ZooKeeperException(f"zhandle out of range: {zh}")
        handle = _table[zh]
        if handle is None or handle.closing:
            raise ZooKeeperException(f"zhandle already freed: {zh}")
        return handle


def release(zh: Any) -> Handle:
    """Mark the handle numbered `zh` closing (lookup's errors): lookups fail
    from now on, and its number is reused only after free()."""
    handle = lookup(zh)
    with _table_lock:
        if handle.closing:  # (closed meanwhile by another thread)
            raise ZooKeeperException(f"zhandle already freed: {zh}")
        handle.closing = True
    return handle


def free(handle: Handle) -> None:
    """Give a closed handle's number back for reuse."""
    with _table_lock:
        if _table[handle.number] is handle:
            _table[handle.number] = None
