"""Eight and more contenders on one Lock, each with its own client (sync,
asyncio, kazoo): never two holders at once, and the lock is fair: every
acquisition comes in the order of the contenders' node sequence numbers
(the order they queued in)."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest
from kazoo.client import KazooClient

import pykeeper

from ..support import WAIT, client_factory

CONTENDERS = 8
ROUNDS = 3  # acquisitions per contender (each queues a new node)


def sequence(node: Optional[str]) -> int:
    """The sequence number a contender node's name ends with."""
    assert node is not None and node[-10:].isdigit(), node
    return int(node[-10:])


class Timeline:
    """Every holder's enter and exit, in the order they happened (appended
    under a plain lock, so the list's order is the real order)."""

    def __init__(self) -> None:
        self.events: List[Tuple[str, str, int]] = []  # (enter|exit, contender, sequence)
        self.errors: List[BaseException] = []
        self._guard = threading.Lock()

    def note(self, what: str, name: str, seq: int) -> None:
        with self._guard:
            self.events.append((what, name, seq))

    def failed(self, exc: BaseException) -> None:
        with self._guard:
            self.errors.append(exc)


def contend(name: str, lock: Any, client: Any, path: str, timeline: Timeline) -> None:
    """ROUNDS times: take the lock, note enter (with our node's sequence),
    make a round trip while holding it (a window for another holder to
    show up in), note exit, release."""
    try:
        for _ in range(ROUNDS):
            assert lock.acquire(timeout=WAIT), f"{name} did not get the lock"
            seq = sequence(lock.node)
            timeline.note("enter", name, seq)
            client.exists(path)
            timeline.note("exit", name, seq)
            lock.release()
    except BaseException as exc:  # (the test asserts there were none)
        timeline.failed(exc)


def run_contention(holder: Any, contenders: List[Tuple[str, Any, Any]], path: str,
                   children: Callable[[], List[str]]) -> Timeline:
    """`holder` (a lock of the path) holds while every contender queues,
    then lets go; returns the timeline once all are done, after checking
    no overlap and the fair order."""
    assert holder.acquire(timeout=WAIT)
    timeline = Timeline()
    threads = [threading.Thread(target=contend, args=(name, lock, client, path, timeline))
               for name, lock, client in contenders]
    for thread in threads:
        thread.start()
    # Everyone has queued behind the holder: these are their first nodes.
    pykeeper.testing.wait_until(
        lambda: all(lock.node is not None for _, lock, _ in contenders), WAIT,
        message="every contender made its node")
    queued = {name: sequence(lock.node) for name, lock, _ in contenders}
    assert len(children()) == len(contenders) + 1
    holder.release()
    for thread in threads:
        thread.join(WAIT * ROUNDS)
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    assert timeline.errors == []

    events = timeline.events
    assert len(events) == 2 * ROUNDS * len(contenders)
    # No overlap: each enter is followed by the same holder's exit.
    for enter, exit_ in zip(events[0::2], events[1::2]):
        assert enter[0] == "enter" and exit_ == ("exit",) + enter[1:], events
    # Fair: acquisitions in node sequence order, first ones in queue order.
    order = [seq for what, _, seq in events if what == "enter"]
    assert order == sorted(order) and len(set(order)) == len(order), events
    first = {}
    for _, name, seq in events[0::2]:
        first.setdefault(name, seq)
    assert first == queued
    assert [name for name, _ in sorted(queued.items(), key=lambda item: item[1])] == [
        name for _, name, _ in events[0::2]][:len(contenders)]
    assert children() == []
    return timeline


@pytest.fixture
def kazoo_factory(zk_server: Any) -> Iterator[Callable[[], KazooClient]]:
    made: List[KazooClient] = []

    def make() -> KazooClient:
        client = KazooClient(hosts=zk_server.hosts)
        client.start()
        made.append(client)
        return client

    yield make
    for client in made:
        client.stop()
        client.close()


@pytest.fixture
def make_aio_client(zk_server: Any) -> Iterator[Callable[..., Any]]:
    """Connected asyncio clients (driven from the test's threads)."""
    yield from client_factory("asyncio", zk_server.hosts)


def test_contenders_hold_one_at_a_time_in_queue_order(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    checker = make_any_client()
    holder = recipe(checker, "Lock", path, "holder")
    contenders = []
    for i in range(CONTENDERS):
        client = make_any_client()
        contenders.append((f"c{i}", recipe(client, "Lock", path, f"c{i}"), client))
    run_contention(holder, contenders, path, lambda: checker.get_children(path))


def test_pykeeper_and_kazoo_contenders_share_one_fair_queue(
        make_client: Callable[..., Any], make_aio_client: Callable[..., Any],
        kazoo_factory: Callable[[], KazooClient], recipe: Callable[..., Any],
        path: str) -> None:
    checker = make_client()
    holder = kazoo_factory().Lock(path, "kazoo-holder")
    contenders: List[Tuple[str, Any, Any]] = []
    for i in range(3):
        client = make_client()
        contenders.append((f"sync{i}", recipe(client, "Lock", path, f"sync{i}"), client))
    for i in range(3):
        client = make_aio_client()
        contenders.append((f"aio{i}", recipe(client, "Lock", path, f"aio{i}"), client))
    for i in range(3):
        client = kazoo_factory()
        contenders.append((f"kazoo{i}", client.Lock(path, f"kazoo{i}"), client))
    run_contention(holder, contenders, path, lambda: checker.get_children(path))
