"""A Lock under faults, both clients: a holder cut off from the servers
hears "suspended" before anyone else can take the lock, then "lost";
connections dropped again and again during acquires leave exactly one node
per acquirer (no orphan from a lost create reply blocks the queue); a
cancel() racing a drop deletes the waiter's node."""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable, List, Tuple

import pykeeper
from pykeeper import RetryPolicy
from pykeeper.recipes import CancelledError
from pykeeper.testing import FaultProxy

from ..support import WAIT
from .conftest import InThread


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


# The acquirers' clients retry without a limit of tries: every op of theirs
# may meet several of the drops below (the default policy gives up at 10).
ENDLESS = RetryPolicy(max_tries=None)
ACQUIRERS = 5
DROPS = 3 * ACQUIRERS + 5


def drop_during(zk_proxy: FaultProxy, clients: List[Any], rng: random.Random) -> None:
    """Once every client is back, drop all connections at a random moment
    of the round trips in flight (the proxy holds every byte 50 ms, so a
    drop loses requests before the server applied them, or replies after)."""
    pykeeper.testing.wait_until(lambda: all(c.connected for c in clients), WAIT,
                                message="every client reconnected")
    threading.Event().wait(rng.uniform(0.0, 0.25))  # (where in the round trip: not a sync)
    zk_proxy.drop_all()


def test_drops_during_acquires_leave_one_node_per_acquirer(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    checker = make_any_client()
    holder = recipe(checker, "Lock", path, "holder")
    assert holder.acquire(timeout=WAIT)
    clients = [make_any_client(zk_proxy.hosts, session_timeout=10.0, retry=ENDLESS)
               for _ in range(ACQUIRERS)]
    sessions = [client.session_id for client in clients]
    locks = [recipe(client, "Lock", path, f"a{i}") for i, client in enumerate(clients)]
    order: List[str] = []
    guard = threading.Lock()

    def acquire_then_release(lock: Any) -> None:
        assert lock.acquire(timeout=120)
        with guard:
            order.append(lock.node)
        lock.release()

    rng = random.Random(14)
    zk_proxy.set_latency(0.05)
    waiting = []
    for n in range(DROPS):
        if n % 3 == 0 and len(waiting) < ACQUIRERS:
            # (Its create goes out now and meets the drop just below.)
            waiting.append(InThread(acquire_then_release, locks[len(waiting)]))
        drop_during(zk_proxy, clients, rng)
    zk_proxy.heal()
    pykeeper.testing.wait_until(lambda: all(lock.node is not None for lock in locks), WAIT,
                                message="every acquirer made its node")
    # The same sessions throughout (so no ephemeral node went with one) ...
    assert [client.session_id for client in clients] == sessions
    # ... and exactly one node each: no lost reply left an orphan.
    nodes = sorted([holder.node] + [lock.node for lock in locks])
    assert sorted(checker.get_children(path)) == nodes
    holder.release()
    for thread in waiting:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in waiting), "an acquirer hung"
    assert [thread.error for thread in waiting] == [None] * ACQUIRERS
    assert order == sorted(order, key=lambda node: node[-10:]) and len(order) == ACQUIRERS
    assert checker.get_children(path) == []
    late = recipe(make_any_client(), "Lock", path, "late")
    assert late.acquire(blocking=False) is True
    late.release()


def test_cancel_racing_a_drop_deletes_the_node(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    checker = make_any_client()
    holder = recipe(checker, "Lock", path, "holder")
    assert holder.acquire(timeout=WAIT)
    client = make_any_client(zk_proxy.hosts, session_timeout=10.0, retry=ENDLESS)
    session = client.session_id
    waiter = recipe(client, "Lock", path, "waiter")
    zk_proxy.set_latency(0.02)
    for attempt in range(6):
        waiting = InThread(waiter.acquire, True, WAIT)
        # (Right after the create: the cancel meets the get_children or
        # exists in flight, or the wait on the watch.)
        pykeeper.testing.wait_until(lambda: waiter.node is not None, WAIT)
        if attempt % 2:
            zk_proxy.drop_all()
            waiter.cancel()
        else:
            waiter.cancel()
            zk_proxy.drop_all()
        waiting.join(WAIT)
        assert not waiting.is_alive()
        assert isinstance(waiting.error, CancelledError), waiting.error
        assert waiter.node is None and not waiter.is_acquired
        assert checker.get_children(path) == [holder.node], attempt
    assert client.session_id == session
    zk_proxy.heal()
    holder.release()
    assert waiter.acquire(timeout=WAIT)  # the cancelled object still works
    assert checker.get_children(path) == [waiter.node]
    waiter.release()
