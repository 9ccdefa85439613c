"""Many calls in flight on one connection: replies matched in order, and a
bounded in-flight window instead of unbounded queues."""

from __future__ import annotations

import threading

import pykeeper


def test_many_pipelined_gets_complete_correctly(client, base) -> None:
    paths = [f"{base}/n{i}" for i in range(20)]
    for i, path in enumerate(paths):
        client.create(path, str(i).encode())
    futures = [client.get_async(paths[i % 20]) for i in range(20000)]
    for i, future in enumerate(futures):
        data, stat = future.result(30)
        assert data == str(i % 20).encode()


def test_in_flight_window_blocks_callers_not_memory(zk_server) -> None:
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        client._connection.max_in_flight = 8
        futures = []
        for _ in range(2000):
            futures.append(client.exists_async("/"))
            # The call returned, so there was room: never more than 8 wait.
            assert client._connection.protocol.pending_count <= 8
        assert all(f.result(30) is not None for f in futures)
        assert client._connection.protocol.pending_count == 0


def test_window_does_not_block_the_io_thread(zk_server) -> None:
    """A callback on the I/O thread may send more even when the window is
    full: it alone can make room, so it must never wait for it."""
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        client._connection.max_in_flight = 2
        done = threading.Event()
        chained = []

        def chain(future) -> None:
            chained.append(future.result())
            if len(chained) < 50:
                for _ in range(3):  # more than the window, from the I/O thread
                    client.exists_async("/").add_done_callback(lambda f: None)
                client.exists_async("/").add_done_callback(chain)
            else:
                done.set()

        client.exists_async("/").add_done_callback(chain)
        assert done.wait(30)
