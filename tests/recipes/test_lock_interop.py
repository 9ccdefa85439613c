"""pykeeper's and kazoo's locks on one path exclude each other and list
each other as contenders (a service can move from kazoo one process at a
time)."""

from __future__ import annotations

import threading
from typing import Any, Callable

from kazoo.client import KazooClient

import pykeeper

from ..support import WAIT


def test_kazoo_holder_excludes_pykeeper_and_hands_over_in_order(
        kazoo: KazooClient, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    theirs = kazoo.Lock(path, "kazoo")
    assert theirs.acquire(timeout=5)
    ours = recipe(make_any_client(), "Lock", path, "pykeeper")
    assert ours.acquire(timeout=0.3) is False
    got = threading.Event()
    thread = threading.Thread(target=lambda: ours.acquire(timeout=WAIT) and got.set())
    thread.start()
    pykeeper.testing.wait_until(lambda: len(theirs.contenders()) == 2, WAIT)
    assert theirs.contenders() == ["kazoo", "pykeeper"]
    assert ours.contenders() == ["kazoo", "pykeeper"]
    theirs.release()
    assert got.wait(WAIT)
    thread.join(WAIT)
    assert not kazoo.Lock(path, "k2").acquire(blocking=False)
    ours.release()
    assert kazoo.Lock(path, "k3").acquire(timeout=5)


def test_read_and_write_locks_across_both(kazoo: KazooClient,
                                         make_any_client: Callable[..., Any],
                                         recipe: Callable[..., Any], path: str) -> None:
    their_reader = kazoo.ReadLock(path, "kazoo-reader")
    assert their_reader.acquire(timeout=5)
    our_reader = recipe(make_any_client(), "ReadLock", path, "our-reader")
    assert our_reader.acquire(timeout=WAIT)  # readers share
    our_writer = recipe(make_any_client(), "WriteLock", path, "our-writer")
    assert our_writer.acquire(timeout=0.3) is False
    their_reader.release()
    our_reader.release()
    assert our_writer.acquire(timeout=WAIT)
    assert not kazoo.ReadLock(path, "late").acquire(blocking=False)
    our_writer.release()
