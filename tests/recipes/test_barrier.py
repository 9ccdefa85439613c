"""Barrier and DoubleBarrier against a real server, on both clients."""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest

import pykeeper

from ..support import WAIT, AsyncioFacade
from .conftest import InThread


def test_barrier_holds_waiters_until_removed(make_any_client: Callable[..., Any],
                                             recipe: Callable[..., Any], path: str) -> None:
    gate = recipe(make_any_client(), "Barrier", path)
    waiter = recipe(make_any_client(), "Barrier", path)
    assert waiter.wait(timeout=0) is True  # no node: open
    gate.create()
    assert waiter.wait(timeout=0.2) is False
    passed = threading.Event()
    thread = threading.Thread(target=lambda: waiter.wait(WAIT) and passed.set())
    thread.start()
    assert not passed.wait(0.2)
    assert gate.remove() is True
    assert passed.wait(WAIT)
    thread.join(WAIT)
    assert gate.remove() is False


def test_a_closed_client_ends_the_wait(make_any_client: Callable[..., Any],
                                       recipe: Callable[..., Any], path: str) -> None:
    recipe(make_any_client(), "Barrier", path).create()
    client = make_any_client()
    waiter = recipe(client, "Barrier", path)
    waiting = InThread(waiter.wait)
    waiting.join(0.3)
    assert waiting.is_alive() and waiting.error is None
    if isinstance(client, AsyncioFacade):
        client._run(client.aio.close())  # (the facade's loop stays up for the fixture)
    else:
        client.close()
    waiting.join(WAIT)
    assert not waiting.is_alive()
    assert isinstance(waiting.error, pykeeper.ClientClosedException)


def test_double_barrier_enters_and_leaves_together(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    members = [recipe(make_any_client(), "DoubleBarrier", path, 3, f"m{i}") for i in range(3)]
    entered: List[int] = []
    left: List[int] = []
    guard = threading.Lock()
    someone_entered = threading.Event()

    def member(i: int) -> None:
        assert members[i].enter(WAIT)
        someone_entered.set()
        with guard:
            entered.append(i)
            assert len(entered) <= 3
        assert members[i].leave(WAIT)
        with guard:
            left.append(i)
            # Nobody leaves before everyone entered.
            assert len(entered) == 3

    threads = [threading.Thread(target=member, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    assert not someone_entered.wait(0.3)
    third = threading.Thread(target=member, args=(2,))
    third.start()
    for thread in threads + [third]:
        thread.join(WAIT)
    assert sorted(entered) == [0, 1, 2] and sorted(left) == [0, 1, 2]


def test_double_barrier_enter_times_out_and_leaves(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    member = recipe(client, "DoubleBarrier", path, 2)
    assert member.enter(timeout=0.2) is False
    assert client.get_children(path) == []
    with pytest.raises(ValueError, match="num_clients"):
        recipe(client, "DoubleBarrier", path, 0)


def test_cancel_ends_a_barrier_wait_and_a_double_barrier_enter(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    recipe(make_any_client(), "Barrier", path).create()
    waiter = recipe(make_any_client(), "Barrier", path)
    waiting = InThread(waiter.wait, WAIT)
    admin = make_client()
    # (A wait that starts clears an earlier cancel(): cancel until it has ended.)
    pykeeper.testing.wait_until(lambda: waiter.cancel() or not waiting.is_alive(), WAIT)
    assert isinstance(waiting.error, pykeeper.recipes.CancelledError)
    double = recipe(make_any_client(), "DoubleBarrier", path + "-double", 2)
    entering = InThread(double.enter, WAIT)
    pykeeper.testing.wait_until(lambda: double.cancel() or not entering.is_alive(), WAIT)
    assert isinstance(entering.error, pykeeper.recipes.CancelledError)
    assert admin.get_children(path + "-double") == []  # it left
