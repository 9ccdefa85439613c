"""The thread driver's "a blocking caller reads its own reply" rules, in
one place.

A blocking call made when nothing else is in flight reads its own reply
(and any watch event before it) in the calling thread, so that a thread
making one call after another pays no wake-up of the I/O thread and no
hand-off back per call. For that the I/O thread "parks" (keeps off the
socket's reads) while such a caller reads, and for READER_LINGER after
it, waiting for the next call; anything else in flight brings it back.
The rules:

- one thread reads at a time (the I/O thread, or one caller);
- a caller may start reading only while the I/O thread is parked and has
  handled everything read before (`deferred` is empty), so events are
  handled in the order they arrive;
- what a caller reads after its own reply is left to the I/O thread
  (`deferred`), as is a failure of its read;
- a caller still reading when the connection is dropped is waited for
  (briefly), then given up on: the connection's `generation` tells it so.

Every method is called under the driver's lock (the one `Condition` here
shares); none blocks except `end_connection`, at most 1 s.
"""

from __future__ import annotations

import threading
import time
from typing import Any, List, Optional, Tuple

__all__ = ["OwnReplyHandoff", "READER_LINGER"]

# After a blocking call read its own reply, the I/O thread keeps off the
# socket this long (unless requests are in flight), so that the next
# blocking call may read its reply too instead of waiting for a hand-off.
# It bounds the extra delay of a watch event arriving just after a call.
READER_LINGER = 0.002


class OwnReplyHandoff:
    """Who reads the socket now: the I/O thread, or a caller (see the module)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.reader: Optional[threading.Thread] = None  # a caller reading its reply
        self._reader_gone = threading.Condition(lock)
        # A poll object on the connection's socket (None: no caller reads,
        # e.g. no connection, or no select.poll as on Windows).
        self.poll: Optional[Any] = None
        self.generation = 0  # of connections: a reader of an older one is ignored
        self.deferred: List[Any] = []  # events read by a caller, for the I/O thread
        self._failure: Optional[BaseException] = None  # a caller's failed read
        self.io_parked = False  # the I/O thread keeps off the socket's reads
        self._long_park = False  # parked until a reader, long at it, is done
        self._linger_until = 0.0
        self._claims = 0
        self._claims_seen = 0  # _claims when the I/O thread last parked

    # -- a caller ---------------------------------------------------------------

    def claim(self, me: threading.Thread, io_thread: threading.Thread,
              idle: bool) -> Optional[int]:
        """A blocking call is about to be sent by `me` (`idle`: no other
        reply awaited). Returns the generation to read in, if `me` is to
        read its own reply; else None (the I/O thread reads it)."""
        if (idle and self.io_parked and self.reader is None and not self.deferred
                and me is not io_thread):
            self.reader = me
            self._claims += 1
            return self.generation
        if idle and self.poll is not None:
            # The I/O thread keeps off the socket after this reply, so that
            # a next call can read its own.
            self._linger_until = time.monotonic() + READER_LINGER
        return None

    def unpark(self) -> bool:
        """A request was sent whose reply no caller reads; True if the I/O
        thread must be woken to read it."""
        if self.io_parked and self.reader is None:
            self.io_parked = False
            self._linger_until = 0.0
            return True
        return False

    def release(self, generation: int, failure: Optional[BaseException],
                hand_over: bool) -> bool:
        """A caller is done reading (`failure`: why its read ended early;
        `hand_over`: something is left for the I/O thread). True if the I/O
        thread must be woken."""
        if self.generation != generation:
            return False  # (end_connection gave up on it)
        self.reader = None
        self._reader_gone.notify_all()
        hand_over = hand_over or failure is not None or bool(self.deferred)
        if failure is not None and self._failure is None:
            self._failure = failure
        if hand_over:
            # No new reader before the I/O thread has caught up.
            self.io_parked = False
            self._linger_until = 0.0
        else:
            self._linger_until = time.monotonic() + READER_LINGER
        wake = hand_over or self._long_park
        self._long_park = False
        return wake

    def defer(self, events: List[Any], first: bool = False) -> None:
        """Leave `events` to the I/O thread (`first`: before those left already)."""
        if first:
            self.deferred[:0] = events
        else:
            self.deferred = events

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    # -- the I/O thread -----------------------------------------------------------

    def take(self) -> Tuple[List[Any], Optional[BaseException]]:
        """(the events callers left, the failure of a caller's read); no new
        reader until `park` decides again."""
        self.io_parked = False
        deferred, self.deferred = self.deferred, []
        failure, self._failure = self._failure, None
        return deferred, failure

    def park(self, now: float, wait: float, need_write: bool, data_waiting: bool,
             idle: bool) -> Tuple[bool, bool, float]:
        """Before the I/O thread waits (at most `wait` s): (a caller is
        reading, the I/O thread lingers for one, how long to wait). Either
        way it keeps off the socket's reads."""
        reading = self.reader is not None
        lingering = (not reading and not need_write and not data_waiting
                     and self.poll is not None and idle and now < self._linger_until)
        if reading:
            # Look again soon, so that events arriving after the caller is
            # done wait at most READER_LINGER; but a caller still at the
            # same call then is slow, and wakes us when it is done.
            self._long_park = self._claims == self._claims_seen
            self._claims_seen = self._claims
            if not self._long_park:
                wait = min(wait, READER_LINGER)
        elif lingering:
            wait = min(wait, self._linger_until - now)
        self.io_parked = reading or lingering
        return reading, lingering, wait

    def start_connection(self, poll: Optional[Any]) -> None:
        self.poll = poll

    def end_connection(self, shutdown: Any) -> List[Any]:
        """The connection is going: end a caller's read (`shutdown()` makes
        it see the end of the stream), wait for it up to 1 s, and give it up
        after that. Returns the events left for the I/O thread."""
        if self.reader is not None:
            shutdown()
            deadline = time.monotonic() + 1.0
            while self.reader is not None and time.monotonic() < deadline:
                self._reader_gone.wait(max(0.0, deadline - time.monotonic()))
            self.reader = None
        self.generation += 1
        self.poll = None
        self._failure = None
        deferred, self.deferred = self.deferred, []
        self.io_parked = False
        self._long_park = False
        self._linger_until = 0.0
        return deferred
