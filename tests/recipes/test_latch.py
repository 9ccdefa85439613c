"""LeaderLatch against a real server, on both clients."""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest

import pykeeper

from pykeeper.testing import expire_session

from ..support import WAIT


def test_leadership_passes_on_close_and_on_expiry(
        zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    first_client = make_any_client()
    first = recipe(first_client, "LeaderLatch", path, "first")
    told: List[bool] = []
    lost_it = threading.Event()

    def on_leadership(leading: bool) -> None:
        told.append(leading)
        if not leading:
            lost_it.set()

    first.add_leadership_listener(on_leadership)
    first.start()
    assert first.wait_for_leadership(WAIT) and first.is_leader
    second = recipe(make_any_client(), "LeaderLatch", path, "second")
    second.start()
    third = recipe(make_any_client(), "LeaderLatch", path, "third")
    third.start()
    assert second.participants() == ["first", "second", "third"]
    assert second.wait_for_leadership(0.2) is False
    with pytest.raises(ValueError, match="timeout"):
        second.wait_for_leadership("soon")
    expire_session(first_client, zk_server.hosts)
    assert lost_it.wait(WAIT)
    assert second.wait_for_leadership(WAIT)
    assert not third.is_leader
    # The first latch joined again after the expiry: now last in line.
    first_client.wait_until_connected(WAIT)
    pykeeper.testing.wait_until(
        lambda: second.participants() == ["second", "third", "first"], WAIT)
    assert first.wait_for_leadership(0.2) is False
    second.close()
    assert third.wait_for_leadership(WAIT)
    assert told[:2] == [True, False]
    third.close()
    assert first.wait_for_leadership(WAIT)
    first.close()
    assert not first.is_leader
    with pytest.raises(RuntimeError, match="started already"):
        first.start()


def test_a_leader_whose_node_an_admin_deleted_stops_leading(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    first = recipe(make_any_client(), "LeaderLatch", path, "first")
    lost_it = threading.Event()
    told: List[bool] = []

    def on_first(leading: bool) -> None:
        told.append(leading)
        if not leading:
            lost_it.set()

    first.add_leadership_listener(on_first)
    first.start()
    assert first.wait_for_leadership(WAIT)
    second = recipe(make_any_client(), "LeaderLatch", path, "second")
    second.start()
    admin = make_client()
    admin.delete(f"{path}/{first.node}")
    assert lost_it.wait(WAIT)
    assert second.wait_for_leadership(WAIT)
    assert not first.is_leader
    # The first joined again, at the end of the line.
    pykeeper.testing.wait_until(lambda: second.participants() == ["second", "first"], WAIT)
    first.remove_leadership_listener(on_first)
    with pytest.raises(ValueError):
        first.remove_leadership_listener(on_first)
    second.close()
    assert first.wait_for_leadership(WAIT)
    assert told == [True, False]  # (removed before it led again)
    first.close()


def test_a_deleted_latch_path_is_made_again(make_any_client: Callable[..., Any],
                                            make_client: Callable[..., Any],
                                            recipe: Callable[..., Any], path: str) -> None:
    latch = recipe(make_any_client(), "LeaderLatch", path, "only")
    latch.start()
    assert latch.wait_for_leadership(WAIT)
    make_client().delete_recursive(path, force=True)
    pykeeper.testing.wait_until(lambda: latch.participants() == ["only"], WAIT)
    assert latch.wait_for_leadership(WAIT)
    latch.close()
