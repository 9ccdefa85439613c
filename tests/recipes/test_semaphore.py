"""Semaphore against a real server, on both clients, and with kazoo's."""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient

import pykeeper
from pykeeper.testing import expire_session

from ..support import WAIT
from .conftest import InThread


def test_at_most_max_leases_holders(make_any_client: Callable[..., Any],
                                    recipe: Callable[..., Any], path: str) -> None:
    semaphores = [recipe(make_any_client(), "Semaphore", path, f"s{i}", max_leases=2)
                  for i in range(4)]
    inside: List[int] = []
    most = [0]
    guard = threading.Lock()
    errors: List[BaseException] = []

    def hold(i: int) -> None:
        try:
            for _ in range(3):
                assert semaphores[i].acquire(timeout=WAIT)
                with guard:
                    inside.append(i)
                    most[0] = max(most[0], len(inside))
                    assert len(inside) <= 2, f"overbooked: {inside}"
                with guard:
                    inside.remove(i)
                semaphores[i].release()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and most[0] >= 1
    assert semaphores[0].lease_holders() == []


def test_a_full_semaphore_times_out_and_a_release_lets_one_in(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    holder = recipe(make_any_client(), "Semaphore", path, "holder")
    assert holder.acquire()
    assert holder.lease_holders() == ["holder"]
    other = recipe(make_any_client(), "Semaphore", path, "other")
    assert other.acquire(blocking=False) is False
    assert other.acquire(timeout=0.2) is False
    got = threading.Event()
    thread = threading.Thread(target=lambda: other.acquire(timeout=WAIT) and got.set())
    thread.start()
    assert not got.wait(0.2)
    holder.release()
    assert got.wait(WAIT)
    thread.join(WAIT)
    assert other.lease_holders() == ["other"]


def test_a_max_leases_mismatch_is_an_error(make_any_client: Callable[..., Any],
                                           recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    assert recipe(client, "Semaphore", path, max_leases=3).acquire()
    with pytest.raises(ValueError, match="3 stored there, 5 asked here"):
        recipe(make_any_client(), "Semaphore", path, max_leases=5).acquire()
    with pytest.raises(ValueError, match="max_leases"):
        recipe(client, "Semaphore", path, max_leases=0)


def test_cancel_and_a_lost_lease(zk_server: Any, make_any_client: Callable[..., Any],
                                 recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    holder = recipe(client, "Semaphore", path, "holder")
    lost = threading.Event()
    holder.add_listener(lambda event: event == "lost" and lost.set())
    holder.acquire()
    waiter = recipe(make_any_client(), "Semaphore", path, "waiter")
    waiting = InThread(waiter.acquire)
    queue = recipe(client, "Lock", path + "-__lock__")  # (where a waiter queues)
    pykeeper.testing.wait_until(lambda: queue.contenders() == ["waiter"], WAIT)
    waiter.cancel()
    waiting.join(WAIT)
    assert isinstance(waiting.error, pykeeper.recipes.CancelledError)
    expire_session(client, zk_server.hosts)
    assert lost.wait(WAIT) and not holder.is_acquired
    assert waiter.acquire(timeout=WAIT)


def test_a_waiter_makes_a_deleted_semaphore_again(make_any_client: Callable[..., Any],
                                                   make_client: Callable[..., Any],
                                                   recipe: Callable[..., Any], path: str) -> None:
    holder = recipe(make_any_client(), "Semaphore", path, "holder", max_leases=1)
    assert holder.acquire()
    waiter = recipe(make_any_client(), "Semaphore", path, "waiter", max_leases=1)
    waiting = InThread(waiter.acquire, True, WAIT)
    queue = recipe(make_any_client(), "Lock", path + "-__lock__")
    pykeeper.testing.wait_until(lambda: queue.contenders() == ["waiter"], WAIT)
    admin = make_client()
    with admin.transaction() as tx:  # an admin cleans up, leases too, at once
        for lease in admin.get_children(path):
            tx.delete(f"{path}/{lease}")
        tx.delete(path)
    waiting.join(WAIT)
    assert waiting.error is None and waiter.is_acquired
    assert waiter.lease_holders() == ["waiter"]
    assert make_client().get(path)[0] == b"1"


def test_kazoo_and_pykeeper_share_the_leases(zk_server: Any,
                                             make_any_client: Callable[..., Any],
                                             recipe: Callable[..., Any], path: str) -> None:
    kazoo = KazooClient(hosts=zk_server.hosts)
    kazoo.start()
    try:
        theirs = kazoo.Semaphore(path, "kazoo", max_leases=1)
        assert theirs.acquire(timeout=5)
        ours = recipe(make_any_client(), "Semaphore", path, "pykeeper")
        assert ours.acquire(timeout=0.3) is False
        assert ours.lease_holders() == ["kazoo"]
        theirs.release()
        assert ours.acquire(timeout=WAIT)
        assert theirs.lease_holders() == ["pykeeper"]
        assert not theirs.acquire(blocking=False)
        with pytest.raises(ValueError):
            kazoo.Semaphore(path, "k2", max_leases=2).acquire(blocking=False)
    finally:
        kazoo.stop()
        kazoo.close()
