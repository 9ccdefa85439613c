"""A blocking call that finds nothing else in flight reads its own reply
(threaded.ThreadedConnection.call): what must still hold when the calling
thread, not the I/O thread, reads the socket."""

from __future__ import annotations

import threading
import time

import pytest

import pykeeper
from pykeeper import ConnectionLossException
from pykeeper.testing import wait_until

WAIT = 10.0


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_a_sequential_caller_reads_its_own_replies(transport, base, make_client,
                                                   request, monkeypatch) -> None:
    if transport == "tls":
        server = request.getfixturevalue("zk_tls_server")
        zk = make_client(server.tls_hosts, **server.tls_options())
        zk.create_recursive(base)
    else:
        zk = make_client()
    connection = zk._connection
    read_by_caller = []
    original = connection._read_until

    def spy(reply, *claim):
        read_by_caller.append(threading.current_thread())
        return original(reply, *claim)

    monkeypatch.setattr(connection, "_read_until", spy)
    zk.set(base, b"value")
    for _ in range(200):
        assert zk.get(base)[0] == b"value"
    # (A caller descheduled for longer than the I/O thread's linger makes
    # the next call go through the I/O thread; most calls must not.)
    assert len(read_by_caller) >= 100
    assert set(read_by_caller) == {threading.current_thread()}
    if transport == "tls":
        zk.delete_recursive(base)  # (the fixture cleans the plain server only)


def test_a_watch_event_after_a_call_arrives_without_another_call(base, make_client) -> None:
    # A long session: the client pings (and would find a stuck event) only
    # after ~6.7 s, well past the wait below.
    zk = make_client(session_timeout=20.0)
    states = []
    zk.add_listener(states.append)
    fired = threading.Event()
    for _ in range(20):
        zk.get(base)  # the I/O thread now keeps off the socket for a moment
    zk.get(base, watcher=lambda event: fired.set())
    make_client().set(base, b"changed")
    assert fired.wait(3.0)
    assert states == []


def test_callbacks_of_other_threads_run_on_the_io_thread(client, base) -> None:
    client.set(base, b"value")
    ran_on = []
    stop = threading.Event()
    errors = []

    def other_thread() -> None:
        try:
            while not stop.is_set():
                futures = [client.get_async(base) for _ in range(5)]
                for future in futures:
                    future.add_done_callback(
                        lambda f: ran_on.append(threading.current_thread()))
                for future in futures:
                    future.result(WAIT)
        except Exception as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        for _ in range(1000):
            assert client.get(base)[0] == b"value"
    finally:
        stop.set()
        worker.join(WAIT)
    assert not errors
    # (A callback added after its reply came runs at once, in the worker.)
    assert ran_on and threading.current_thread() not in ran_on


def test_a_silent_server_fails_the_reading_call_after_the_read_timeout(
        zk_proxy, make_client, base) -> None:
    zk = make_client(zk_proxy.hosts, session_timeout=3.0)
    for _ in range(20):
        zk.exists(base)
    zk_proxy.blackhole()
    started = time.monotonic()
    with pytest.raises(ConnectionLossException):
        zk.exists(base)
    # The read timeout is 2/3 of the session timeout (2 s).
    assert time.monotonic() - started < 3.0 + 2.0
    zk_proxy.heal()
    zk.wait_until_connected(WAIT)
    assert zk.exists(base) is not None


def test_calls_across_dropped_connections_complete_or_raise_connection_loss(
        zk_proxy, make_client, base) -> None:
    zk: pykeeper.ZooKeeper = make_client(zk_proxy.hosts)
    zk.set(base, b"value")
    outcomes = {"ok": 0, "lost": 0}
    done = threading.Event()

    def caller() -> None:
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            try:
                assert zk.get(base)[0] == b"value"
                outcomes["ok"] += 1
            except ConnectionLossException:
                outcomes["lost"] += 1
                zk.wait_until_connected(WAIT)

    worker = threading.Thread(target=caller)
    worker.start()
    try:
        for _ in range(5):
            ok = outcomes["ok"]
            wait_until(lambda: outcomes["ok"] >= ok + 50, WAIT, interval=0.001)
            zk_proxy.drop_all()
    finally:
        done.set()
        worker.join(WAIT)
    assert not worker.is_alive()
    assert outcomes["lost"] >= 1
    # (the last drop may not be noticed yet: the client is still connected to
    # a dead socket; what counts is that it gets back)
    assert zk.retry(zk.get, base)[0] == b"value"



def test_an_auth_answer_awaited_keeps_a_call_from_reading(client, base) -> None:
    # The answer to add_auth_async is another caller's: its callbacks must
    # not run inside this thread's exists().
    ran_on = []
    for _ in range(50):
        future = client.add_auth_async("digest", "user:secret")
        future.add_done_callback(lambda f: ran_on.append(threading.current_thread()))
        assert client.exists(base) is not None
        future.result(WAIT)
    assert ran_on and threading.current_thread() not in ran_on
