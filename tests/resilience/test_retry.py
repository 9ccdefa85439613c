"""RetryPolicy and client.retry: what is retried, how long, and writes
whose first try was applied although its reply was lost."""

from __future__ import annotations

import threading

import pytest

import pykeeper
from pykeeper import RetryPolicy


class LosesFirstReply:
    """Runs a real call, then raises ConnectionLoss the first time, as if
    the reply had been lost after the server applied the write."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        result = self.fn(*args, **kwargs)
        if self.calls == 1:
            raise pykeeper.ConnectionLossException("reply lost (simulated)")
        return result


@pytest.mark.parametrize("kwargs, message", [
    ({"max_tries": 0}, "max_tries"), ({"delay": -1}, "delay"), ({"backoff": 0.5}, "backoff"),
    ({"deadline": 0}, "deadline"), ({"max_delay": -1}, "max_delay")])
def test_bad_policies_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)


def test_retry_policy_must_be_a_policy(zk_server) -> None:
    with pytest.raises(TypeError, match="RetryPolicy"):
        pykeeper.ZooKeeper(zk_server.hosts, retry=3)


def test_other_errors_are_not_retried(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    calls = []

    def missing():
        calls.append(1)
        return client.get("/no/such/node")

    with pytest.raises(pykeeper.NoNodeException):
        client.retry(missing)
    assert len(calls) == 1


def test_gives_up_after_max_tries(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts, retry=RetryPolicy(max_tries=3, delay=0.01))
    calls = []

    def always_loses():
        calls.append(client.get("/"))
        raise pykeeper.ConnectionLossException("simulated")

    with pytest.raises(pykeeper.ConnectionLossException):
        client.retry(always_loses)
    assert len(calls) == 3


def test_deadline_bounds_the_wait(zk_fresh_server, make_client) -> None:
    client = make_client(zk_fresh_server.hosts,
                         retry=RetryPolicy(max_tries=None, delay=0.01, deadline=0.5))
    mark = client.log.mark()
    zk_fresh_server.stop()
    client.log.wait_for("connecting", mark)
    calls = []

    def read():
        calls.append(1)
        return client.get("/")

    # While disconnected no tries are spent: it waits for the reconnection
    # until the deadline, then gives up.
    with pytest.raises(pykeeper.ConnectionLossException, match="still disconnected"):
        client.retry(read)
    assert len(calls) == 1
    with pytest.raises(pykeeper.ConnectionLossException):
        client.get("/")  # reads use the client's policy


def test_default_policy_masks_a_dropped_connection_for_reads(zk_proxy, make_client) -> None:
    client = make_client(zk_proxy.hosts, retry=RetryPolicy(max_tries=None, deadline=20))
    client.create("/masked", b"v")
    for _ in range(5):
        zk_proxy.drop_all()
        assert client.get("/masked")[0] == b"v"
    client.delete("/masked")


def test_create_applied_but_reply_lost_is_recognised(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    create = LosesFirstReply(client.create)
    assert client.retry(create, "/lost-create", b"mine") == "/lost-create"
    assert create.calls == 2
    client.delete("/lost-create")


def test_create_by_someone_else_still_raises(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    other = make_client(zk_server.hosts)

    def create_after_other_did():
        if not calls:
            calls.append(1)
            other.create("/contested", b"theirs")
            raise pykeeper.ConnectionLossException("simulated")
        return client.create("/contested", b"mine")

    calls: list = []
    with pytest.raises(pykeeper.NodeExistsException):
        client.retry(create_after_other_did)
    other.delete("/contested")


def test_sequential_create_retried_makes_one_node(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    client.create("/seqparent")
    create = LosesFirstReply(client.create)
    made = client.retry(create, "/seqparent/job-", b"", sequence=True)
    assert create.calls == 2
    children = client.get_children("/seqparent")
    assert len(children) == 1 and "/seqparent/" + children[0] == made
    assert children[0].startswith("_c_") and children[0].endswith("job-0000000000")
    client.delete_recursive("/seqparent")


def test_versioned_set_applied_but_reply_lost_is_recognised(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    client.create("/cas", b"0")
    set_ = LosesFirstReply(client.set)
    stat = client.retry(set_, "/cas", b"1", version=0)
    assert stat.version == 1 and set_.calls == 2
    # A set whose version really is stale still fails.
    with pytest.raises(pykeeper.BadVersionException):
        client.retry(client.set, "/cas", b"2", version=0)
    client.delete("/cas")


def test_delete_applied_but_reply_lost_is_done(zk_server, make_client) -> None:
    client = make_client(zk_server.hosts)
    client.create("/gone")
    delete = LosesFirstReply(client.delete)
    assert client.retry(delete, "/gone") is None
    assert client.exists("/gone") is None


def test_retry_waits_for_the_reconnection(zk_fresh_server, make_client) -> None:
    client = make_client(zk_fresh_server.hosts)
    mark = client.log.mark()
    zk_fresh_server.stop()
    client.log.wait_for("connecting", mark)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault(
        "children", client.retry(client.get_children, "/")))
    worker.start()
    zk_fresh_server.start()
    worker.join(20)
    assert "zookeeper" in result["children"]
