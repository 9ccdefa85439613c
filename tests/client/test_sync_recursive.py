"""create_recursive and delete_recursive against a real server."""

from __future__ import annotations

import threading

import pytest

import pykeeper

from ..support import WAIT


# -- create_recursive -----------------------------------------------------------


def test_create_recursive_puts_data_only_at_the_leaf(client, base):
    leaf = base + "/a/b/c/d"
    assert client.create_recursive(leaf, b"leaf data") == leaf
    assert client.get(leaf)[0] == b"leaf data"
    for parent in (base + "/a", base + "/a/b", base + "/a/b/c"):
        data, stat = client.get(parent)
        assert data == b"" and stat.numChildren == 1
        assert not client.is_ephemeral(parent)
    assert client.create_recursive(base + "/a/b/x", "str data") == base + "/a/b/x"
    assert client.get(base + "/a/b/x")[0] == b"str data"
    assert sorted(client.get_children(base + "/a/b")) == ["c", "x"]


def test_create_recursive_with_existing_parents_and_a_direct_child(client, base):
    client.create(base + "/p")
    client.create(base + "/p/q", b"keep")
    assert client.create_recursive(base + "/p/q/r", b"r") == base + "/p/q/r"
    assert client.get(base + "/p/q")[0] == b"keep"  # existing parents untouched
    assert client.create_recursive(base + "/direct", b"d") == base + "/direct"
    assert client.get(base + "/direct")[0] == b"d"


def test_create_recursive_of_an_existing_leaf_raises_node_exists(client, base):
    client.create_recursive(base + "/x/y", b"first")
    with pytest.raises(pykeeper.NodeExistsException) as info:
        client.create_recursive(base + "/x/y", b"second")
    assert info.value.code == -110 and info.value.path == base + "/x/y"
    assert client.get(base + "/x/y")[0] == b"first"


def test_create_recursive_with_acl(client, base):
    # The ACL applies to the parents it creates too (as in the original and
    # in kazoo), so it must grant CREATE for the deeper levels to be made
    # (and DELETE, for the clean-up).
    acl = [pykeeper.ACL(pykeeper.Perms.READ | pykeeper.Perms.CREATE | pykeeper.Perms.DELETE,
                        pykeeper.Id("world", "anyone"))]
    leaf = client.create_recursive(base + "/acl/mid/leaf", b"l", acl)
    for path in (leaf, base + "/acl/mid", base + "/acl"):
        assert client.get_acl(path)[0] == acl
    with pytest.raises(pykeeper.NoAuthException):
        client.set(base + "/acl/mid", b"no WRITE permission")
    assert client.get(leaf)[0] == b"l"


def test_create_recursive_from_eight_threads_at_once(client, base, make_client):
    # 8 threads, each on its own client and on the shared one, create deep
    # paths sharing their prefixes, all released at the same moment.
    clients = [make_client() for _ in range(4)] + [client] * 4
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def work(index):
        zk = clients[index]
        try:
            barrier.wait(WAIT)
            for depth in range(3):
                path = f"{base}/shared/deep/er/{depth}/t{index}/leaf"
                results[(index, depth)] = zk.create_recursive(path, f"{index}-{depth}")
        except Exception as exc:  # reported below
            errors.append((index, exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 3)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(results) == 24
    for (index, depth), path in results.items():
        assert path == f"{base}/shared/deep/er/{depth}/t{index}/leaf"
        assert client.get(path)[0] == f"{index}-{depth}".encode()
    for depth in range(3):
        assert sorted(client.get_children(f"{base}/shared/deep/er/{depth}")) == \
            sorted(f"t{i}" for i in range(8))
    assert client.get(base + "/shared/deep/er")[0] == b""


# -- delete_recursive -----------------------------------------------------------


def make_tree(client, root):
    paths = [root, root + "/a", root + "/a/b", root + "/a/b/c", root + "/a/d", root + "/e"]
    for path in paths:
        client.create(path, path.encode())
    return paths


def test_delete_recursive_removes_the_tree_deepest_first(client, base):
    root = base + "/tree"
    paths = make_tree(client, root)
    removed = client.delete_recursive(root)
    assert sorted(removed) == sorted(paths)
    # every node comes after all of its descendants
    for i, path in enumerate(removed):
        assert not any(p.startswith(path + "/") for p in removed[i + 1:])
    assert removed[-1] == root
    assert client.exists(root) is None
    assert client.get_children(base) == []


def test_delete_recursive_of_a_leaf_and_of_nothing(client, base):
    leaf = client.create(base + "/leaf")
    assert client.delete_recursive(leaf) == [leaf]
    assert client.delete_recursive(base + "/never-was") == []


def test_delete_recursive_dry_run_deletes_nothing(client, base):
    root = base + "/tree"
    paths = make_tree(client, root)
    would = client.delete_recursive(root, dry_run=True)
    assert sorted(would) == sorted(paths)
    for path in paths:
        assert client.get(path)[0] == path.encode()
    assert client.delete_recursive(root) == would  # the same, in the same order


def test_delete_recursive_keeps_ephemeral_nodes_and_their_ancestors(client, base, make_client):
    owner = make_client()
    root = base + "/r"
    for path in (root, root + "/keep", root + "/keep/deeper", root + "/go", root + "/go/x"):
        client.create(path)
    eph = owner.create(root + "/keep/deeper/eph", ephemeral=True)

    dry = client.delete_recursive(root, dry_run=True)
    removed = client.delete_recursive(root)
    assert removed == dry
    assert sorted(removed) == sorted([root + "/go/x", root + "/go"])
    for path in (root, root + "/keep", root + "/keep/deeper", eph):
        assert client.exists(path) is not None
    assert client.exists(root + "/go") is None

    removed = client.delete_recursive(root, force=True)
    assert removed == [eph, root + "/keep/deeper", root + "/keep", root]
    assert client.exists(root) is None


def test_delete_recursive_of_an_ephemeral_node_itself(client, base):
    eph = client.create(base + "/eph", ephemeral=True)
    assert client.delete_recursive(eph) == []
    assert client.exists(eph) is not None
    assert client.delete_recursive(eph, dry_run=True, force=True) == [eph]
    assert client.exists(eph) is not None
    assert client.delete_recursive(eph, force=True) == [eph]
    assert client.exists(eph) is None


def test_delete_recursive_handles_children_added_while_it_deletes(client, base, make_client):
    # Another client's watcher adds a new child each time one is deleted,
    # so the children listed at the start are never the whole story.
    adder = make_client()
    root = client.create(base + "/busy")
    for i in range(30):
        client.create(f"{root}/initial-{i}")
    created, done = [], threading.Event()
    budget = [40]

    def on_child(event):
        if event.type != pykeeper.EventType.CHILD or budget[0] <= 0:
            done.set()
            return
        budget[0] -= 1
        try:
            created.append(adder.create(root + "/late-", b"", sequence=True))
            adder.get_children(root, watcher=on_child)
        except pykeeper.NoNodeException:
            done.set()  # the parent is gone: deletion finished first

    adder.get_children(root, watcher=on_child)
    removed = client.delete_recursive(root)

    assert client.exists(root) is None
    assert created, "no child was added during the deletion"
    assert done.wait(WAIT)
    # every child the other client managed to add was deleted by us
    assert set(created) <= set(removed)
    assert set(f"{root}/initial-{i}" for i in range(30)) <= set(removed)
    assert removed[-1] == root
    assert len(removed) == len(set(removed)) == 30 + len(created) + 1


def test_delete_recursive_of_the_root_keeps_the_servers_nodes(zk_fresh_server):
    with pykeeper.ZooKeeper(zk_fresh_server.hosts) as zk:
        zk.create_recursive("/a/b/c")
        zk.create("/d")
        removed = zk.delete_recursive("/")
        assert sorted(removed) == ["/a", "/a/b", "/a/b/c", "/d"]
        assert zk.get_children("/") == ["zookeeper"]
