"""The node API of the synchronous client against a real server: get,
get_children, exists, create (all modes), create2, set/set2, delete, ACLs,
sync, get_ephemerals, get_all_children_number, is_ephemeral, join, and the
log-stream switches."""

from __future__ import annotations

import logging
import re

import pytest

import pykeeper
from pykeeper import ACL, EventType, Id, Perms, Stat
from pykeeper.testing import ZooKeeperServer

from ..support import Recorder

SEQ = re.compile(r"\d{10}")


# -- get / exists / get_children ----------------------------------------------


def test_create_returns_the_path_and_get_returns_data_and_stat(client, base):
    path = base + "/node"
    assert client.create(path, b"hello") == path
    data, stat = client.get(path)
    assert data == b"hello"
    assert isinstance(stat, Stat)
    # the stat reads both ways: attributes and the original API's keys
    assert stat.version == 0 and stat["version"] == 0
    assert stat.dataLength == 5 and stat["dataLength"] == 5
    assert stat.numChildren == 0 and stat["numChildren"] == 0
    assert stat["ephemeralOwner"] == 0 and stat.ephemeralOwner == 0
    assert stat.czxid == stat.mzxid and stat["czxid"] == stat.czxid
    assert stat.ctime == stat.mtime > 0
    assert set(stat.keys()) >= {"version", "dataLength", "numChildren", "czxid", "mzxid"}
    assert stat.as_dict()["version"] == 0 and dict(stat.items())["dataLength"] == 5
    with pytest.raises(KeyError):
        stat["no_such_field"]

    client.create(path + "/child")
    _, parent = client.get(path)
    assert parent["numChildren"] == 1 and parent.numChildren == 1
    assert parent.cversion == 1 and parent.pzxid > stat.pzxid


@pytest.mark.parametrize("value, stored", [
    (b"bytes \x00\xff", b"bytes \x00\xff"),
    ("text \u00e9\u65e5", "text \u00e9\u65e5".encode("utf-8")),
    (bytearray(b"ba"), b"ba"),
    (memoryview(b"mv"), b"mv"),
    (b"", b""),
    (None, b""),
])
def test_data_types_are_stored_as_bytes(client, base, value, stored):
    client.create(base + "/n", value)
    assert client.get(base + "/n")[0] == stored
    client.set(base + "/n", value)
    data, stat = client.get(base + "/n")
    assert data == stored and stat.dataLength == len(stored)


def test_large_data_round_trips(client, base):
    data = bytes(range(256)) * 3900  # 998,400 bytes: under the server's 1 MiB limit
    client.create(base + "/big", data)
    got, stat = client.get(base + "/big")
    assert got == data and stat.dataLength == len(data)


def test_unicode_node_names(client, base):
    name = "\u00fcn\u00efc\u00f6de-\u65e5\u672c-\uf900"
    path = client.create(base + "/" + name, b"u")
    assert path == base + "/" + name
    assert client.get_children(base) == [name]
    assert client.get(path)[0] == b"u"


def test_get_of_a_missing_node_raises_no_node(client, base):
    with pytest.raises(pykeeper.NoNodeException) as info:
        client.get(base + "/missing")
    assert info.value.code == -101 and info.value.path == base + "/missing"


def test_exists_gives_a_stat_or_none(client, base):
    assert client.exists(base + "/missing") is None
    client.create(base + "/here", b"abc")
    stat = client.exists(base + "/here")
    assert isinstance(stat, Stat)
    assert stat == client.get(base + "/here")[1]
    assert stat["dataLength"] == 3
    assert client.exists("/") is not None


def test_get_children(client, base):
    assert client.get_children(base) == []
    names = {"a", "b", "c-1", "zz"}
    for name in names:
        client.create(base + "/" + name)
    client.create(base + "/a/grandchild")
    children = client.get_children(base)
    assert isinstance(children, list)
    assert sorted(children) == sorted(names)  # names only, direct children only

    children, stat = client.get_children(base, include_stat=True)
    assert sorted(children) == sorted(names)
    assert stat == client.exists(base)  # the parent's stat
    assert stat.numChildren == 4 and stat["numChildren"] == 4
    assert "zookeeper" in client.get_children("/")

    with pytest.raises(pykeeper.NoNodeException) as info:
        client.get_children(base + "/missing")
    assert info.value.path == base + "/missing"


# -- create ---------------------------------------------------------------------


def test_ephemeral_node_belongs_to_the_session(client, base, make_client):
    other = make_client()
    path = other.create(base + "/eph", b"e", ephemeral=True)
    assert path == base + "/eph"
    stat = client.exists(path)
    assert stat.ephemeralOwner == other.session_id
    assert other.is_ephemeral(path) is True
    assert client.is_ephemeral(path) is True
    gone = Recorder()
    client.exists(path, watcher=gone)
    other.close()
    assert gone.wait_for(1), "the ephemeral node outlived its session"
    assert gone.calls[0].type == EventType.DELETED
    assert client.exists(path) is None


def test_is_ephemeral(client, base):
    client.create(base + "/p")
    client.create(base + "/e", ephemeral=True)
    assert client.is_ephemeral(base + "/p") is False
    assert client.is_ephemeral(base + "/e") is True
    with pytest.raises(pykeeper.NoNodeException) as info:
        client.is_ephemeral(base + "/missing")
    assert info.value.path == base + "/missing"


def test_sequential_names_are_ten_digit_zero_padded(client, base):
    first = client.create(base + "/seq-", b"1", sequence=True)
    assert first == base + "/seq-0000000000"
    second = client.create(base + "/seq-", b"2", sequence=True)
    assert second == base + "/seq-0000000001"
    client.create(base + "/plain")  # bumps the parent's cversion: numbering follows it
    third = client.create(base + "/other-", sequence=True)
    assert third == base + "/other-0000000003"
    # a sequential create may end with "/": the name is the number alone
    bare = client.create(base + "/", sequence=True)
    assert bare == base + "/0000000004"
    assert SEQ.fullmatch(bare.rsplit("/", 1)[1])
    assert client.get(second)[0] == b"2"
    assert client.exists(first).ephemeralOwner == 0


def test_original_flags_ephemeral_sequence(client, base):
    path = client.create(base + "/es-", b"x", pykeeper.OPEN_ACL_UNSAFE,
                         pykeeper.EPHEMERAL | pykeeper.SEQUENCE)
    assert re.fullmatch(re.escape(base) + r"/es-\d{10}", path)
    assert client.exists(path).ephemeralOwner == client.session_id
    eph = client.create(base + "/e", b"", None, pykeeper.EPHEMERAL)
    assert eph == base + "/e" and client.is_ephemeral(eph)
    seq = client.create(base + "/s-", b"", None, pykeeper.SEQUENCE)
    assert SEQ.fullmatch(seq[-10:]) and not client.is_ephemeral(seq)
    assert pykeeper.EPHEMERAL == 1 and pykeeper.SEQUENCE == 2


def test_keyword_ephemeral_sequence(client, base):
    path = client.create(base + "/kw-", ephemeral=True, sequence=True)
    assert SEQ.fullmatch(path[-10:])
    assert client.exists(path).ephemeralOwner == client.session_id


def test_create_without_parent_raises_no_node(client, base):
    with pytest.raises(pykeeper.NoNodeException) as info:
        client.create(base + "/no/parent")
    assert info.value.path == base + "/no/parent"


def test_create_existing_raises_node_exists(client, base):
    client.create(base + "/dup", b"first")
    with pytest.raises(pykeeper.NodeExistsException) as info:
        client.create(base + "/dup", b"second")
    assert info.value.code == -110 and info.value.path == base + "/dup"
    assert client.get(base + "/dup")[0] == b"first"


def test_create_with_acl(client, base):
    path = client.create(base + "/ro", b"r", pykeeper.READ_ACL_UNSAFE)
    acl, stat = client.get_acl(path)
    assert acl == [ACL(Perms.READ, Id("world", "anyone"))]
    assert client.get(path)[0] == b"r"
    with pytest.raises(pykeeper.NoAuthException) as info:
        client.set(path, b"w")
    assert info.value.code == -102 and info.value.path == path
    with pytest.raises(pykeeper.NoAuthException):
        client.create(path + "/child")
    # the original API's dict entries work too
    path2 = client.create(base + "/dict", b"", acl=[{"perms": Perms.READ | Perms.WRITE,
                                                     "scheme": "world", "id": "anyone"}])
    assert client.get_acl(path2)[0] == [ACL(Perms.READ | Perms.WRITE, Id("world", "anyone"))]
    client.set(path2, b"ok")


def test_create2_returns_path_and_stat(client, base):
    path, stat = client.create2(base + "/c2", b"abcd")
    assert path == base + "/c2"
    assert isinstance(stat, Stat)
    assert stat == client.exists(path)
    assert stat.version == 0 and stat.dataLength == 4
    seq_path, seq_stat = client.create2(base + "/s-", b"", sequence=True, ephemeral=True)
    assert SEQ.fullmatch(seq_path[-10:])
    assert seq_stat.ephemeralOwner == client.session_id


def test_container_and_ttl_nodes_are_created(client, base):
    path, stat = client.create2(base + "/container", b"c", container=True)
    assert path == base + "/container" and client.get(path)[0] == b"c"
    client.create(path + "/child")  # containers take children
    ttl_path = client.create(base + "/ttl", b"t", ttl=60_000)
    assert client.get(ttl_path)[0] == b"t"
    ttl_seq = client.create(base + "/ttl-", ttl=60_000, sequence=True)
    assert SEQ.fullmatch(ttl_seq[-10:])
    # neither is an ephemeral node
    assert not client.is_ephemeral(path) and not client.is_ephemeral(ttl_path)


@pytest.fixture(scope="module")
def reaping_server():
    """A server whose container manager runs every 100 ms (default: 60 s),
    so that containers and TTL nodes are reaped within a test."""
    with ZooKeeperServer(java_options=["-Dznode.container.checkIntervalMs=100"]) as server:
        yield server


def test_container_is_removed_by_the_server_when_emptied(reaping_server):
    with pykeeper.ZooKeeper(reaping_server.hosts) as zk:
        zk.create("/container", container=True)
        zk.create("/plain")
        zk.create("/container/child")
        zk.create("/plain/child")
        gone = Recorder()
        zk.exists("/container", watcher=gone)
        zk.delete("/container/child")
        zk.delete("/plain/child")
        assert gone.wait_for(1), "the server did not remove the emptied container"
        assert gone.calls == [pykeeper.WatchedEvent(EventType.DELETED,
                                                    pykeeper.KeeperState.SYNC_CONNECTED,
                                                    "/container")]
        assert zk.exists("/plain") is not None  # an ordinary node stays


def test_ttl_node_is_removed_by_the_server_after_its_ttl(reaping_server):
    with pykeeper.ZooKeeper(reaping_server.hosts) as zk:
        zk.create("/ttl", b"", ttl=200)
        gone = Recorder()
        zk.exists("/ttl", watcher=gone)
        assert gone.wait_for(1), "the server did not remove the TTL node"
        assert gone.calls[0].type == EventType.DELETED and gone.calls[0].path == "/ttl"
        assert zk.exists("/ttl") is None


# -- set / delete -----------------------------------------------------------------


def test_set_returns_the_new_stat_and_checks_versions(client, base):
    path = client.create(base + "/v", b"0")
    stat = client.set(path, b"1")
    assert isinstance(stat, Stat) and stat.version == 1 and stat.dataLength == 1
    assert stat == client.exists(path)
    stat = client.set(path, b"22", version=1)
    assert stat.version == 2 and client.get(path) == (b"22", stat)
    with pytest.raises(pykeeper.BadVersionException) as info:
        client.set(path, b"x", version=1)
    assert info.value.code == -103 and info.value.path == path
    assert client.get(path)[0] == b"22"

    stat2 = client.set2(path, "three", 2)
    assert isinstance(stat2, Stat) and stat2.version == 3
    assert client.get(path) == (b"three", stat2)
    with pytest.raises(pykeeper.BadVersionException):
        client.set2(path, b"x", 0)

    with pytest.raises(pykeeper.NoNodeException) as info:
        client.set(base + "/missing", b"x")
    assert info.value.path == base + "/missing"


def test_delete_with_and_without_version(client, base):
    path = client.create(base + "/d")
    assert client.delete(path) is None
    assert client.exists(path) is None

    client.create(path)
    client.set(path, b"x")
    with pytest.raises(pykeeper.BadVersionException) as info:
        client.delete(path, 0)
    assert info.value.path == path
    assert client.exists(path) is not None
    client.delete(path, 1)
    assert client.exists(path) is None

    with pytest.raises(pykeeper.NoNodeException) as info:
        client.delete(path)
    assert info.value.path == path

    client.create(path)
    client.create(path + "/child")
    with pytest.raises(pykeeper.NotEmptyException) as info:
        client.delete(path)
    assert info.value.code == -111 and info.value.path == path


# -- ACLs ---------------------------------------------------------------------------


def test_get_acl_and_set_acl_in_both_argument_orders(client, base):
    path = client.create(base + "/acl")
    acl, stat = client.get_acl(path)
    assert acl == pykeeper.OPEN_ACL_UNSAFE
    assert acl == [pykeeper.ZOO_OPEN_ACL_UNSAFE]
    assert stat.aversion == 0 and stat == client.exists(path)

    read_write = [ACL(Perms.READ | Perms.WRITE | Perms.ADMIN, Id("world", "anyone"))]
    stat = client.set_acl(path, read_write, 0)          # (path, acl, version)
    assert isinstance(stat, Stat) and stat.aversion == 1
    assert client.get_acl(path) == (read_write, stat)

    everything = [ACL(Perms.ALL, Id("world", "anyone"))]
    stat = client.set_acl(path, 1, everything)          # the original (path, version, acl)
    assert stat.aversion == 2
    assert client.get_acl(path)[0] == everything

    stat = client.set_acl(path, read_write)             # any version
    assert stat.aversion == 3
    assert client.get_acl(path)[0] == read_write

    with pytest.raises(pykeeper.BadVersionException) as info:
        client.set_acl(path, everything, 0)
    assert info.value.path == path
    with pytest.raises(pykeeper.BadVersionException):
        client.set_acl(path, 0, everything)
    assert client.get_acl(path)[0] == read_write

    with pytest.raises(pykeeper.NoNodeException) as info:
        client.get_acl(base + "/missing")
    assert info.value.path == base + "/missing"
    with pytest.raises(pykeeper.NoNodeException):
        client.set_acl(base + "/missing", everything)


def test_set_acl_takes_effect(client, base):
    path = client.create(base + "/acl2", b"x")
    client.set_acl(path, pykeeper.READ_ACL_UNSAFE)
    with pytest.raises(pykeeper.NoAuthException):
        client.set(path, b"y")
    assert client.get(path)[0] == b"x"
    with pytest.raises(pykeeper.NoAuthException):
        client.set_acl(path, pykeeper.OPEN_ACL_UNSAFE)  # no ADMIN permission left


# -- sync, get_ephemerals, get_all_children_number ------------------------------------


def test_sync_returns_the_path(client, base, make_client):
    writer = make_client()
    writer.create(base + "/synced", b"v")
    assert client.sync(base) == base
    assert client.sync() == "/"
    assert client.get(base + "/synced")[0] == b"v"


def test_get_ephemerals_lists_this_sessions_ephemerals(client, base, make_client):
    other = make_client()
    mine = [client.create(base + "/a/e1", ephemeral=True) if client.create(base + "/a")
            else None,
            client.create(base + "/b-", ephemeral=True, sequence=True)]
    theirs = other.create(base + "/theirs", ephemeral=True)
    client.create(base + "/persistent")
    assert sorted(client.get_ephemerals(base)) == sorted(mine)
    assert sorted(client.get_ephemerals(base + "/a")) == [base + "/a/e1"]
    assert set(mine) <= set(client.get_ephemerals())
    assert theirs not in client.get_ephemerals()
    assert other.get_ephemerals(base) == [theirs]
    assert client.get_ephemerals(base + "/nothing-here") == []


def test_get_all_children_number_counts_every_descendant(client, base):
    assert client.get_all_children_number(base) == 0
    for path in ("/a", "/a/b", "/a/b/c", "/a/d", "/e"):
        client.create(base + path)
    assert client.get_all_children_number(base) == 5
    assert client.get_all_children_number(base + "/a") == 3
    assert client.get_all_children_number(base + "/a/b/c") == 0
    with pytest.raises(pykeeper.NoNodeException) as info:
        client.get_all_children_number(base + "/missing")
    assert info.value.path == base + "/missing"


# -- join, log stream ----------------------------------------------------------------


def test_join(client, base):
    assert pykeeper.join("/a/", "b", "/c") == "/a/b/c"
    assert pykeeper.join("a", "b") == "/a/b"
    assert pykeeper.join("/") == "/"
    assert pykeeper.join() == "/"
    assert pykeeper.join("/a", "", "b/") == "/a/b"
    path = client.create(pykeeper.join(base, "joined"))
    assert path == base + "/joined"
    assert client.exists(pykeeper.join(base, "/joined/")) is not None


def test_install_and_uninstall_log_stream(capsys, caplog):
    logger = logging.getLogger("zookeeper")
    try:
        pykeeper.uninstall_log_stream()
        pykeeper.uninstall_log_stream()  # idempotent: one handler
        assert logger.propagate is False
        with caplog.at_level(logging.INFO, logger="zookeeper"):
            logger.warning("straight to stderr")
            logger.info("below the stream's level")
        err = capsys.readouterr().err
        assert err.count("straight to stderr") == 1
        assert "below the stream's level" not in err
        assert "straight to stderr" not in caplog.text  # not through logging

        pykeeper.install_log_stream()
        assert logger.propagate is True
        with caplog.at_level(logging.INFO, logger="zookeeper"):
            logger.warning("through logging again")
        assert "through logging again" in caplog.text
        assert "through logging again" not in capsys.readouterr().err
    finally:
        pykeeper.install_log_stream()
