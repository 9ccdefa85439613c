"""The future-returning twin of every call: same results, same exceptions
(on the future), many in flight at once."""

from __future__ import annotations

import inspect
import threading

import pytest

import pykeeper
from pykeeper.core import operations

WAIT = 10


def test_every_operation_has_a_future_twin() -> None:
    for name in operations.CLIENT_OPERATIONS:
        twin = getattr(pykeeper.ZooKeeper, name + "_async")
        assert "Future" in str(inspect.signature(twin).return_annotation), name
    assert callable(pykeeper.ZooKeeper.remove_watches_async)
    assert callable(pykeeper.Transaction.commit_async)


def test_twins_give_the_same_results_and_errors(client, base) -> None:
    assert client.create_async(base + "/a", b"1").result(WAIT) == base + "/a"
    path, stat = client.create2_async(base + "/b", b"2").result(WAIT)
    assert path == base + "/b" and stat.dataLength == 1
    assert client.create_recursive_async(base + "/c/d/e", b"3").result(WAIT) == base + "/c/d/e"
    assert client.get_async(base + "/a").result(WAIT)[0] == b"1"
    assert client.exists_async(base + "/none").result(WAIT) is None
    assert sorted(client.get_children_async(base).result(WAIT)) == ["a", "b", "c"]
    assert client.set_async(base + "/a", b"x", version=0).result(WAIT).version == 1
    with pytest.raises(pykeeper.BadVersionException):
        client.set_async(base + "/a", b"y", version=0).result(WAIT)
    missing = client.get_async(base + "/none")
    with pytest.raises(pykeeper.NoNodeException) as info:
        missing.result(WAIT)
    assert info.value.path == base + "/none"
    with pytest.raises(ValueError):
        client.get_async("no-slash")  # bad arguments raise at the call
    txn = client.transaction().create(base + "/t", b"").check(base + "/a", 1)
    assert txn.commit_async().result(WAIT) == [base + "/t", True]
    failing = client.transaction().create(base + "/u", b"").check(base + "/a", 0)
    with pytest.raises(pykeeper.BadVersionException):
        failing.commit_async().result(WAIT)
    assert client.exists(base + "/u") is None
    removed = client.delete_recursive_async(base + "/c").result(WAIT)
    assert sorted(removed) == [base + "/c", base + "/c/d", base + "/c/d/e"]


def test_remove_watches_async(client, base) -> None:
    path = client.create(base + "/w", b"")
    events = []
    told = threading.Event()

    def watcher(event: pykeeper.WatchedEvent) -> None:
        events.append(event.type_name)
        told.set()

    client.get(path, watcher=watcher)
    client.remove_watches_async(path, watcher, kind="data").result(WAIT)
    assert told.wait(WAIT) and events == ["data_watch_removed"]
    with pytest.raises(pykeeper.NoWatcherException):
        client.remove_watches_async(path, watcher, kind="data")
