"""Reconnection within the session: server restarts, dropped and
black-holed connections, ensemble failover. Real servers only."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

import pykeeper
from pykeeper import RetryPolicy
from pykeeper.testing import FaultProxy, ZooKeeperEnsemble, ZooKeeperServer, wait_until

from ..support import WAIT


def test_restart_within_session_timeout_keeps_the_session(
        zk_fresh_server: ZooKeeperServer, make_any_client: Callable[..., Any],
        make_client: Callable[..., Any]) -> None:
    server = zk_fresh_server
    client = make_any_client(server.hosts, session_timeout=10.0)
    other = make_client(server.hosts)
    client.create("/eph", b"mine", ephemeral=True)
    client.create("/watched", b"v0")
    session = client.session_id
    fired = []
    got_event = threading.Event()

    def watcher(event: Any) -> None:
        fired.append(event)
        got_event.set()

    client.get("/watched", watcher=watcher)
    mark = client.log.mark()
    server.stop()
    client.log.wait_for("connecting", mark)

    # A retried call issued during the outage completes after it.
    outcome = {}

    def retried_read() -> None:
        try:
            outcome["value"] = client.retry(client.get, "/watched")
        except Exception as exc:  # recorded so the assertion below names it
            outcome["error"] = exc

    reader = threading.Thread(target=retried_read)
    reader.start()
    with pytest.raises(pykeeper.ConnectionLossException):
        client.get("/watched")
    server.start()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert "error" not in outcome, outcome
    assert outcome["value"][0] == b"v0"

    client.wait_until_connected(WAIT)
    assert client.session_id == session
    other.wait_until_connected(WAIT)
    assert other.exists("/eph").ephemeralOwner == session

    # The watch armed before the outage fires exactly once for a later change.
    other.set("/watched", b"v1")
    assert got_event.wait(WAIT)
    other.set("/watched", b"v2")
    barrier = threading.Event()
    client.exists("/watched", watcher=lambda e: barrier.set())
    other.set("/watched", b"v3")
    assert barrier.wait(WAIT)  # events arrive in order: a duplicate would be here by now
    assert [(e.type_name, e.path) for e in fired] == [("changed", "/watched")]


def test_dropped_connection_resumes_the_session(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_proxy.hosts, session_timeout=6.0)
    session = client.session_id
    mark = client.log.mark()
    assert zk_proxy.drop_all() >= 1
    index = client.log.wait_for("connecting", mark)
    client.log.wait_for("connected", index)
    assert client.session_id == session
    assert client.exists("/") is not None


def test_black_hole_is_detected_by_read_timeout(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_proxy.hosts, session_timeout=6.0)
    session = client.session_id
    mark = client.log.mark()
    zk_proxy.blackhole()
    # Missed ping replies, not TCP, end the connection: within 2/3 of 6 s.
    client.log.wait_for("connecting", mark, timeout=6.0)
    zk_proxy.heal()
    client.log.wait_for("connected", mark)
    client.wait_until_connected(WAIT)
    assert client.session_id == session
    assert client.get_children("/") is not None


def test_calls_in_flight_fail_with_connection_loss(
        zk_proxy: FaultProxy, make_client: Callable[..., Any]) -> None:
    client = make_client(zk_proxy.hosts, session_timeout=6.0)
    zk_proxy.blackhole()
    errors = []

    def call() -> None:
        try:
            client.get("/")
        except pykeeper.ConnectionLossException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    assert len(errors) == 4
    zk_proxy.heal()


def test_credentials_are_re_sent_after_reconnect(
        zk_proxy: FaultProxy, make_client: Callable[..., Any]) -> None:
    import base64
    import hashlib
    client = make_client(zk_proxy.hosts, session_timeout=6.0)
    client.add_auth("digest", "alice:secret")
    digest = base64.b64encode(hashlib.sha1(b"alice:secret").digest()).decode()
    acl = [pykeeper.ACL(pykeeper.Perms.ALL, pykeeper.Id("digest", "alice:" + digest))]
    path = client.create("/private-resend", b"s", acl=acl)
    mark = client.log.mark()
    zk_proxy.drop_all()
    client.log.wait_for("connected", client.log.wait_for("connecting", mark))
    assert client.get(path)[0] == b"s"
    client.delete(path)


def test_ensemble_failover_keeps_the_session(
        zk_ensemble: ZooKeeperEnsemble, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_ensemble.hosts, session_timeout=8.0)
    session = client.session_id
    client.create("/failover", b"x", ephemeral=True)
    current = client.current_server
    index = next(i for i, m in enumerate(zk_ensemble.members) if m.hosts == current)
    mark = client.log.mark()
    zk_ensemble.stop_member(index)
    client.log.wait_for("connected", client.log.wait_for("connecting", mark), timeout=8.0)
    assert client.current_server != current
    assert client.session_id == session
    assert client.exists("/failover").ephemeralOwner == session


def test_ensemble_without_quorum_then_back(
        zk_ensemble: ZooKeeperEnsemble, make_any_client: Callable[..., Any]) -> None:
    client = make_any_client(zk_ensemble.hosts, session_timeout=8.0,
                         retry=RetryPolicy(max_tries=None, deadline=30.0))
    session = client.session_id
    client.create("/quorum", b"x")
    zk_ensemble.stop_member(0)
    zk_ensemble.stop_member(1)
    # The last member stops serving once it notices the lost quorum, and
    # drops its clients; only then is the client surely cut off.
    wait_until(lambda: zk_ensemble.members[2].mode() is None, WAIT)
    wait_until(lambda: not client.connected, WAIT)
    with pytest.raises(pykeeper.ConnectionLossException):
        client.set("/quorum", b"y")  # writes are not retried by the default policy
    zk_ensemble.start_member(1)
    client.wait_until_connected(WAIT)
    assert client.get("/quorum")[0] == b"x"  # reads are retried by the policy
    assert client.session_id == session


def test_a_long_quorum_outage_keeps_the_session(
        zk_ensemble: ZooKeeperEnsemble, make_any_client: Callable[..., Any]) -> None:
    """Members without a quorum close every handshake, for longer than
    twice the session timeout here; the servers do not expire sessions
    meanwhile, so the client must not give its session up (unlike a server
    that lost its data, which serves but is behind the client's zxid)."""
    client = make_any_client(zk_ensemble.hosts, session_timeout=2.0)
    session = client.session_id
    client.create("/eph-kept", b"", ephemeral=True)
    zk_ensemble.stop_member(0)
    zk_ensemble.stop_member(1)
    wait_until(lambda: zk_ensemble.members[2].mode() is None, WAIT)
    wait_until(lambda: not client.connected, WAIT)
    cut_at = time.monotonic()
    mark = client.log.mark()
    # The outage lasts 3x the session timeout and many refused attempts.
    wait_until(lambda: time.monotonic() - cut_at > 6.0
               and client.log.states[mark:].count("associating") >= 3, WAIT)
    zk_ensemble.start_member(1)
    client.wait_until_connected(WAIT)
    assert client.session_id == session
    assert "expired_session" not in client.log.states
    assert client.exists("/eph-kept").ephemeralOwner == session
