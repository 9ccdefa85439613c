"""An outage longer than the session timeout: the session expires, a new
one is made, listeners are told, and the client is usable again."""

from __future__ import annotations

import threading

import pytest

import pykeeper

from .conftest import WAIT


def _expire(proxy, client) -> None:
    """Cut `client` off (through `proxy`) until the server expires its session."""
    watcher_client = pykeeper.ZooKeeper(proxy.target[0] + ":" + str(proxy.target[1]))
    watcher_client.connect()
    try:
        gone = threading.Event()
        session = client.session_id
        proxy.refuse()
        # The server expires the session after its timeout; seeing the
        # ephemeral node vanish from another client is the proof.
        def on_delete(event) -> None:
            if event.type_name == "deleted":
                gone.set()
        if watcher_client.exists("/exp-eph", watcher=on_delete) is None:
            gone.set()
        assert gone.wait(WAIT), f"session 0x{session:x} did not expire"
    finally:
        watcher_client.close()
    proxy.heal()


def test_expired_session_is_replaced(zk_proxy, make_any_client) -> None:
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


def test_expiry_without_reconnect_stops_the_client(zk_proxy, make_any_client) -> None:
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
