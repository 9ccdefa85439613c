"""Poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: Optional[str] = None,
) -> T:
    """Call ``predicate`` until it returns a truthy value, and return that value.

    The predicate is always called at least once, and once more after the
    deadline, so a condition that became true while the caller slept is not
    reported as a timeout.

    Raises TimeoutError (naming ``message`` or the predicate) if it is still
    falsy after ``timeout`` seconds; exceptions from the predicate propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise TimeoutError(f"condition not met within {timeout:g} s: {what}")
        time.sleep(min(interval, remaining))
