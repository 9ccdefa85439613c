"""Bad input is refused with ValueError/TypeError *before anything is sent*.

Proof that nothing was sent: the server's own count of packets received on
the client's connection (the ``recved`` field of its ``cons`` line) does not
move across all the refused calls -- and the same count moves by exactly one
for one valid call, so the check can fail. The client uses a 30 s session
timeout and makes a call just before counting, so no ping (sent after 10 s
of silence) falls into the window.
"""

from __future__ import annotations

import pytest

import pykeeper

from ..support import packets_received

BAD_PATHS = [
    ("relative", "must be absolute"),
    ("a/b", "must be absolute"),
    ("", "must be absolute"),
    ("/trailing/", "must not end with '/'"),
    ("/a//b", "empty segment"),
    ("//a", "empty segment"),
    ("/a/./b", "relative segment '.'"),
    ("/a/../b", "relative segment '..'"),
    ("/..", "relative segment '..'"),
    ("/.", "relative segment '.'"),
    ("/nul\x00inside", "U\\+0000"),
    ("/tab\tinside", "U\\+0009"),
    ("/newline\n", "U\\+000A"),
    ("/del\x7f", "U\\+007F"),
    ("/c1\x85", "U\\+0085"),
    ("/c1\x9f", "U\\+009F"),
    ("/surrogate\ud800", "U\\+D800"),
    ("/private\ue000", "U\\+E000"),
    ("/private\uf8ff", "U\\+F8FF"),
    ("/special\ufff0", "U\\+FFF0"),
    ("/nonchar\uffff", "U\\+FFFF"),
    ("/astral\U0001F600", "U\\+1F600"),   # a surrogate pair on the (Java) server
]

# Every public call that takes a node path, as f(client, path).
PATH_CALLS = {
    "get": lambda zk, p: zk.get(p),
    "exists": lambda zk, p: zk.exists(p),
    "get_children": lambda zk, p: zk.get_children(p),
    "create": lambda zk, p: zk.create(p, b""),
    "create-ephemeral": lambda zk, p: zk.create(p, b"", ephemeral=True),
    "create2": lambda zk, p: zk.create2(p, b""),
    "set": lambda zk, p: zk.set(p, b""),
    "set2": lambda zk, p: zk.set2(p, b""),
    "delete": lambda zk, p: zk.delete(p),
    "get_acl": lambda zk, p: zk.get_acl(p),
    "set_acl": lambda zk, p: zk.set_acl(p, pykeeper.OPEN_ACL_UNSAFE),
    "sync": lambda zk, p: zk.sync(p),
    "get_ephemerals": lambda zk, p: zk.get_ephemerals(p),
    "get_all_children_number": lambda zk, p: zk.get_all_children_number(p),
    "is_ephemeral": lambda zk, p: zk.is_ephemeral(p),
    "create_recursive": lambda zk, p: zk.create_recursive(p, b""),
    "delete_recursive": lambda zk, p: zk.delete_recursive(p),
    "txn-create": lambda zk, p: zk.transaction().create(p),
    "txn-delete": lambda zk, p: zk.transaction().delete(p),
    "txn-set_data": lambda zk, p: zk.transaction().set_data(p, b""),
    "txn-check": lambda zk, p: zk.transaction().check(p, 0),
}


@pytest.fixture
def quiet(zk_server):
    """A client, and a check that the server received nothing from it."""
    zk = pykeeper.ZooKeeper(zk_server.hosts, session_timeout=30)
    zk.connect()

    class Quiet:
        client = zk

        def __enter__(self):
            zk.exists("/")  # the last packet before the window
            self.before = packets_received(zk_server, zk.session_id)
            return zk

        def __exit__(self, *exc):
            if exc[0] is not None:
                return False
            after = packets_received(zk_server, zk.session_id)
            assert after == self.before, f"{after - self.before} packets reached the server"
            # ...and the counter does see a packet that is sent
            zk.exists("/")
            assert packets_received(zk_server, zk.session_id) == self.before + 1
            return False

    try:
        yield Quiet()
    finally:
        zk.close()


def test_bad_paths_are_refused_before_sending(quiet):
    with quiet as zk:
        for path, message in BAD_PATHS:
            for name, call in PATH_CALLS.items():
                with pytest.raises(ValueError, match=message) as info:
                    call(zk, path)
                assert repr(path) in str(info.value), (name, path)


def test_sequential_create_may_end_with_a_slash_but_nothing_else_may(quiet):
    with quiet as zk:
        with pytest.raises(ValueError, match="must not end with '/'"):
            zk.create("/a/", b"")
        with pytest.raises(ValueError, match="must not end with '/'|empty segment"):
            zk.create("/a//", b"", sequence=True)


def test_non_str_paths_are_type_errors(quiet):
    with quiet as zk:
        for path in (b"/bytes", None, 42, ["/list"]):
            for name, call in PATH_CALLS.items():
                with pytest.raises(TypeError, match="must be a str"):
                    call(zk, path)


def test_root_cannot_be_created_or_deleted(quiet):
    with quiet as zk:
        for call in (lambda: zk.create("/"), lambda: zk.delete("/"),
                     lambda: zk.create2("/")):
            with pytest.raises(ValueError, match="root"):
                call()


def test_data_over_one_mib_is_refused(quiet):
    over = b"x" * (1024 * 1024 + 1)
    exactly = b"x" * (1024 * 1024)  # no room for the request around it
    with quiet as zk:
        for data in (over, over.decode(), bytearray(over), exactly):
            for call in (lambda d: zk.create("/big", d), lambda d: zk.set("/big", d),
                         lambda d: zk.create2("/big", d), lambda d: zk.set2("/big", d),
                         lambda d: zk.create_recursive("/big/deeper", d),
                         lambda d: zk.transaction().set_data("/big", d).commit(),
                         lambda d: zk.transaction().create("/big", d).commit()):
                with pytest.raises(ValueError, match="bytes") as info:
                    call(data)
                assert "1048576" in str(info.value) or "1048575" in str(info.value)


def test_multibyte_str_data_is_measured_encoded(quiet):
    text = "\u00e9" * (512 * 1024 + 1)  # 524,289 characters, 1,048,578 bytes
    with quiet as zk:
        with pytest.raises(ValueError):
            zk.set("/x", text)


@pytest.mark.parametrize("value", [12, 1.5, object(), ["a"], {"a": 1}, True],
                         ids=["int", "float", "object", "list", "dict", "bool"])
def test_data_that_is_not_bytes_or_str_is_a_type_error(quiet, value):
    with quiet as zk:
        for call in (lambda: zk.create("/x", value), lambda: zk.create2("/x", value),
                     lambda: zk.set("/x", value), lambda: zk.set2("/x", value),
                     lambda: zk.create_recursive("/x/y", value),
                     lambda: zk.transaction().set_data("/x", value),
                     lambda: zk.transaction().create("/x", value)):
            with pytest.raises(TypeError, match="bytes or str"):
                call()


def test_non_callable_watchers_are_type_errors(quiet):
    with quiet as zk:
        for watcher in ("string", 42, object()):
            for call in (lambda: zk.get("/", watcher=watcher),
                         lambda: zk.exists("/", watcher=watcher),
                         lambda: zk.get_children("/", watcher=watcher),
                         lambda: zk.get_children("/", watcher, True)):
                with pytest.raises(TypeError, match="watcher must be callable"):
                    call()


def test_bad_versions_flags_acls_and_ttls(quiet):
    with quiet as zk:
        for version in ("1", 1.0, None, True):
            with pytest.raises(TypeError, match="version"):
                zk.delete("/x", version)
            with pytest.raises(TypeError, match="version"):
                zk.set("/x", b"", version)
        for version in (-2, 2 ** 31):
            with pytest.raises(ValueError, match="version"):
                zk.delete("/x", version)
            with pytest.raises(ValueError, match="version"):
                zk.set_acl("/x", pykeeper.OPEN_ACL_UNSAFE, version)
        for flags in (4, -1, 8, "1", True, 1.0):
            with pytest.raises(ValueError, match="flags"):
                zk.create("/x", b"", None, flags)
        with pytest.raises(ValueError, match="ACL"):
            zk.create("/x", b"", [])
        for acl in (["world:anyone"], [("world", "anyone")], [{"perms": 31}]):
            with pytest.raises(TypeError, match="ACL"):
                zk.create("/x", b"", acl)
        for ttl in (0, -5, 2 ** 40, 1.5, True):
            with pytest.raises(ValueError, match="ttl"):
                zk.create("/x", b"", ttl=ttl)
        with pytest.raises(ValueError, match="TTL node cannot be ephemeral"):
            zk.create("/x", b"", ttl=100, ephemeral=True)
        with pytest.raises(ValueError, match="container"):
            zk.create("/x", b"", container=True, ephemeral=True)
        with pytest.raises(ValueError, match="container"):
            zk.create("/x", b"", container=True, sequence=True)


@pytest.mark.parametrize("hosts, message", [
    ("", "empty host"),
    ("127.0.0.1:2181,,127.0.0.1:2182", "empty host"),
    (":2181", "missing host"),
    ("127.0.0.1:port", "bad port"),
    ("127.0.0.1:0", "bad port"),
    ("127.0.0.1:65536", "bad port"),
    ("127.0.0.1:-1", "bad port"),
    ("::1:2181", "IPv6"),
    ("[::1", "unclosed"),
    ("[::1]x", "after"),
    ("127.0.0.1:2181/chroot/", "must not end with '/'"),
    ("127.0.0.1:2181/a//b", "empty segment"),
    ("127.0.0.1:2181/a/../b", "relative segment"),
])
def test_bad_host_strings_are_value_errors(hosts, message):
    with pytest.raises(ValueError, match=message):
        pykeeper.ZooKeeper(hosts)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError):
        pykeeper.ZooKeeper(["127.0.0.1:2181"])
    with pytest.raises(ValueError, match="session_timeout"):
        pykeeper.ZooKeeper("127.0.0.1:2181", session_timeout=0)


def test_good_host_strings_parse():
    zk = pykeeper.ZooKeeper(" 127.0.0.1:2181, [::1]:2182 ,localhost,[::1]/app/x ")
    assert [(a.host, a.port) for a in zk.addresses] == [
        ("127.0.0.1", 2181), ("::1", 2182), ("localhost", 2181), ("::1", 2181)]
    assert zk.chroot == "/app/x"
    assert pykeeper.ZooKeeper("127.0.0.1:2181/").chroot == ""
    # an empty port is the default one, as in the Java client's parser
    assert pykeeper.ZooKeeper("127.0.0.1:").addresses[0].port == 2181
