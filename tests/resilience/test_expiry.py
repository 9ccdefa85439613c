"""An outage longer than the session timeout: the session expires, a new
one is made, listeners are told, and the client is usable again."""

from __future__ import annotations

from typing import Any, Callable

import threading

import pytest

import pykeeper
from pykeeper.testing import FaultProxy, ZooKeeperServer

from ..support import WAIT


def _expire(proxy: FaultProxy, client: Any) -> None:
    """Cut `client` off (through `proxy`) until the server expires its session."""
    watcher_client = pykeeper.ZooKeeper(proxy.target[0] + ":" + str(proxy.target[1]))
    watcher_client.connect()
    try:
        gone = threading.Event()
        session = client.session_id
        proxy.refuse()
        # The server expires the session after its timeout; seeing the
        # ephemeral node vanish from another client is the proof.
        def on_delete(event: Any) -> None:
            if event.type_name == "deleted":
                gone.set()
        if watcher_client.exists("/exp-eph", watcher=on_delete) is None:
            gone.set()
        assert gone.wait(WAIT), f"session 0x{session:x} did not expire"
    finally:
        watcher_client.close()
    proxy.heal()


def test_expired_session_is_replaced(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_proxy.hosts, session_timeout=1.0)
    old_session = client.session_id
    client.create("/exp-eph", b"", ephemeral=True)
    expired_watch = threading.Event()
    client.exists("/exp-eph", watcher=lambda e: expired_watch.set())
    mark = client.log.mark()
    _expire(zk_proxy, client)
    index = client.log.wait_for("expired_session", mark)
    client.log.wait_for("connected", index)
    client.wait_until_connected(WAIT)
    assert client.session_id not in (None, old_session)
    assert client.exists("/exp-eph") is None
    # Watchers of the dead session are told (once) that it expired.
    assert expired_watch.wait(WAIT)
    client.create("/exp-new", b"ok", ephemeral=True)
    assert client.get("/exp-new")[0] == b"ok"


def test_expiry_without_reconnect_stops_the_client(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_proxy.hosts, reconnect=False, session_timeout=1.0)
    client.create("/exp-eph", b"", ephemeral=True)
    mark = client.log.mark()
    _expire(zk_proxy, client)
    client.log.wait_for("expired_session", mark)
    with pytest.raises(pykeeper.SessionExpiredException):
        client.get("/")
    with pytest.raises(pykeeper.SessionExpiredException):
        client.wait_until_connected(1.0)
    assert client.state_name == "expired_session"


def test_a_server_that_lost_its_data_gets_a_new_session(
        zk_fresh_server: ZooKeeperServer, make_any_client: Callable[..., Any]) -> None:
    """The server comes back empty (its data lost): it refuses to resume a
    session from a client that has seen later transactions than it has.
    Once cut off for longer than the session timeout, the client gives the
    session up (expired_session) and makes a new one, instead of knocking
    forever."""
    import os
    import shutil

    client = make_any_client(zk_fresh_server.hosts, session_timeout=2.0)
    for i in range(20):  # (transactions the new server will not have seen)
        client.create(f"/n{i}", b"x")
    old_session = client.session_id
    watched = threading.Event()
    client.exists("/n0", watcher=lambda event: watched.set())
    mark = client.log.mark()
    zk_fresh_server.stop()
    shutil.rmtree(os.path.join(zk_fresh_server.data_dir, "version-2"))
    zk_fresh_server.start()
    index = client.log.wait_for("expired_session", mark)
    client.log.wait_for("connected", index)
    client.wait_until_connected(WAIT)
    assert client.session_id != old_session
    assert watched.wait(WAIT)  # (its watchers were told the session ended)
    assert client.exists("/n0") is None  # the empty server's view
    client.create("/after", b"ok")
    assert client.get("/after")[0] == b"ok"
