"""pykeeper.testing.FaultProxy, in front of a real server and an echo server."""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time

import pytest

import pykeeper
from pykeeper.testing import FaultProxy, ZooKeeperServer, free_port, wait_until
from pykeeper.testing.proxy import _LISTEN

from zk_wire import OK, RawSession


def four_letter_via(port: int, word: bytes = b"ruok", timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(word)
        return read_to_eof(sock)


def echo_via(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # the echo server stops at EOF
        return read_to_eof(sock)


def read_to_eof(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True if the peer closed (EOF or reset) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_forwards_to_the_server(zk_proxy: FaultProxy, zk_server: ZooKeeperServer) -> None:
    assert zk_proxy.hosts == f"127.0.0.1:{zk_proxy.port}"
    assert zk_proxy.port != zk_server.port
    assert four_letter_via(zk_proxy.port) == b"imok"
    with RawSession("127.0.0.1", zk_proxy.port) as session:
        assert session.exists("/") == OK
        assert zk_proxy.connection_count == 1
    wait_until(lambda: zk_proxy.connection_count == 0, 5)


def test_drop_all_closes_connections_but_accepts_new_ones(zk_proxy: FaultProxy) -> None:
    first = RawSession("127.0.0.1", zk_proxy.port)
    second = RawSession("127.0.0.1", zk_proxy.port)
    try:
        assert zk_proxy.drop_all() == 2
        assert zk_proxy.connection_count == 0
        assert closed_by_peer(first.sock) and closed_by_peer(second.sock)
        with RawSession("127.0.0.1", zk_proxy.port) as session:
            assert session.exists("/") == OK
    finally:
        first.sock.close()
        second.sock.close()


def test_blackhole_holds_traffic_and_heal_releases_it(zk_proxy: FaultProxy) -> None:
    before = socket.create_connection(("127.0.0.1", zk_proxy.port), timeout=5)
    wait_until(lambda: zk_proxy.connection_count == 1, 5)
    zk_proxy.blackhole()
    during = socket.create_connection(("127.0.0.1", zk_proxy.port), timeout=5)  # still accepted
    try:
        for sock in (before, during):
            sock.sendall(b"ruok")
            sock.settimeout(0.3)
            with pytest.raises(socket.timeout):
                sock.recv(16)  # neither a reply nor EOF: the connection just hangs
        assert zk_proxy.blackholed and zk_proxy.connection_count == 2

        zk_proxy.heal()

        # Nothing was lost: both held requests are delivered and answered.
        for sock in (before, during):
            sock.settimeout(5)
            assert read_to_eof(sock) == b"imok"
        assert four_letter_via(zk_proxy.port) == b"imok"
    finally:
        before.close()
        during.close()


def test_refuse_then_heal_on_the_same_port(zk_proxy: FaultProxy) -> None:
    port = zk_proxy.port
    session = RawSession("127.0.0.1", port)
    try:
        zk_proxy.refuse()
        assert zk_proxy.refusing
        assert closed_by_peer(session.sock)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        session.sock.close()
    zk_proxy.heal()
    assert zk_proxy.port == port and not zk_proxy.refusing
    assert four_letter_via(port) == b"imok"


def test_latency_delays_both_directions(zk_proxy: FaultProxy) -> None:
    latency = 0.25
    zk_proxy.set_latency(latency)
    started = time.monotonic()
    assert four_letter_via(zk_proxy.port) == b"imok"
    elapsed = time.monotonic() - started
    assert elapsed >= 2 * latency  # once on the way in, once on the way out
    with pytest.raises(ValueError):
        zk_proxy.set_latency(-1)


def test_retarget_moves_new_connections_only(zk_proxy: FaultProxy, echo_server) -> None:
    with RawSession("127.0.0.1", zk_proxy.port) as old:
        zk_proxy.retarget(f"127.0.0.1:{echo_server.port}")
        assert zk_proxy.target == ("127.0.0.1", echo_server.port)
        assert echo_via(zk_proxy.port, b"ping") == b"ping"  # echoed, not a ZooKeeper reply
        assert old.exists("/") == OK  # the open connection still reaches ZooKeeper


def test_unreachable_target_closes_the_client_connection() -> None:
    with FaultProxy("127.0.0.1", free_port()) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            assert closed_by_peer(sock)
        wait_until(lambda: proxy.connection_count == 0, 5)


def test_close_stops_listening_and_the_thread(echo_server) -> None:
    proxy = FaultProxy(("127.0.0.1", echo_server.port))
    port = proxy.port
    assert echo_via(port, b"abcd") == b"abcd"
    proxy.close()
    proxy.close()  # idempotent
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    assert not any(t.name == f"pykeeper-fault-proxy-{port}" for t in threading.enumerate())


def test_bytes_arrive_intact_and_in_order_while_faults_are_toggled(echo_server) -> None:
    payload = random.Random(1234).getrandbits(8 * 3_000_000).to_bytes(3_000_000, "big")
    with FaultProxy("127.0.0.1", echo_server.port) as proxy:
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=20)
        done = threading.Event()
        errors: list = []

        def send() -> None:
            try:
                step = 7919  # odd-sized writes, so chunk boundaries never line up
                for offset in range(0, len(payload), step):
                    sock.sendall(payload[offset : offset + step])
                sock.shutdown(socket.SHUT_WR)
            except BaseException as exc:
                errors.append(exc)

        def toggle() -> None:
            rng = random.Random(99)
            try:
                while not done.is_set():
                    choice = rng.random()
                    if choice < 0.3:
                        proxy.blackhole()
                    elif choice < 0.6:
                        proxy.set_latency(rng.choice([0.0, 0.001, 0.005]))
                    else:
                        proxy.heal()
            except BaseException as exc:
                errors.append(exc)

        received: list = []

        def receive() -> None:
            try:
                received.append(read_to_eof(sock))
            except BaseException as exc:
                errors.append(exc)

        sender = threading.Thread(target=send)
        receiver = threading.Thread(target=receive)
        togglers = [threading.Thread(target=toggle) for _ in range(2)]
        for thread in (sender, receiver, *togglers):
            thread.start()
        try:
            # Faults keep flipping until every byte has been sent, then the
            # proxy heals and the rest drains.
            wait_until(lambda: not sender.is_alive() or errors, 30)
        finally:
            done.set()
            for thread in togglers:
                thread.join(10)
            proxy.heal()
            sender.join(10)
            receiver.join(10)
            sock.close()
        assert not errors
        assert len(received) == 1 and len(received[0]) == len(payload)
        assert received[0] == payload


def test_a_connect_in_the_batch_that_refuse_closes_the_listener_is_skipped(
        zk_server) -> None:
    """select() can report the listening socket readable in the same batch
    as the command that closes it (refuse()): that event is skipped, where
    it used to kill the proxy's thread."""
    with FaultProxy(zk_server.hosts) as proxy:
        listener = proxy._listener
        stale = selectors.SelectorKey(listener, listener.fileno(), selectors.EVENT_READ, _LISTEN)
        proxy.refuse()
        proxy._call(lambda: proxy._dispatch(stale, selectors.EVENT_READ))  # (the same batch)
        proxy.heal()
        with pykeeper.ZooKeeper(proxy.hosts) as client:  # (still forwarding)
            assert client.exists("/") is not None
