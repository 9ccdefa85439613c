"""transaction() / multi() against a real server: results of a commit, and
a failing transaction raising its failing operation's exception with
`.results`, nothing applied."""

from __future__ import annotations

import re

import pytest

import pykeeper
from pykeeper import Stat


def created_path(result):
    """A create's result in a commit is its path, whatever form the server
    answered in (3.8.0 sends the path alone: ZOOKEEPER-4026)."""
    assert isinstance(result, str), result
    return result


def test_commit_applies_every_operation_and_returns_their_results(client, base):
    client.create(base + "/old", b"old")
    client.create(base + "/gone")
    txn = client.transaction()
    assert isinstance(txn, pykeeper.Transaction)
    same = (txn.create(base + "/new", b"n")
               .create(base + "/new/s-", b"", sequence=True)
               .set_data(base + "/old", b"updated", version=0)
               .check(base + "/old", 1)
               .delete(base + "/gone", version=0))
    assert same is txn and len(txn) == 5
    results = txn.commit()
    assert len(results) == 5
    assert created_path(results[0]) == base + "/new"
    assert re.fullmatch(re.escape(base) + r"/new/s-\d{10}", created_path(results[1]))
    assert isinstance(results[2], Stat) and results[2].version == 1
    assert results[2] == client.exists(base + "/old")
    assert results[3] is True and results[4] is True

    assert client.get(base + "/new")[0] == b"n"
    assert client.get_children(base + "/new") == [created_path(results[1]).rsplit("/", 1)[1]]
    assert client.get(base + "/old")[0] == b"updated"
    assert client.exists(base + "/gone") is None
    assert txn.committed
    with pytest.raises(ValueError):
        txn.commit()


def test_multi_is_transaction(client, base):
    results = client.multi().create(base + "/m").set(base + "/m", b"x").commit()
    assert created_path(results[0]) == base + "/m"
    assert results[1].version == 1
    assert client.get(base + "/m")[0] == b"x"


def test_transaction_as_context_manager_commits_on_exit(client, base):
    with client.transaction() as txn:
        txn.create(base + "/cm1")
        txn.create(base + "/cm2", ephemeral=True)
    assert txn.committed
    assert client.exists(base + "/cm1") is not None
    assert client.is_ephemeral(base + "/cm2")


def test_transaction_context_manager_does_not_commit_on_error(client, base):
    with pytest.raises(RuntimeError):
        with client.transaction() as txn:
            txn.create(base + "/never")
            raise RuntimeError("abort")
    assert not txn.committed
    assert client.exists(base + "/never") is None


@pytest.mark.parametrize("failing, exc_class", [
    ("missing-delete", pykeeper.NoNodeException),
    ("bad-check", pykeeper.BadVersionException),
    ("existing-create", pykeeper.NodeExistsException),
    ("bad-set-version", pykeeper.BadVersionException),
    ("not-empty", pykeeper.NotEmptyException),
])
def test_a_failing_transaction_applies_nothing(client, base, failing, exc_class):
    client.create(base + "/exists", b"orig")
    client.create(base + "/exists/child")
    txn = client.transaction().create(base + "/a", b"a").set_data(base + "/exists", b"changed")
    bad_path = {
        "missing-delete": base + "/missing",
        "bad-check": base + "/exists",
        "existing-create": base + "/exists",
        "bad-set-version": base + "/exists",
        "not-empty": base + "/exists",
    }[failing]
    if failing == "missing-delete":
        txn.delete(bad_path)
    elif failing == "bad-check":
        txn.check(bad_path, 7)
    elif failing == "existing-create":
        txn.create(bad_path)
    elif failing == "bad-set-version":
        txn.set_data(bad_path, b"x", version=9)
    else:
        txn.delete(bad_path)
    txn.create(base + "/b")

    with pytest.raises(exc_class) as info:
        txn.commit()
    error = info.value
    assert isinstance(error, pykeeper.ZooKeeperException)
    assert error.code == exc_class.code and error.path == bad_path
    results = error.results
    assert len(results) == 4
    assert isinstance(results[0], pykeeper.RolledBackException)  # succeeded, rolled back
    assert isinstance(results[1], pykeeper.RolledBackException)
    assert results[1].path == base + "/exists"
    assert results[2] is error
    # after the failure the server does not run the rest
    assert isinstance(results[3], pykeeper.RuntimeInconsistencyException)
    # nothing was applied
    assert client.exists(base + "/a") is None
    assert client.exists(base + "/b") is None
    data, stat = client.get(base + "/exists")
    assert data == b"orig" and stat.version == 0
    assert client.get_children(base) == ["exists"]


def test_transaction_checks_arguments_at_once(client, base):
    txn = client.transaction()
    with pytest.raises(ValueError):
        txn.create("relative")
    with pytest.raises(ValueError):
        txn.delete(base + "/")
    with pytest.raises(TypeError):
        txn.set_data(base, 12)
    with pytest.raises(TypeError):
        txn.check(base, "1")
    assert len(txn) == 0
    with pytest.raises(ValueError, match="at least one"):
        txn.commit()


def test_a_transaction_and_a_watched_event_read_as_words(client) -> None:
    txn = client.transaction()
    assert repr(txn) == "<Transaction of 0 operations, not committed>"
    txn.create("/r/a", b"xy").set_data("/r/b", b"z", version=3).delete("/r/c").check("/r", 0)
    assert repr(txn) == ("<Transaction of 4 operations, not committed: "
                         "create '/r/a' (2 bytes); set '/r/b' (1 bytes) at version 3; "
                         "delete '/r/c'; check '/r' at version 0>")
    event = pykeeper.WatchedEvent(pykeeper.EventType.CREATED, pykeeper.KeeperState.SYNC_CONNECTED,
                                  "/w")
    assert repr(event) == "WatchedEvent(type=created, state=connected, path='/w')"
