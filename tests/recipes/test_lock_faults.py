"""A Lock's holder cut off from the servers hears "suspended" before anyone
else can take the lock, then "lost"; both clients."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List, Tuple

from pykeeper.testing import FaultProxy

from ..support import WAIT


def test_suspended_reaches_the_holder_before_another_acquires(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    holder_client = make_any_client(zk_proxy.hosts, session_timeout=4.0)
    holder = recipe(holder_client, "Lock", path, "holder")
    timeline: List[Tuple[float, str]] = []
    guard = threading.Lock()
    lost = threading.Event()

    def note(what: str) -> None:
        with guard:
            timeline.append((time.monotonic(), what))
        if what == "lost":
            lost.set()

    holder.add_listener(note)
    assert holder.acquire(timeout=WAIT)
    other = recipe(make_any_client(), "Lock", path, "other")
    acquired = threading.Event()

    def take() -> None:
        if other.acquire(timeout=60):
            note("other acquired")
            acquired.set()

    thread = threading.Thread(target=take)
    thread.start()
    zk_proxy.blackhole()
    assert acquired.wait(60), "the server never expired the cut-off holder"
    thread.join(WAIT)
    zk_proxy.heal()
    assert lost.wait(WAIT)
    events = [what for _, what in sorted(timeline)]
    assert events.index("suspended") < events.index("other acquired"), timeline
    assert not holder.is_acquired
    other.release()
