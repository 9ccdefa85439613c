"""A chroot in the host string: every path is under it, and it is stripped
from every path that comes back (results and watch events)."""

from __future__ import annotations

import threading
import uuid

import pykeeper


def test_chroot_applies_to_every_path(zk_server, client) -> None:
    root = "/chroot-" + uuid.uuid4().hex
    client.create(root)
    with pykeeper.ZooKeeper(zk_server.hosts + root) as jailed:
        assert jailed.create("/a", b"1") == "/a"
        assert client.get(root + "/a")[0] == b"1"
        assert jailed.get_children("/") == ["a"]
        assert jailed.create("/a/s-", b"", sequence=True) == "/a/s-0000000000"
        assert jailed.create_recursive("/b/c/d", b"deep") == "/b/c/d"
        assert client.get(root + "/b/c/d")[0] == b"deep"
        assert jailed.create("/e", b"", ephemeral=True) == "/e"
        assert jailed.get_ephemerals("/") == ["/e"]
        assert jailed.sync("/a") == "/a"
        assert jailed.transaction().create("/t", b"").set_data("/a", b"2").commit()[0] == "/t"

        events = []
        fired = threading.Event()

        def watcher(event: pykeeper.WatchedEvent) -> None:
            events.append((event.type_name, event.path))
            fired.set()

        jailed.get("/a", watcher=watcher)
        client.set(root + "/a", b"3")
        assert fired.wait(10)
        assert events == [("changed", "/a")]
        assert sorted(jailed.delete_recursive("/b")) == ["/b", "/b/c", "/b/c/d"]
    client.delete_recursive(root, force=True)
