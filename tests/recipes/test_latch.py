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
