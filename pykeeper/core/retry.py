"""Retrying calls across transient disconnects.

A `RetryPolicy` says how often and how long to retry; `run_with_retry`
applies it. Between tries it waits for the client to be connected again
(rather than spinning), plus a growing delay with jitter.

While a call is being retried, `current_attempt()` tells code inside it
which try this is and gives it a place to keep state from one try to the
next: that is how a create whose first try may have succeeded finds its
own node instead of making a second one.
"""

from __future__ import annotations

import contextvars
import random
import time
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

from ..protocol.errors import (
    RETRYABLE, ConnectionLossException, TimeoutException,
)

__all__ = [
    "Attempt", "RETRYABLE", "RetriedCall", "RetryPolicy", "current_attempt", "run_with_retry",
]

T = TypeVar("T")



class RetryPolicy:
    """How to retry: at most `max_tries` tries in all (None: no limit), at
    most until `deadline` seconds after the first, waiting `delay` seconds
    after the first failure, multiplied by `backoff` each time up to
    `max_delay`, with +-`jitter` (a fraction) of randomness."""

    def __init__(self, max_tries: Optional[int] = 10, delay: float = 0.05,
                 backoff: float = 2.0, max_delay: float = 2.0,
                 deadline: Optional[float] = 60.0, jitter: float = 0.25) -> None:
        if max_tries is not None and max_tries < 1:
            raise ValueError(f"max_tries must be at least 1 (or None), not {max_tries}")
        for name, value in (("delay", delay), ("max_delay", max_delay), ("jitter", jitter)):
            if value < 0:
                raise ValueError(f"{name} must not be negative, not {value}")
        if backoff < 1:
            raise ValueError(f"backoff must be at least 1, not {backoff}")
        if deadline is not None and deadline <= 0:
            raise ValueError(f"deadline must be positive seconds (or None), not {deadline}")
        self.max_tries = max_tries
        self.delay = delay
        self.backoff = backoff
        self.max_delay = max_delay
        self.deadline = deadline
        self.jitter = jitter

    def __repr__(self) -> str:
        return (f"RetryPolicy(max_tries={self.max_tries}, delay={self.delay}, "
                f"backoff={self.backoff}, max_delay={self.max_delay}, deadline={self.deadline})")

    def pause_before_retry(self, failures: int,
                           started: float) -> Optional[Tuple[float, Optional[float]]]:
        """After `failures` failed tries of a call begun at `started`
        (time.monotonic()): None to give up, else (pause before waiting for
        the connection, seconds left until the deadline or None)."""
        if self.max_tries is not None and failures >= self.max_tries:
            return None
        pause = self.delay_for(failures)
        remaining = None
        if self.deadline is not None:
            remaining = self.deadline - (time.monotonic() - started)
            if remaining <= pause:
                return None
        return pause, remaining

    def delay_for(self, failures: int) -> float:
        """The pause after the `failures`-th failed try (1-based)."""
        base = min(self.delay * self.backoff ** (failures - 1), self.max_delay)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class Attempt:
    """The try in progress: `number` (0 for the first) and `state`, kept
    across the tries of one retried call."""

    __slots__ = ("number", "state")

    def __init__(self) -> None:
        self.number = 0
        self.state: Dict[str, Any] = {}


# A context variable, not a thread-local: it follows an asyncio task as well
# as a thread.
_attempt: "contextvars.ContextVar[Optional[Attempt]]" = contextvars.ContextVar(
    "pykeeper_retry_attempt", default=None)


def current_attempt() -> Optional[Attempt]:
    """The retried call running in this thread (or asyncio task), or None."""
    return _attempt.get()


class RetriedCall:
    """One call retried under `policy`: its Attempt, current (for code
    inside it) until `end()`, and what to do after each failure. The sync
    client loops over it sleeping, the asyncio client awaiting."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.attempt = Attempt()
        self.start = time.monotonic()
        self._token = _attempt.set(self.attempt)

    def pause_after_failure(self) -> Tuple[float, Optional[float]]:
        """(in the `except` block of a retryable error) The pause before the
        next try, and how long to wait for a connection after it (None: no
        limit); raises the error again when the policy says stop."""
        self.attempt.number += 1
        plan = self.policy.pause_before_retry(self.attempt.number, self.start)
        if plan is None:
            raise
        pause, remaining = plan
        return pause, None if remaining is None else remaining - pause

    def still_disconnected(self) -> ConnectionLossException:
        return ConnectionLossException(
            f"still disconnected {self.policy.deadline} s after the first try")

    def end(self) -> None:
        _attempt.reset(self._token)


def run_with_retry(policy: RetryPolicy, wait_connected: Callable[[Optional[float]], None],
                   fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)`, retrying it under `policy` when it
    raises ConnectionLossException or OperationTimeoutException.

    `wait_connected(timeout)` blocks until the client is connected again
    (raising TimeoutException after `timeout`). The last error is raised
    when tries or time run out; any other error is raised at once.
    """
    if current_attempt() is not None:
        # Already inside a retried call: the outer loop does the retrying.
        return fn(*args, **kwargs)
    call = RetriedCall(policy)
    try:
        while True:
            try:
                return fn(*args, **kwargs)
            except RETRYABLE:
                pause, wait = call.pause_after_failure()
                time.sleep(pause)
                try:
                    wait_connected(wait)
                except TimeoutException:
                    raise call.still_disconnected() from None
    finally:
        call.end()
