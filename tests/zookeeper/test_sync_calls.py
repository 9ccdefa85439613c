"""The synchronous calls against a real server, with the binding's return
shapes: create -> path, delete/set/set_acl -> OK, exists -> stat dict or
None, get -> (str data, stat dict), get_children -> names, get_acl ->
(stat, acl dicts); its exceptions; data as str, bytes on a binary handle;
bad arguments refused before anything is sent."""

from __future__ import annotations

from typing import Any, Callable, Tuple

import pytest

import pykeeper
from pykeeper import zookeeper

from ..support import Recorder
from .conftest import OPEN_ACL

STAT_KEYS = ["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
             "ephemeralOwner", "dataLength", "numChildren", "pzxid"]
READ_ACL = [{"perms": zookeeper.PERM_READ | zookeeper.PERM_ADMIN, "scheme": "world",
             "id": "anyone"}]


def test_create_get_set_delete_round_trip(zh: int, base: str) -> None:
    path = base + "/node"
    assert zookeeper.create(zh, path, "on", OPEN_ACL) == path
    value, stat = zookeeper.get(zh, path)
    assert value == "on" and type(value) is str
    assert list(stat) == STAT_KEYS and all(type(v) is int for v in stat.values())
    assert stat["version"] == 0 and stat["dataLength"] == 2 and stat["ephemeralOwner"] == 0
    assert zookeeper.set(zh, path, "off", stat["version"]) == zookeeper.OK
    stat2 = zookeeper.set2(zh, path, "set2", 1)
    assert stat2["version"] == 2 and stat2["numChildren"] == 0 and list(stat2) == STAT_KEYS
    assert zookeeper.get(zh, path)[0] == "set2"
    assert zookeeper.exists(zh, path) == zookeeper.get(zh, path)[1]
    assert zookeeper.delete(zh, path) == zookeeper.OK
    assert zookeeper.exists(zh, path) is None


def test_flags_make_ephemeral_and_sequential_nodes(zh: int, base: str) -> None:
    ephemeral = zookeeper.create(zh, base + "/e", "", OPEN_ACL, zookeeper.EPHEMERAL)
    assert zookeeper.exists(zh, ephemeral)["ephemeralOwner"] == zookeeper.client_id(zh)[0]
    first = zookeeper.create(zh, base + "/s-", "", OPEN_ACL, zookeeper.SEQUENCE)
    second = zookeeper.create(zh, base + "/s-", "", OPEN_ACL,
                              zookeeper.SEQUENCE | zookeeper.EPHEMERAL)
    assert first == base + "/s-0000000001" and second == base + "/s-0000000002"
    assert zookeeper.exists(zh, second)["ephemeralOwner"] != 0
    container = zookeeper.create(zh, base + "/c", "", OPEN_ACL, zookeeper.CONTAINER)
    assert zookeeper.exists(zh, container)["ephemeralOwner"] == 0


def test_the_servers_refusals_are_the_binding_exceptions(zh: int, base: str) -> None:
    path = base + "/x"
    zookeeper.create(zh, path, "", OPEN_ACL, zookeeper.EPHEMERAL)
    with pytest.raises(zookeeper.NodeExistsException):
        zookeeper.create(zh, path, "", OPEN_ACL)
    with pytest.raises(zookeeper.NoChildrenForEphemeralsException):
        zookeeper.create(zh, path + "/child", "", OPEN_ACL)
    with pytest.raises(zookeeper.NoNodeException):
        zookeeper.create(zh, base + "/no/parent", "", OPEN_ACL)
    with pytest.raises(zookeeper.NoNodeException):
        zookeeper.get(zh, base + "/missing")
    with pytest.raises(zookeeper.NoNodeException):
        zookeeper.get_children(zh, base + "/missing")
    with pytest.raises(zookeeper.NoNodeException):
        zookeeper.delete(zh, base + "/missing")
    with pytest.raises(zookeeper.BadVersionException):
        zookeeper.set(zh, path, "v", 7)
    with pytest.raises(zookeeper.BadVersionException):
        zookeeper.delete(zh, path, 7)
    with pytest.raises(zookeeper.NotEmptyException):
        zookeeper.delete(zh, base)
    with pytest.raises(zookeeper.InvalidACLException):
        zookeeper.create(zh, base + "/empty-acl", "", [])
    assert zookeeper.exists(zh, base + "/empty-acl") is None


def test_children_and_children2(zh: int, base: str) -> None:
    for name in ("a", "b", "c"):
        zookeeper.create(zh, f"{base}/{name}", "", OPEN_ACL)
    assert sorted(zookeeper.get_children(zh, base)) == ["a", "b", "c"]
    names, stat = zookeeper.get_children2(zh, base)
    assert sorted(names) == ["a", "b", "c"] and stat["numChildren"] == 3
    assert list(stat) == STAT_KEYS


def test_acls_read_and_written_as_dicts(zh: int, base: str) -> None:
    path = zookeeper.create(zh, base + "/acl", "", OPEN_ACL)
    stat, acls = zookeeper.get_acl(zh, path)
    assert acls == OPEN_ACL and type(acls[0]["perms"]) is int
    assert stat["aversion"] == 0
    assert zookeeper.set_acl(zh, path, 0, READ_ACL) == zookeeper.OK
    stat, acls = zookeeper.get_acl(zh, path)
    assert acls == READ_ACL and stat["aversion"] == 1
    with pytest.raises(zookeeper.NoAuthException):
        zookeeper.set(zh, path, "denied")
    with pytest.raises(zookeeper.BadVersionException):
        zookeeper.set_acl(zh, path, 0, OPEN_ACL)


@pytest.mark.parametrize("acl, what", [
    (OPEN_ACL[0], "a list"), (None, "a list"), ([("world", "anyone")], "not a dict"),
    ([{"schema": "digest", "id": "zebra"}], "has no perms, scheme"),
    ([{"perms": "all", "scheme": "world", "id": "anyone"}], "perms must be an int"),
    ([{"perms": 31, "scheme": b"world", "id": "anyone"}], "must be str"),
])
def test_a_malformed_acl_is_invalid_acl_before_sending(zh: int, base: str, acl: Any,
                                                      what: str) -> None:
    with pytest.raises(zookeeper.InvalidACLException, match=what):
        zookeeper.create(zh, base + "/bad-acl", "", acl)
    with pytest.raises(zookeeper.InvalidACLException, match=what):
        zookeeper.set_acl(zh, base, -1, acl)
    assert zookeeper.exists(zh, base + "/bad-acl") is None


@pytest.mark.parametrize("call, error, what", [
    (lambda zh, base: zookeeper.create(zh, base + "/f", "", OPEN_ACL, -1),
     zookeeper.BadArgumentsException, "flags"),
    (lambda zh, base: zookeeper.create(zh, base + "/f", "", OPEN_ACL, 8),
     zookeeper.BadArgumentsException, "flags"),
    (lambda zh, base: zookeeper.create(zh, "relative", "", OPEN_ACL),
     zookeeper.BadArgumentsException, "absolute"),
    (lambda zh, base: zookeeper.get(zh, base + "/"), zookeeper.BadArgumentsException, "end"),
    (lambda zh, base: zookeeper.exists(zh, base + "//x"), zookeeper.BadArgumentsException,
     "empty segment"),
    (lambda zh, base: zookeeper.delete(zh, base, -2), zookeeper.BadArgumentsException,
     "version"),
    (lambda zh, base: zookeeper.set(zh, base, "x" * (1024 * 1024)),
     zookeeper.BadArgumentsException, "bytes"),
    (lambda zh, base: zookeeper.get(zh, base, None, -1), zookeeper.BadArgumentsException,
     "buffer_len"),
    (lambda zh, base: zookeeper.get(zh, base, "not callable"),
     zookeeper.InvalidCallbackException, "watcher must be callable"),
    (lambda zh, base: zookeeper.get(zh, b"/bytes"), TypeError, "path must be a str"),
    (lambda zh, base: zookeeper.set(zh, base, 42), TypeError, "bytes or str"),
    (lambda zh, base: zookeeper.set(zh, base, "x", "1"), TypeError, "version"),
    (lambda zh, base: zookeeper.create(zh, base + "/f", "", OPEN_ACL, "0"), TypeError, "flags"),
])
def test_bad_arguments_raise_before_anything_is_sent(zh: int, base: str, call: Callable[..., Any],
                                                    error: type, what: str) -> None:
    before = zookeeper.exists(zh, base)
    with pytest.raises(error, match=what):
        call(zh, base)
    after = zookeeper.exists(zh, base)
    assert after == before  # (nothing was written, nothing was created under base)


def test_data_goes_in_as_str_or_bytes_and_comes_out_as_str(zh: int, base: str) -> None:
    path = zookeeper.create(zh, base + "/d", "grüße", OPEN_ACL)
    assert zookeeper.get(zh, path)[0] == "grüße"
    zookeeper.set(zh, path, "bytes too".encode())
    assert zookeeper.get(zh, path)[0] == "bytes too"
    zookeeper.set(zh, path, "")
    assert zookeeper.get(zh, path)[0] == ""


def test_get_reads_at_most_buffer_len_bytes(zh: int, base: str) -> None:
    path = zookeeper.create(zh, base + "/big", "A" * 1024 * 1023, OPEN_ACL)
    assert len(zookeeper.get(zh, path)[0]) == 1024 * 1023
    value, stat = zookeeper.get(zh, path, None, 500)
    assert value == "A" * 500 and stat["dataLength"] == 1024 * 1023


def test_data_that_is_not_utf8_raises_unless_the_handle_is_binary(
        open_handle: Callable[..., Tuple[int, Recorder]], zh: int, base: str) -> None:
    path = zookeeper.create(zh, base + "/raw", b"\xff\x00\xfe", OPEN_ACL)
    with pytest.raises(UnicodeDecodeError, match="binary=True"):
        zookeeper.get(zh, path)
    binary, _ = open_handle(binary=True)
    value, stat = zookeeper.get(binary, path)
    assert value == b"\xff\x00\xfe" and stat["dataLength"] == 3
    assert zookeeper.get(binary, path, None, 1)[0] == b"\xff"


def test_node_data_written_by_pykeeper_reads_the_same(zk_server: Any, zh: int, base: str) -> None:
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        client.create(base + "/from-pykeeper", b"written by the client")
        data, stat = client.get(base)
    assert zookeeper.get(zh, base + "/from-pykeeper")[0] == "written by the client"
    assert zookeeper.exists(zh, base)["mzxid"] == stat.mzxid


def test_sync_returns_the_path(zh: int, base: str) -> None:
    assert zookeeper.sync(zh, base) == base


def test_a_chroot_in_the_hosts_string_roots_every_path(
        open_handle: Callable[..., Tuple[int, Recorder]], zk_server: Any, zh: int,
        base: str) -> None:
    rooted, _ = open_handle(zk_server.hosts + base)
    assert zookeeper.create(rooted, "/inside", "x", OPEN_ACL) == "/inside"
    assert zookeeper.get(zh, base + "/inside")[0] == "x"
    assert zookeeper.get_children(rooted, "/") == ["inside"]
