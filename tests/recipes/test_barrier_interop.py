"""pykeeper's and kazoo's Barrier and DoubleBarrier on one path: a gate
one closes and opens releases the other's waiters, and mixed DoubleBarrier
members enter together and leave together (kazoo's layout on both)."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest
from kazoo.client import KazooClient

import pykeeper

from ..support import WAIT


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


class Daemon:
    """`fn(*args)` in a daemon thread, keeping what it raised: kazoo's
    enter, leave and untimed waits cannot be ended from outside, so a
    broken barrier fails the test instead of hanging the run."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # (the test asserts on it)
            self.error = exc

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


def watched(server: Any, path: str) -> bool:
    """True once some session has a watch on `path` (the server's wchp)."""
    return path in server.four_letter("wchp").split()


def test_kazoo_gate_releases_a_pykeeper_waiter(
        zk_server: Any, kazoo_factory: Callable[[], KazooClient],
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    gate = kazoo_factory().Barrier(path)
    gate.create()
    ours = recipe(make_any_client(), "Barrier", path)
    assert ours.wait(timeout=0) is False  # closed by kazoo's node
    passed = threading.Event()
    waiting = Daemon(lambda: ours.wait(WAIT) and passed.set())
    # (Removed once our waiter watches the node: its wake-up is what is tested.)
    pykeeper.testing.wait_until(lambda: watched(zk_server, path), WAIT)
    assert not passed.is_set()
    assert gate.remove() is True
    assert passed.wait(WAIT)
    waiting.join(WAIT)
    assert waiting.error is None
    assert gate.remove() is False and ours.wait(timeout=0) is True


def test_pykeeper_gate_releases_a_kazoo_waiter(
        zk_server: Any, kazoo_factory: Callable[[], KazooClient],
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    ours = recipe(make_any_client(), "Barrier", path)
    ours.create()
    theirs = kazoo_factory().Barrier(path)
    assert theirs.wait(timeout=0) is False  # closed by our node
    passed = threading.Event()
    waiting = Daemon(lambda: theirs.wait(WAIT) and passed.set())
    pykeeper.testing.wait_until(lambda: watched(zk_server, path), WAIT)
    assert not passed.is_set()
    assert ours.remove() is True
    assert passed.wait(WAIT)
    waiting.join(WAIT)
    assert waiting.error is None
    assert theirs.wait(timeout=0) is True and ours.remove() is False


@pytest.mark.parametrize("last", ["kazoo", "pykeeper"])
def test_mixed_double_barrier_members_enter_and_leave_together(
        last: str, kazoo_factory: Callable[[], KazooClient],
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    size = 4
    kinds = ["kazoo", "pykeeper", "kazoo", "pykeeper"]
    kinds.remove(last)
    kinds.append(last)  # the member whose entry lets everyone in
    members: List[Tuple[str, Any]] = []
    for i, kind in enumerate(kinds):
        name = f"{kind}{i}"
        if kind == "kazoo":
            members.append((name, kazoo_factory().DoubleBarrier(path, size, name)))
        else:
            members.append((name, recipe(make_any_client(), "DoubleBarrier", path, size, name)))
    checker = kazoo_factory()
    timeline: List[Tuple[str, str]] = []
    guard = threading.Lock()
    go_leave = [threading.Event() for _ in members]

    def note(what: str, name: str) -> None:
        with guard:
            timeline.append((what, name))

    def member(i: int) -> None:
        name, barrier = members[i]
        ours = name.startswith("pykeeper")
        assert (barrier.enter(WAIT) if ours else barrier.enter()) is not False
        assert barrier.participating
        note("entered", name)
        assert go_leave[i].wait(WAIT)
        note("leaving", name)
        assert (barrier.leave(WAIT) if ours else barrier.leave()) is not False
        note("left", name)

    def count(what: str) -> int:
        with guard:
            return [event for event, _ in timeline].count(what)

    def joined() -> int:
        children = checker.get_children(path) if checker.exists(path) else []
        return len([child for child in children if child != "ready"])

    threads = [Daemon(member, i) for i in range(size - 1)]
    pykeeper.testing.wait_until(lambda: joined() == size - 1, WAIT,
                                message="all but the last member joined")
    note("last joins", members[-1][0])
    threads.append(Daemon(member, size - 1))
    pykeeper.testing.wait_until(lambda: count("entered") == size, WAIT,
                                message="every member entered")
    # Sent to leave one after the other: nobody is out before the last left.
    for i in range(size):
        go_leave[i].set()
        pykeeper.testing.wait_until(lambda: count("leaving") == i + 1, WAIT)
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), timeline
    assert [thread.error for thread in threads] == [None] * size
    events = [what for what, _ in timeline]
    assert "entered" not in events[:events.index("last joins")], timeline
    assert events[:events.index("left")].count("leaving") == size, timeline
    assert count("left") == size and joined() == 0
