"""One client shared by 8 threads making 1,000 mixed calls each, on nodes of
their own and on shared ones; every result is checked."""

from __future__ import annotations

import threading

import pykeeper

from ..support import WAIT

THREADS = 8
CALLS = 1000


def test_eight_threads_share_one_client(client, base):
    shared = client.create(base + "/shared", b"")
    counter = client.create(base + "/counter", b"0")
    for t in range(THREADS):
        client.create(f"{base}/own-{t}")
    barrier = threading.Barrier(THREADS)
    calls = [0] * THREADS
    increments = [0] * THREADS
    errors = []

    def work(t):
        own = f"{base}/own-{t}"
        live = set()  # this thread's children of its own node
        last_shared_version = -1
        count = 0
        i = 0

        def call(fn, *args, **kwargs):
            nonlocal count
            count += 1
            return fn(*args, **kwargs)

        try:
            barrier.wait(WAIT)
            while count < CALLS:
                i += 1
                name = f"n-{i}"
                path = f"{own}/{name}"
                data = f"{t}:{i}".encode()
                # own nodes: create, read back, update with version, list, delete
                assert call(client.create, path, data) == path
                live.add(name)
                got, stat = call(client.get, path)
                assert got == data and stat.version == 0 and stat.dataLength == len(data)
                stat = call(client.set, path, data + b"+", 0)
                assert stat.version == 1 and stat.dataLength == len(data) + 1
                stat = call(client.exists, path)
                assert stat is not None and stat.version == 1
                assert set(call(client.get_children, own)) == live
                if i % 2:
                    call(client.delete, path, 1)
                    live.discard(name)
                    assert call(client.exists, path) is None
                # a shared node everyone writes: versions only grow
                stat = call(client.set, shared, data)
                assert stat.version > last_shared_version
                last_shared_version = stat.version
                got, stat = call(client.get, shared)
                assert stat.version >= last_shared_version
                assert got.count(b":") == 1  # some thread's whole value, never a mix
                last_shared_version = stat.version
                # shared children: ours are there, and nobody else's with our name
                mine = call(client.create, f"{shared}/{t}-{i}", b"", ephemeral=True)
                assert mine == f"{shared}/{t}-{i}"
                names = call(client.get_children, shared)
                assert f"{t}-{i}" in names
                if i % 3 == 0:
                    call(client.delete, mine)
                # a shared counter, incremented with compare-and-set
                if i % 5 == 0:
                    while True:
                        got, stat = call(client.get, counter)
                        try:
                            call(client.set, counter, str(int(got) + 1).encode(), stat.version)
                        except pykeeper.BadVersionException:
                            continue
                        increments[t] += 1
                        break
                # errors come back to the right caller
                try:
                    call(client.get, f"{own}/missing-{i}")
                except pykeeper.NoNodeException as exc:
                    assert exc.path == f"{own}/missing-{i}"
                else:
                    raise AssertionError("get of a missing node succeeded")
            # what this thread left behind is exactly what it thinks
            assert set(client.get_children(own)) == live
        except BaseException as exc:  # reported by the main thread
            errors.append((t, repr(exc)))
        calls[t] = count

    threads = [threading.Thread(target=work, args=(t,), name=f"worker-{t}")
               for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    assert all(count >= CALLS for count in calls)
    assert int(client.get(counter)[0]) == sum(increments) > 0
    assert client.get(counter)[1].version == sum(increments)
    assert client.state == "connected"
