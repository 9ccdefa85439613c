"""connect / close / context manager / wait_until_connected / state /
client_id / listeners and the on_state hook, against a real server."""

from __future__ import annotations

import threading
import time

import pytest

import pykeeper
from pykeeper import State

from pykeeper.testing import wait_until

from ..support import WAIT, Recorder, pykeeper_threads, server_sessions


def test_connect_gives_a_session_the_server_knows(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    assert zk.state is State.CLOSED
    assert zk.state == "closed" and zk.state_name == "closed"
    assert zk.client_id is None
    assert zk.connected is False

    zk.connect()
    try:
        assert zk.state is State.CONNECTED
        assert zk.state == "connected" and zk.state_name == "connected"
        assert isinstance(zk.state_name, str)
        assert zk.connected is True
        session_id, password = zk.client_id
        assert isinstance(session_id, int) and session_id > 0
        assert isinstance(password, bytes) and len(password) == 16
        assert zk.session_id == session_id
        assert zk.negotiated_session_timeout == pytest.approx(10.0)
        assert session_id in server_sessions(zk_server)
        assert repr(zk).startswith("<pykeeper.ZooKeeper '%s' connected" % zk_server.hosts)
    finally:
        zk.close()
    assert zk.state is State.CLOSED and zk.state_name == "closed"
    assert zk.connected is False
    # CloseSession was answered before close() returned: the session is gone.
    wait_until(lambda: session_id not in server_sessions(zk_server),
               WAIT, message="the server drops the closed session's connection")


def test_client_id_is_none_after_close(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    zk.connect()
    assert zk.client_id is not None
    zk.close()
    assert zk.client_id is None
    assert zk.session_id is None


def test_original_constructor_signature(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts, True)
    assert zk.reconnect is True and zk.servers == zk_server.hosts
    zk.connect()
    try:
        assert zk.exists("/") is not None
    finally:
        zk.close()


def test_connect_twice_keeps_the_session(client):
    before = client.client_id
    client.connect()
    assert client.client_id == before
    assert client.state == "connected"


def test_close_is_idempotent_and_connect_again_makes_a_new_session(zk_server, client):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    zk.connect()
    first = zk.session_id
    path = zk.create("/t-eph-reconnect-%x" % first, ephemeral=True)
    zk.close()
    zk.close()
    assert zk.state == "closed"
    assert client.exists(path) is None  # the old session's ephemeral went with it

    zk.connect()
    try:
        assert zk.state == "connected"
        assert zk.session_id not in (None, first)
        assert zk.exists("/") is not None
    finally:
        zk.close()


def test_context_manager_connects_and_closes(zk_server, client, base):
    with pykeeper.ZooKeeper(zk_server.hosts) as zk:
        assert zk.state == "connected"
        eph = zk.create(base + "/eph", ephemeral=True)
        assert client.exists(eph) is not None
    assert zk.state == "closed"
    assert client.exists(eph) is None


def test_context_manager_closes_on_error_and_keeps_the_error(zk_server):
    with pytest.raises(pykeeper.NoNodeException) as info:
        with pykeeper.ZooKeeper(zk_server.hosts) as zk:
            zk.get("/no-such-node-for-the-context-manager")
    assert info.value.path == "/no-such-node-for-the-context-manager"
    assert zk.state == "closed"


def test_context_manager_on_a_connected_client_keeps_its_session(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    zk.connect()
    session = zk.session_id
    with zk as same:
        assert same is zk
        assert zk.session_id == session
    assert zk.state == "closed"


@pytest.mark.parametrize("call", [
    lambda zk: zk.get("/"),
    lambda zk: zk.exists("/"),
    lambda zk: zk.get_children("/"),
    lambda zk: zk.create("/never"),
    lambda zk: zk.create2("/never"),
    lambda zk: zk.set("/", b""),
    lambda zk: zk.set2("/", b""),
    lambda zk: zk.delete("/never"),
    lambda zk: zk.get_acl("/"),
    lambda zk: zk.set_acl("/", pykeeper.OPEN_ACL_UNSAFE),
    lambda zk: zk.sync("/"),
    lambda zk: zk.add_auth("digest", "user:pw"),
    lambda zk: zk.get_ephemerals("/"),
    lambda zk: zk.get_all_children_number("/"),
    lambda zk: zk.is_ephemeral("/"),
    lambda zk: zk.create_recursive("/never/a"),
    lambda zk: zk.delete_recursive("/never"),
    lambda zk: zk.transaction().create("/never").commit(),
    lambda zk: zk.wait_until_connected(1),
], ids=["get", "exists", "get_children", "create", "create2", "set", "set2", "delete",
        "get_acl", "set_acl", "sync", "add_auth", "get_ephemerals",
        "get_all_children_number", "is_ephemeral", "create_recursive", "delete_recursive",
        "transaction", "wait_until_connected"])
def test_use_before_connect_says_to_call_connect(zk_server, call):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    with pytest.raises(pykeeper.ZooKeeperException, match=r"connect\(\)") as info:
        call(zk)
    assert isinstance(info.value, pykeeper.ClientClosedException)
    # and the same after a close
    zk.connect()
    zk.close()
    with pytest.raises(pykeeper.ClientClosedException, match=r"connect\(\)"):
        call(zk)


def test_wait_until_connected_returns_at_once_when_connected(client):
    started = time.monotonic()
    assert client.wait_until_connected() is None
    assert client.wait_until_connected(0) is None
    assert time.monotonic() - started < 0.5


def test_wait_until_connected_times_out_while_the_server_is_down(zk_fresh_server):
    zk = pykeeper.ZooKeeper(zk_fresh_server.hosts, connect_timeout=2.0)
    zk.connect()
    try:
        session = zk.client_id
        disconnected = Recorder()
        zk.add_listener(lambda state: state == "connecting" and disconnected(state))
        zk_fresh_server.stop()
        assert disconnected.wait_for(1), "the client did not notice the server stop"
        # (A server still shutting down may accept a connection for a
        # moment: "associating" is a state of trying too.)
        assert zk.state in ("connecting", "associating") and not zk.connected

        started = time.monotonic()
        with pytest.raises(pykeeper.TimeoutException) as info:
            zk.wait_until_connected(0.3)
        waited = time.monotonic() - started
        assert isinstance(info.value, pykeeper.ZooKeeperException)
        assert 0.3 <= waited < WAIT  # (at least the timeout; bounded)
        assert "connecting" in str(info.value) or "associating" in str(info.value)

        zk_fresh_server.start()
        zk.wait_until_connected(15)
        assert zk.state == "connected"
        # the server kept the session (its log survived the kill): resumed
        assert zk.client_id == session
        assert zk.exists("/") is not None
    finally:
        zk.close()


def test_connect_to_a_stopped_server_times_out_and_leaves_nothing_running(zk_fresh_server):
    zk_fresh_server.stop()
    before = set(pykeeper_threads())
    zk = pykeeper.ZooKeeper(zk_fresh_server.hosts)
    started = time.monotonic()
    with pytest.raises(pykeeper.TimeoutException, match="gave a session"):
        zk.connect(timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5.0
    assert zk.state == "closed"
    assert set(pykeeper_threads()) <= before
    with pytest.raises(pykeeper.ClientClosedException, match=r"connect\(\)"):
        zk.get("/")


def test_listeners_and_on_state_see_every_state_in_order(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    listener = Recorder()
    on_state = Recorder()
    zk.add_listener(listener)
    zk.on_state += on_state
    zk.connect()
    zk.close()  # runs the callbacks already queued before it returns

    # connecting (looking for a server), associating (TCP up, handshake
    # under way), connected, closed
    assert listener.calls == [State.CONNECTING, State.ASSOCIATING, State.CONNECTED,
                              State.CLOSED]
    assert all(isinstance(s, State) for s in listener.calls)
    assert on_state.calls == [(zk, "connecting"), (zk, "associating"), (zk, "connected"),
                              (zk, "closed")]
    assert all(type(name) is str for _, name in on_state.calls)
    # callbacks run on the client's event thread, not the caller's
    assert all(t is not threading.current_thread() for t in listener.threads)


def test_remove_listener_and_on_state_minus(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    kept, removed = Recorder(), Recorder()
    hook_kept, hook_removed = Recorder(), Recorder()
    zk.add_listener(kept)
    zk.add_listener(removed)
    zk.add_listener(removed)  # a second add is ignored
    zk.on_state += hook_kept
    zk.on_state += hook_removed
    zk.connect()
    connected = lambda calls: calls and calls[-1] in (State.CONNECTED, (zk, "connected"))
    assert kept.wait_until(connected) and removed.wait_until(connected)
    assert hook_kept.wait_until(connected) and hook_removed.wait_until(connected)
    zk.remove_listener(removed)
    zk.on_state -= hook_removed
    zk.close()
    assert kept.calls[-2:] == [State.CONNECTED, State.CLOSED]
    assert removed.calls[-1] == State.CONNECTED and State.CLOSED not in removed.calls
    assert hook_kept.calls[-1] == (zk, "closed")
    assert hook_removed.calls[-1] == (zk, "connected")
    assert len(removed.calls) == len(kept.calls) - 1


def test_listener_must_be_callable(client):
    with pytest.raises(TypeError):
        client.add_listener("not callable")
    with pytest.raises(TypeError):
        client.on_state += 42


def test_a_raising_listener_does_not_stop_the_others(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)

    def boom(state):
        raise RuntimeError("listener failure")

    good = Recorder()
    zk.add_listener(boom)
    zk.add_listener(good)
    zk.on_state += lambda *a: 1 / 0
    zk.connect()
    try:
        assert zk.exists("/") is not None
    finally:
        zk.close()
    assert good.calls[-2:] == [State.CONNECTED, State.CLOSED]


def test_on_event_gets_the_session_event(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    events = Recorder()
    zk.on_event += events
    zk.connect()
    try:
        assert events.wait_for(1)
    finally:
        zk.close()
    event = events.calls[0]
    assert isinstance(event, pykeeper.WatchedEvent)
    assert event == pykeeper.WatchedEvent(pykeeper.EventType.NONE,
                                          pykeeper.KeeperState.SYNC_CONNECTED, None)
    assert event.type_name == "none" and event.state_name == "connected"
    assert event.connection_state == pykeeper.KeeperState.SYNC_CONNECTED
    assert pykeeper.ClientEvent is pykeeper.WatchedEvent


def test_close_is_bounded_when_the_server_does_not_answer(zk_proxy):
    zk = pykeeper.ZooKeeper(zk_proxy.hosts, session_timeout=10)
    zk.connect()
    before = set(pykeeper_threads())
    zk_proxy.blackhole()  # the CloseSession request will get no reply
    try:
        started = time.monotonic()
        zk.close(timeout=0.5)
        assert time.monotonic() - started < 1.5
        assert zk.state == "closed"
        wait_until(lambda: not (set(pykeeper_threads()) & before),
                   WAIT, message="the client's threads end")
    finally:
        zk_proxy.heal()


def test_close_from_a_callback_on_the_io_thread_does_not_wait_for_itself(zk_server):
    """A future's callback runs on the I/O thread, which can read the reply
    to CloseSession only once the callback returns: close() must not wait
    for it (here, its close_timeout of 60 s)."""
    other = pykeeper.ZooKeeper(zk_server.hosts)
    other.connect()
    client = pykeeper.ZooKeeper(zk_server.hosts, close_timeout=60.0)
    client.connect()
    try:
        path = client.create("/close-cb-", b"", ephemeral=True, sequence=True)
        gone = threading.Event()
        other.exists(path, watcher=lambda event: gone.set())
        io_thread = client._connection._thread
        closed = threading.Event()
        client.get_async("/").add_done_callback(lambda _: (client.close(), closed.set()))
        assert closed.wait(WAIT)
        assert client.state == State.CLOSED
        assert gone.wait(WAIT)  # the session was closed on the server
        wait_until(lambda: not io_thread.is_alive(), WAIT)
        client.connect()  # and the client starts again
        assert client.exists("/") is not None
    finally:
        client.close()
        other.close()


def test_connect_returns_after_the_hooks_heard_connected(zk_server):
    # The hooks are slow on purpose: connect() must wait for them, not race them.
    for _ in range(5):
        zk = pykeeper.ZooKeeper(zk_server.hosts)
        heard, listened = [], []

        def hook(client, state_name):
            if state_name == "connected":
                time.sleep(0.05)  # (a slow hook, not a synchronization)
            heard.append(state_name)

        zk.on_state += hook
        zk.add_listener(listened.append)
        zk.connect()
        try:
            assert heard[-1] == "connected", heard
            assert listened[-1] == State.CONNECTED, listened
        finally:
            zk.close()


def test_connect_from_a_listener_does_not_deadlock(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    done = threading.Event()
    errors = []

    def listener(state):
        if state == State.CONNECTED and not done.is_set():
            try:
                zk.wait_until_connected(WAIT)  # on the event thread: returns at once
            except Exception as exc:  # pragma: no cover (the failure being tested)
                errors.append(exc)
            done.set()

    zk.add_listener(listener)
    zk.connect()
    try:
        assert done.wait(WAIT) and not errors
    finally:
        zk.close()
