"""Election against a real server, on both clients, and with kazoo's."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient

import pykeeper
from pykeeper.recipes import CancelledError

from ..support import WAIT, AsyncioFacade
from .conftest import InThread


def off_loop(client: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` for the leader to run: on the asyncio client a coroutine
    function running it in a worker thread (a leader must not block the
    loop)."""
    if not isinstance(client, AsyncioFacade):
        return fn

    async def run(*args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
    return run


def test_one_leader_at_a_time_in_order(make_any_client: Callable[..., Any],
                                       recipe: Callable[..., Any], path: str) -> None:
    clients = [make_any_client() for _ in range(3)]
    elections = [recipe(c, "Election", path, f"c{i}") for i, c in enumerate(clients)]
    leading: List[str] = []
    order: List[str] = []
    guard = threading.Lock()
    release = threading.Event()

    def lead(name: str) -> str:
        with guard:
            leading.append(name)
            assert len(leading) == 1, f"two leaders: {leading}"
            order.append(name)
        if name == "c0":
            assert release.wait(WAIT)
        with guard:
            leading.remove(name)
        return name

    results: List[Any] = []
    threads = []
    for i, election in enumerate(elections):
        func = off_loop(clients[i], lead)
        thread = threading.Thread(
            target=lambda e=election, n=f"c{i}", f=func: results.append(e.run(f, n)))
        thread.start()
        threads.append(thread)
        pykeeper.testing.wait_until(lambda: len(elections[0].contenders()) == i + 1, WAIT)
    assert elections[0].contenders() == ["c0", "c1", "c2"]
    release.set()
    for thread in threads:
        thread.join(WAIT)
    assert order == ["c0", "c1", "c2"] and sorted(results) == ["c0", "c1", "c2"]
    assert elections[0].contenders() == []


def test_leadership_is_given_up_when_func_raises(make_any_client: Callable[..., Any],
                                                 recipe: Callable[..., Any], path: str) -> None:
    election = recipe(make_any_client(), "Election", path)

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        election.run(fail)
    assert election.contenders() == []


def test_cancel_ends_a_waiting_run(make_any_client: Callable[..., Any],
                                   recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    leader = recipe(client, "Election", path, "leader")
    waiter = recipe(make_any_client(), "Election", path, "waiter")
    release = threading.Event()
    thread = threading.Thread(target=leader.run, args=(off_loop(client, release.wait), WAIT))
    thread.start()
    pykeeper.testing.wait_until(lambda: leader.contenders() == ["leader"], WAIT)
    waiting = InThread(waiter.run, lambda: None)
    pykeeper.testing.wait_until(lambda: len(leader.contenders()) == 2, WAIT)
    waiter.cancel()
    waiting.join(WAIT)
    assert isinstance(waiting.error, CancelledError)
    release.set()
    thread.join(WAIT)


def test_kazoo_and_pykeeper_share_one_election(
        zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    kazoo = KazooClient(hosts=zk_server.hosts)
    kazoo.start()
    try:
        theirs = kazoo.Election(path, "kazoo")
        ours = recipe(make_any_client(), "Election", path, "pykeeper")
        release = threading.Event()
        thread = threading.Thread(target=theirs.run, args=(release.wait, WAIT))
        thread.start()
        pykeeper.testing.wait_until(lambda: ours.contenders() == ["kazoo"], WAIT)
        led = threading.Event()
        other = threading.Thread(target=ours.run, args=(led.set,))
        other.start()
        pykeeper.testing.wait_until(lambda: theirs.contenders() == ["kazoo", "pykeeper"], WAIT)
        assert not led.is_set()
        release.set()
        assert led.wait(WAIT)
        other.join(WAIT)
        thread.join(WAIT)
    finally:
        kazoo.stop()
        kazoo.close()
