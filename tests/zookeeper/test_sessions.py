"""Handles and sessions against real servers: handle numbers reused, many
handles at once, client_id() resuming a session, recv_timeout, calls made
before the connection waiting for it (and failing with CONNECTIONLOSS
when none comes), failover in an ensemble, digest auth and a refused one,
close while callbacks run, the log stream, and init_ssl to a TLS port."""

from __future__ import annotations

import io
import logging
import threading
from typing import Any, Callable, Tuple

import pytest

from pykeeper import zookeeper

from ..support import WAIT, Recorder
from .conftest import OPEN_ACL, session_events, wait_connected

Opener = Callable[..., Tuple[int, Recorder]]


def test_handles_are_small_ints_and_a_closed_ones_number_is_reused(open_handle: Opener) -> None:
    handles = [open_handle(connected=False)[0] for _ in range(4)]
    assert handles == sorted(handles) and len(set(handles)) == 4
    assert all(type(h) is int and 0 <= h < 64 for h in handles)
    assert zookeeper.close(handles[1]) == zookeeper.OK
    with pytest.raises(zookeeper.ZooKeeperException, match="already freed"):
        zookeeper.close(handles[1])
    with pytest.raises(zookeeper.ZooKeeperException, match="already freed"):
        zookeeper.get(handles[1], "/")
    assert open_handle(connected=False)[0] == handles[1]


def test_many_handles_each_have_their_own_session(open_handle: Opener, base: str,
                                                  zh: int) -> None:
    handles = [open_handle()[0] for _ in range(10)]
    owners = set()
    for i, handle in enumerate(handles):
        path = zookeeper.create(handle, f"{base}/h{i}", "", OPEN_ACL, zookeeper.EPHEMERAL)
        owners.add(zookeeper.exists(zh, path)["ephemeralOwner"])
        assert zookeeper.state(handle) == zookeeper.CONNECTED_STATE
    assert owners == {zookeeper.client_id(h)[0] for h in handles} and len(owners) == 10
    assert all(zookeeper.close(h) == zookeeper.OK for h in handles)
    assert zookeeper.get_children(zh, base) == []


def test_client_id_resumes_the_session_in_a_new_handle(open_handle: Opener, base: str,
                                                       zh: int, zk_proxy: Any) -> None:
    first, _ = open_handle(zk_proxy.hosts)
    path = zookeeper.create(first, base + "/mine", "", OPEN_ACL, zookeeper.EPHEMERAL)
    session_id, password = zookeeper.client_id(first)
    zk_proxy.refuse()  # (the first handle loses its server, not its session)
    zk_proxy.drop_all()
    assert session_id > 0 and type(password) is str and len(password) == 16
    second, watcher = open_handle("", 10000, (session_id, password))
    assert zookeeper.client_id(second) == (session_id, password)
    assert zookeeper.exists(second, path)["ephemeralOwner"] == session_id
    zookeeper.close(second)  # (ends the session the two shared)
    assert zookeeper.exists(zh, path) is None


def test_a_binary_handle_gives_the_password_as_bytes(open_handle: Opener) -> None:
    handle, _ = open_handle(binary=True)
    session_id, password = zookeeper.client_id(handle)
    assert type(password) is bytes and len(password) == 16


def test_a_made_up_session_is_expired_by_the_server(open_handle: Opener) -> None:
    handle, watcher = open_handle("", 10000, (123456, "mypassword"), connected=False)
    expired = (handle, zookeeper.SESSION_EVENT, zookeeper.EXPIRED_SESSION_STATE, "")
    assert watcher.wait_until(lambda calls: expired in calls)
    assert zookeeper.client_id(handle) == (123456, "mypassword")
    assert zookeeper.is_unrecoverable(handle)


def test_recv_timeout_is_the_request_then_the_servers_grant(open_handle: Opener,
                                                           zk_proxy: Any) -> None:
    zk_proxy.refuse()
    handle, watcher = open_handle(zk_proxy.hosts, 10**7, connected=False)
    assert zookeeper.recv_timeout(handle) == 10**7
    assert zookeeper.state(handle) in (zookeeper.CONNECTING_STATE, zookeeper.ASSOCIATING_STATE)
    zk_proxy.heal()
    wait_connected(watcher, handle)
    granted = zookeeper.recv_timeout(handle)
    assert 0 < granted < 10**7  # (the server caps it at 20 ticks)


def test_calls_made_before_the_connection_wait_for_it_in_order(
        zk_proxy: Any, open_handle: Opener, base: str) -> None:
    zk_proxy.refuse()
    handle, _ = open_handle(zk_proxy.hosts, connected=False)
    done = Recorder()
    zookeeper.add_auth(handle, "digest", "early:bird", done)
    zookeeper.acreate(handle, base + "/early", "1",
                      [{"perms": zookeeper.PERM_ALL, "scheme": "auth", "id": ""}], 0, done)
    zookeeper.aset(handle, base + "/early", "2", -1, done)
    read = Recorder()
    reader = threading.Thread(target=lambda: read(zookeeper.get(handle, base + "/early")))
    reader.start()
    zk_proxy.heal()
    try:
        reader.join(WAIT)
        assert done.wait_for(3) and read.wait_for(1)
        assert done.calls == [(handle, zookeeper.OK), (handle, zookeeper.OK, base + "/early"),
                              (handle, zookeeper.OK, done.calls[2][2])]
        assert read.calls[0][0] == "2"  # (the get, made last, was sent after the set)
    finally:
        zookeeper.delete(handle, base + "/early")


def test_with_no_server_calls_fail_with_connection_loss_after_recv_timeout(
        zk_proxy: Any, open_handle: Opener, base: str) -> None:
    zk_proxy.refuse()
    handle, watcher = open_handle(zk_proxy.hosts, 1000, connected=False)
    done = Recorder()
    zookeeper.aget(handle, base, None, done)
    with pytest.raises(zookeeper.ConnectionLossException, match="recv_timeout"):
        zookeeper.get(handle, base)
    assert done.wait_for(1) and done.calls[0] == (handle, zookeeper.CONNECTIONLOSS, None, None)
    zk_proxy.heal()
    wait_connected(watcher, handle)
    assert zookeeper.get(handle, base)[0] == ""


def test_failover_to_another_member_keeps_the_session(zk_ensemble: Any) -> None:
    zookeeper.deterministic_conn_order(True)  # (so the handle starts on member 0)
    try:
        watcher = Recorder()
        handle = zookeeper.init(zk_ensemble.hosts, watcher)
    finally:
        zookeeper.deterministic_conn_order(False)
    try:
        wait_connected(watcher, handle)
        path = zookeeper.create(handle, "/failover", "", OPEN_ACL, zookeeper.EPHEMERAL)
        zk_ensemble.stop_member(0)
        wait_connected(watcher, handle, 2)
        assert session_events(watcher, handle) == [
            (zookeeper.CONNECTED_STATE, ""), (zookeeper.CONNECTING_STATE, ""),
            (zookeeper.CONNECTED_STATE, "")]
        assert zookeeper.exists(handle, path)["ephemeralOwner"] == zookeeper.client_id(handle)[0]
    finally:
        zookeeper.close(handle)


def test_digest_auth_through_add_auth(open_handle: Opener, base: str) -> None:
    owner, _ = open_handle()
    done = Recorder()
    assert zookeeper.add_auth(owner, "digest", "alice:secret", done) == zookeeper.OK
    assert done.wait_for(1) and done.calls[0] == (owner, zookeeper.OK)
    path = zookeeper.create(owner, base + "/private", "mine",
                            [{"perms": zookeeper.PERM_ALL, "scheme": "auth", "id": ""}])
    stranger, _ = open_handle()
    with pytest.raises(zookeeper.NoAuthException):
        zookeeper.get(stranger, path)
    zookeeper.add_auth(stranger, "digest", b"alice:secret")  # (no completion: optional)
    assert zookeeper.get(stranger, path)[0] == "mine"  # (sent after the auth, in order)
    assert zookeeper.get_acl(owner, path)[1][0]["scheme"] == "digest"
    zookeeper.delete(owner, path)


def test_refused_credentials_end_the_session(open_handle: Opener) -> None:
    handle, watcher = open_handle()
    done = Recorder()
    zookeeper.add_auth(handle, "no-such-scheme", "x", done)
    assert done.wait_for(1) and done.calls[0] == (handle, zookeeper.AUTHFAILED)
    failed = (handle, zookeeper.SESSION_EVENT, zookeeper.AUTH_FAILED_STATE, "")
    assert watcher.wait_until(lambda calls: failed in calls)
    assert zookeeper.state(handle) == zookeeper.AUTH_FAILED_STATE
    assert zookeeper.is_unrecoverable(handle)
    with pytest.raises(zookeeper.InvalidStateException):
        zookeeper.add_auth(handle, "digest", "a:b")


def test_close_while_a_completion_runs_does_not_deadlock(open_handle: Opener) -> None:
    handle, _ = open_handle()
    entered, release = threading.Event(), threading.Event()

    def slow(*args: Any) -> None:
        entered.set()
        release.wait(WAIT)

    zookeeper.aget(handle, "/", None, slow)
    assert entered.wait(WAIT)
    closer = threading.Thread(target=zookeeper.close, args=(handle,))
    closer.start()
    release.set()
    closer.join(WAIT)
    assert not closer.is_alive()


def test_calls_waiting_at_close_fail_in_order_before_close_returns(
        zk_proxy: Any, open_handle: Opener, base: str) -> None:
    zk_proxy.refuse()
    handle, _ = open_handle(zk_proxy.hosts, connected=False)
    done = Recorder()
    for i in range(10):
        zookeeper.aexists(handle, f"{base}/{i}", None, lambda *args, i=i: done(i, *args))
    zookeeper.close(handle)
    assert [call[0] for call in done.calls] == list(range(10))
    assert {call[2] for call in done.calls} == {zookeeper.CLOSING}


def test_every_call_in_flight_at_close_completes(open_handle: Opener, base: str,
                                                 zh: int) -> None:
    handle, _ = open_handle()
    done = Recorder()
    for i in range(200):
        zookeeper.acreate(handle, f"{base}/c{i:03d}", "", OPEN_ACL, 0, done)
    zookeeper.close(handle)
    assert done.wait_for(200)
    codes = {call[1] for call in done.calls}
    assert codes <= {zookeeper.OK, zookeeper.CLOSING, zookeeper.CONNECTIONLOSS}
    made = sorted(call[2] for call in done.calls if call[1] == zookeeper.OK)
    assert made == sorted(f"{base}/{name}" for name in zookeeper.get_children(zh, base))


def test_the_log_stream_gets_the_clients_log(zk_server: Any) -> None:
    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in ("pykeeper", "zookeeper")]
    levels = [logger.level for logger in loggers]
    zookeeper.set_log_stream(stream)
    try:
        zookeeper.set_debug_level(zookeeper.LOG_LEVEL_INFO)
        watcher = Recorder()
        handle = zookeeper.init(zk_server.hosts, watcher)
        wait_connected(watcher, handle)
        session_id = zookeeper.client_id(handle)[0]
        zookeeper.close(handle)
        assert f"session 0x{session_id:x} established" in stream.getvalue()
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(zookeeper._log_handler)  # type: ignore[arg-type]
            logger.setLevel(level)


def test_init_ssl_connects_to_the_tls_port(zk_tls_server: Any, open_handle: Opener) -> None:
    server = zk_tls_server
    watcher = Recorder()
    handle = zookeeper.init_ssl(server.tls_hosts,
                                f"{server.ca_file},{server.client_cert},{server.client_key},",
                                watcher)
    try:
        wait_connected(watcher, handle)
        path = zookeeper.create(handle, "/tls-" + str(handle), "over tls", OPEN_ACL,
                                zookeeper.EPHEMERAL)
        assert zookeeper.get(handle, path)[0] == "over tls"
    finally:
        zookeeper.close(handle)


def test_init_ssl_without_the_client_certificate_never_connects(zk_tls_server: Any) -> None:
    watcher = Recorder()
    handle = zookeeper.init_ssl(zk_tls_server.tls_hosts, zk_tls_server.ca_file, watcher, 1000)
    try:
        with pytest.raises(zookeeper.ConnectionLossException):
            zookeeper.get(handle, "/")
        assert session_events(watcher, handle) == []
    finally:
        zookeeper.close(handle)


@pytest.mark.parametrize("cert_string, what", [
    ("/no/such/ca.pem", "no/such/ca.pem"), ("", "CA file"),
])
def test_init_ssl_with_bad_files_is_bad_arguments(cert_string: str, what: str) -> None:
    with pytest.raises(zookeeper.BadArgumentsException, match=what):
        zookeeper.init_ssl("127.0.0.1:2281", cert_string)


def test_a_call_in_flight_when_the_connection_dies_is_connection_loss(
        zk_proxy: Any, open_handle: Opener, base: str) -> None:
    handle, watcher = open_handle(zk_proxy.hosts, 4000)
    done = Recorder()
    zk_proxy.blackhole()  # (the server stops answering: the client drops the connection)
    zookeeper.aget(handle, base, None, done)
    with pytest.raises(zookeeper.ConnectionLossException):
        zookeeper.get(handle, base)
    assert done.wait_for(1) and done.calls[0][1] == zookeeper.CONNECTIONLOSS
    zk_proxy.heal()
    wait_connected(watcher, handle, 2)
    assert zookeeper.get(handle, base)[0] == ""
