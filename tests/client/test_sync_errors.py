"""Every error a real server produces in normal use, raised as its own
class under pykeeper.ZooKeeperException, with the server's `.code` and the
request's `.path`."""

from __future__ import annotations

import time

import pytest

import pykeeper
from pykeeper import ACL, Id, Perms, State
from pykeeper.testing import ZooKeeperServer

from ..support import WAIT, Recorder


def check(info, cls, code, path):
    error = info.value
    assert type(error) is cls
    assert isinstance(error, pykeeper.ZooKeeperException)
    assert error.code == code == cls.code
    assert error.path == path


def test_the_exception_classes():
    names = ["SystemError", "RuntimeInconsistency", "DataInconsistency", "ConnectionLoss",
             "MarshallingError", "Unimplemented", "OperationTimeout", "BadArguments",
             "InvalidState", "ApiError", "NoNode", "NoAuth", "BadVersion",
             "NoChildrenForEphemerals", "NodeExists", "NotEmpty", "SessionExpired",
             "InvalidCallback", "InvalidACL", "AuthFailed", "Closing", "Nothing",
             "SessionMoved", "NotReadOnly", "EphemeralOnLocalSession", "NoWatcher",
             "RequestTimeout", "ReconfigDisabled", "SessionClosedRequireSasl",
             "QuotaExceeded", "ThrottledOp", "ReconfigInProgress", "NewConfigNoQuorum",
             "UnknownSession"]
    codes = set()
    for name in names:
        cls = getattr(pykeeper, name + "Exception")
        assert issubclass(cls, pykeeper.ZooKeeperException)
        assert cls in pykeeper.ALL_EXCEPTIONS
        assert isinstance(cls.code, int) and cls.code < 0
        codes.add(cls.code)
    assert len(codes) == len(names)
    assert issubclass(pykeeper.TimeoutException, pykeeper.ZooKeeperException)
    assert issubclass(pykeeper.ZooKeeperException, Exception)


def test_no_node(client, base):
    for call, path in ((lambda p: client.get(p), base + "/a"),
                       (lambda p: client.set(p, b""), base + "/b"),
                       (lambda p: client.delete(p), base + "/c"),
                       (lambda p: client.get_children(p), base + "/d"),
                       (lambda p: client.get_acl(p), base + "/e"),
                       (lambda p: client.create(p + "/child"), base + "/f")):
        with pytest.raises(pykeeper.NoNodeException) as info:
            call(path)
        expected = path + "/child" if path.endswith("/f") else path
        check(info, pykeeper.NoNodeException, -101, expected)


def test_node_exists(client, base):
    with pytest.raises(pykeeper.NodeExistsException) as info:
        client.create(base)
    check(info, pykeeper.NodeExistsException, -110, base)


def test_not_empty(client, base):
    client.create(base + "/p")
    client.create(base + "/p/c")
    with pytest.raises(pykeeper.NotEmptyException) as info:
        client.delete(base + "/p")
    check(info, pykeeper.NotEmptyException, -111, base + "/p")


def test_bad_version(client, base):
    path = client.create(base + "/v")
    for call in (lambda: client.set(path, b"", 3), lambda: client.delete(path, 3),
                 lambda: client.set_acl(path, pykeeper.OPEN_ACL_UNSAFE, 3)):
        with pytest.raises(pykeeper.BadVersionException) as info:
            call()
        check(info, pykeeper.BadVersionException, -103, path)


def test_no_auth(client, base):
    path = client.create(base + "/ro", b"", pykeeper.READ_ACL_UNSAFE)
    with pytest.raises(pykeeper.NoAuthException) as info:
        client.set(path, b"x")
    check(info, pykeeper.NoAuthException, -102, path)
    # the server's own /zookeeper/config is read-only for everyone
    with pytest.raises(pykeeper.NoAuthException) as info:
        client.set("/zookeeper/config", b"x")
    check(info, pykeeper.NoAuthException, -102, "/zookeeper/config")


@pytest.mark.parametrize("acl_id", [
    Id("auth", ""),              # "the creator's credentials", but there are none
    Id("digest", "no-colon"),    # a digest id is user:base64(sha1)
    Id("ip", "not-an-address"),
    Id("nosuchscheme", "x"),
    Id("world", "someone"),      # world knows only "anyone"
], ids=["auth-without-credentials", "bad-digest", "bad-ip", "unknown-scheme", "bad-world"])
def test_invalid_acl(client, base, acl_id):
    path = base + "/acl"
    with pytest.raises(pykeeper.InvalidACLException) as info:
        client.create(path, b"", [ACL(Perms.ALL, acl_id)])
    check(info, pykeeper.InvalidACLException, -114, path)
    assert client.exists(path) is None
    client.create(path)
    with pytest.raises(pykeeper.InvalidACLException) as info:
        client.set_acl(path, [ACL(Perms.ALL, acl_id)])
    check(info, pykeeper.InvalidACLException, -114, path)
    assert client.get_acl(path)[0] == pykeeper.OPEN_ACL_UNSAFE


def test_no_children_for_ephemerals(client, base):
    eph = client.create(base + "/eph", ephemeral=True)
    for kwargs in ({}, {"ephemeral": True}, {"sequence": True}):
        with pytest.raises(pykeeper.NoChildrenForEphemeralsException) as info:
            client.create(eph + "/child", **kwargs)
        check(info, pykeeper.NoChildrenForEphemeralsException, -108, eph + "/child")


@pytest.mark.parametrize("path", ["/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
def test_bad_arguments_for_the_servers_own_nodes(client, path):
    # The server refuses to delete its special nodes with BadArguments.
    with pytest.raises(pykeeper.BadArgumentsException) as info:
        client.delete(path)
    check(info, pykeeper.BadArgumentsException, -8, path)
    assert client.exists(path) is not None


@pytest.fixture(scope="module")
def restricted_server():
    """A server without TTL nodes (extended types off) and with hard quotas enforced."""
    options = ["-Dzookeeper.extendedTypesEnabled=false", "-Dzookeeper.enforceQuota=true"]
    with ZooKeeperServer(java_options=options) as server:
        yield server


def test_unimplemented_ttl_nodes_when_the_server_disables_them(restricted_server):
    with pykeeper.ZooKeeper(restricted_server.hosts) as zk:
        with pytest.raises(pykeeper.UnimplementedException) as info:
            zk.create("/ttl", b"", ttl=1000)
        check(info, pykeeper.UnimplementedException, -6, "/ttl")
        assert zk.exists("/ttl") is None
        assert zk.create("/container", container=True) == "/container"  # still fine


def test_quota_exceeded_when_hard_quotas_are_enforced(restricted_server):
    with pykeeper.ZooKeeper(restricted_server.hosts) as zk:
        zk.create("/q")
        # what `setquota -N 3 /q` writes: at most 3 nodes in /q's subtree
        zk.create_recursive("/zookeeper/quota/q/zookeeper_limits",
                            b"count=-1,bytes=-1,countHardLimit=3,byteHardLimit=-1")
        zk.create("/zookeeper/quota/q/zookeeper_stats", b"count=1,bytes=0")
        zk.create("/q/a")
        zk.create("/q/b")
        with pytest.raises(pykeeper.QuotaExceededException) as info:
            zk.create("/q/c")
        check(info, pykeeper.QuotaExceededException, -125, "/q/c")
        assert sorted(zk.get_children("/q")) == ["a", "b"]


def test_auth_failed(client, zk_server):
    with pykeeper.ZooKeeper(zk_server.hosts) as zk:
        with pytest.raises(pykeeper.AuthFailedException) as info:
            zk.add_auth("nosuchscheme", "x")
        check(info, pykeeper.AuthFailedException, -115, None)
        with pytest.raises(pykeeper.AuthFailedException) as info:
            zk.get("/after")
        check(info, pykeeper.AuthFailedException, -115, "/after")
        assert zk.state == "auth_failed"
    assert client.state == "connected"  # another client is unaffected


def test_connection_loss_while_the_server_is_down(zk_fresh_server):
    with pykeeper.ZooKeeper(zk_fresh_server.hosts, connect_timeout=2.0) as zk:
        zk.create("/kept", b"k")
        lost = Recorder()
        zk.add_listener(lambda state: state == "connecting" and lost(state))
        zk_fresh_server.stop()
        assert lost.wait_for(1)
        for call, path in ((lambda: zk.get("/kept"), "/kept"),
                           (lambda: zk.exists("/x"), "/x"),
                           (lambda: zk.create("/new"), "/new"),
                           (lambda: zk.set("/kept", b""), "/kept"),
                           (lambda: zk.delete("/kept"), "/kept"),
                           (lambda: zk.get_children("/"), "/")):
            with pytest.raises(pykeeper.ConnectionLossException) as info:
                call()
            error = info.value
            assert type(error) is pykeeper.ConnectionLossException
            assert error.code == -4 and error.path == path
        zk_fresh_server.start()
        zk.wait_until_connected(15)
        assert zk.get("/kept")[0] == b"k"  # nothing was written while down


def test_connection_loss_of_a_call_in_flight(zk_proxy):
    # The proxy lets the request out but no reply back: the client gives up
    # on the silent connection after 2/3 of the session timeout.
    with pykeeper.ZooKeeper(zk_proxy.hosts, session_timeout=1.5) as zk:
        zk.exists("/")
        zk_proxy.blackhole()
        started = time.monotonic()
        with pytest.raises(pykeeper.ConnectionLossException) as info:
            zk.get("/in-flight")
        assert time.monotonic() - started < 5
        check(info, pykeeper.ConnectionLossException, -4, "/in-flight")
        zk_proxy.heal()
        zk.wait_until_connected(15)
        assert zk.exists("/") is not None


def expire(victim, observer, proxy, path):
    """Cut `victim` off (through `proxy`) until the server expires its
    session: seen by `observer` as the deletion of the victim's ephemeral
    node `path`. Then let it reach the server again."""
    victim.create(path, ephemeral=True)
    deleted = Recorder()
    assert observer.exists(path, watcher=deleted) is not None
    proxy.blackhole()
    try:
        assert deleted.wait_for(1, timeout=20), "the server did not expire the session"
        assert deleted.calls[0].type == pykeeper.EventType.DELETED
    finally:
        proxy.heal()


def test_session_expired_without_reconnect(zk_proxy, client, base):
    zk = pykeeper.ZooKeeper(zk_proxy.hosts, reconnect=False, session_timeout=1.0)
    zk.connect()
    try:
        states = Recorder()
        zk.add_listener(states)
        watcher = Recorder()
        zk.get(base, watcher=watcher)
        expire(zk, client, zk_proxy, base + "/eph")
        assert states.wait_until(lambda calls: State.EXPIRED_SESSION in calls)
        assert zk.state == "expired_session" and zk.state_name == "expired_session"
        # the watcher armed in the dead session is told
        assert watcher.wait_for(1)
        assert watcher.calls == [pykeeper.WatchedEvent(
            pykeeper.EventType.NONE, pykeeper.KeeperState.EXPIRED, None)]
        with pytest.raises(pykeeper.SessionExpiredException) as info:
            zk.get(base)
        check(info, pykeeper.SessionExpiredException, -112, base)
        with pytest.raises(pykeeper.SessionExpiredException) as info:
            zk.create(base + "/x")
        check(info, pykeeper.SessionExpiredException, -112, base + "/x")
        with pytest.raises(pykeeper.SessionExpiredException):
            zk.wait_until_connected(1)
        assert zk.client_id is None
    finally:
        zk.close()
    assert zk.state == "closed"


def test_session_expired_with_reconnect_makes_a_new_session(zk_proxy, client, base):
    with pykeeper.ZooKeeper(zk_proxy.hosts, session_timeout=1.0) as zk:
        old = zk.session_id
        states = Recorder()
        zk.add_listener(states)
        expire(zk, client, zk_proxy, base + "/eph")
        assert states.wait_until(
            lambda calls: State.EXPIRED_SESSION in calls
            and State.CONNECTED in calls[calls.index(State.EXPIRED_SESSION):])
        zk.wait_until_connected(WAIT)
        assert zk.session_id not in (None, old)
        assert zk.exists(base + "/eph") is None  # the old session's node is gone
        assert zk.create(base + "/eph2", ephemeral=True) == base + "/eph2"
