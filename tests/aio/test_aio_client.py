"""The asyncio client against a real server: the same API as coroutines,
pipelining, cancellation and closing with calls in flight."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

import pykeeper
import pykeeper.aio


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_the_api_as_coroutines(zk_server) -> None:
    async def main() -> None:
        base = "/aio-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            assert client.state == pykeeper.State.CONNECTED and client.session_id
            assert await client.create_recursive(base + "/a/b", "x") == base + "/a/b"
            data, stat = await client.get(base + "/a/b")
            assert data == b"x" and stat["version"] == 0
            assert (await client.set(base + "/a/b", b"y", version=0)).version == 1
            assert await client.exists(base + "/missing") is None
            with pytest.raises(pykeeper.NoNodeException) as info:
                await client.get(base + "/missing")
            assert info.value.path == base + "/missing"
            with pytest.raises(ValueError, match="absolute"):
                await client.get("relative")
            seq = await client.create(base + "/a/s-", b"", sequence=True, ephemeral=True)
            assert seq == base + "/a/s-0000000001" and await client.is_ephemeral(seq)
            async with client.transaction() as txn:
                txn.create(base + "/t", b"1").check(base + "/a/b", 1)
            assert sorted(await client.get_children(base)) == ["a", "t"]
            acl, _ = await client.get_acl(base)
            assert acl == pykeeper.OPEN_ACL_UNSAFE
            assert await client.sync(base) == base
            assert await client.get_ephemerals(base) == [seq]
            assert await client.get_all_children_number(base) == 4
            removed = await client.delete_recursive(base, force=True)
            assert sorted(removed) == sorted([base, base + "/a", base + "/a/b", seq,
                                              base + "/t"])
        assert client.state == pykeeper.State.CLOSED
    run(main())


def test_watchers_may_be_coroutines_and_listeners_hear_states(zk_server) -> None:
    async def main() -> None:
        path = "/aio-w-" + uuid.uuid4().hex
        states = []
        client = pykeeper.aio.ZooKeeper(zk_server.hosts)
        client.add_listener(states.append)
        await client.connect()
        await client.create(path, b"0")
        seen = asyncio.Queue()

        async def watcher(event: pykeeper.WatchedEvent) -> None:
            await seen.put((event.type_name, event.path))

        await client.get(path, watcher=watcher)
        await client.set(path, b"1")
        assert await asyncio.wait_for(seen.get(), 10) == ("changed", path)
        await client.delete(path)
        await client.close()
        await asyncio.sleep(0)  # listeners are callbacks of their own: let them run
        assert states == ["connecting", "associating", "connected", "closed"]
    run(main())


def test_100000_pipelined_gets_with_gather(zk_server) -> None:
    async def main() -> None:
        path = "/aio-p-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(path, b"payload")
            started = time.monotonic()
            results = await asyncio.gather(*(client.get(path) for _ in range(100_000)))
            elapsed = time.monotonic() - started
            assert len(results) == 100_000
            assert all(data == b"payload" for data, _ in results)
            await client.delete(path)
        print(f"asyncio gather: 100,000 gets in {elapsed:.1f} s")
    run(main())


def test_100000_pipelined_get_async_futures(zk_server) -> None:
    path = "/aio-f-" + uuid.uuid4().hex
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        client.create(path, b"payload")
        futures = [client.get_async(path) for _ in range(100_000)]
        assert all(f.result(60)[0] == b"payload" for f in futures)
        client.delete(path)


def test_cancelling_a_call_leaves_the_connection_healthy(zk_server) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            tasks = [asyncio.ensure_future(client.get("/")) for _ in range(200)]
            await asyncio.sleep(0)  # let them send
            for task in tasks[::2]:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled = [r for r in results if isinstance(r, asyncio.CancelledError)]
            assert len(cancelled) == 100
            assert all(isinstance(r, tuple) for r in results[1::2])
            # Replies of the cancelled calls were matched and dropped: the
            # connection goes on answering in order.
            assert (await client.get_children("/")).count("zookeeper") == 1
            assert client.connected
    run(main())


def test_closing_with_calls_in_flight(zk_server) -> None:
    async def main() -> None:
        client = pykeeper.aio.ZooKeeper(zk_server.hosts)
        await client.connect()
        calls = [asyncio.ensure_future(client.get("/")) for _ in range(500)]
        await asyncio.sleep(0)
        await client.close()
        late = asyncio.ensure_future(client.get("/"))
        results = await asyncio.gather(*calls, late, return_exceptions=True)
        for result in results[:-1]:
            # Sent before close: answered (close flushes them) or, if not
            # sent yet, refused with a clear error; never left hanging.
            assert isinstance(result, (tuple, pykeeper.ClientClosedException,
                                       pykeeper.ConnectionLossException)), result
        assert isinstance(results[-1], pykeeper.ClientClosedException)
        assert "connect()" in str(results[-1])
    run(main())


def test_retry_waits_for_reconnection(zk_proxy) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_proxy.hosts, connect_timeout=1.0) as client:
            zk_proxy.drop_all()
            assert "zookeeper" in await client.retry(client.get_children, "/")
    run(main())


def test_cancelling_one_cached_read_spares_the_others(zk_server) -> None:
    from pykeeper.testing import FaultProxy

    async def main(proxy) -> None:
        async with pykeeper.aio.ZooKeeper(proxy.hosts) as client:
            path = await client.create("/aio-c-" + uuid.uuid4().hex, b"v")
            proxy.set_latency(0.2)
            first = asyncio.ensure_future(client.cached_get(path))
            second = asyncio.ensure_future(client.cached_get(path))
            await asyncio.sleep(0)  # (a yield, not a wait: both tasks run to their await)
            assert client.node_cache.stats()["in_flight"] == 1  # one read, two callers
            first.cancel()
            data, _ = await asyncio.wait_for(second, 10)
            assert data == b"v"
            proxy.set_latency(0)
            await client.delete(path)

    with FaultProxy(zk_server.hosts) as proxy:
        run(main(proxy))


def test_a_failing_coroutine_watcher_is_logged(zk_server, caplog) -> None:
    async def main() -> None:
        path = "/aio-x-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(path, b"0")
            ran = asyncio.Event()

            async def watcher(event: pykeeper.WatchedEvent) -> None:
                ran.set()
                raise RuntimeError("watcher failed on purpose")

            await client.get(path, watcher=watcher)
            await client.set(path, b"1")
            await asyncio.wait_for(ran.wait(), 10)
            await client.sync(path)  # one more round trip: the task has finished
            await client.delete(path)

    with caplog.at_level("ERROR", logger="pykeeper"):
        run(main())
    assert any("watcher failed on purpose" in str(r.exc_info[1]) for r in caplog.records
               if r.exc_info), caplog.text


def test_calls_beyond_the_window_wait_in_order_and_fail_with_the_connection(zk_proxy) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_proxy.hosts, connect_timeout=1.0) as client:
            path = await client.create("/aio-q-" + uuid.uuid4().hex, b"")
            zk_proxy.blackhole()  # (nothing comes back; what was sent is held)
            calls = [asyncio.ensure_future(client.set(path, str(i).encode()))
                     for i in range(2500)]
            await asyncio.sleep(0)  # (every call made: 1,000 sent, the rest queued)
            assert client._protocol.pending_count == 1000
            zk_proxy.drop_all()
            results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 30)
            assert all(isinstance(r, pykeeper.ConnectionLossException) for r in results), \
                {type(r).__name__ for r in results}
            zk_proxy.heal()
            await client.wait_until_connected(20)
            # In the window and beyond it, calls are sent in the order made.
            calls = [client.set(path, str(i).encode()) for i in range(2500)]
            stats = await asyncio.gather(*calls)
            assert [s.version for s in stats] == sorted(s.version for s in stats)
            assert (await client.get(path))[0] == b"2499"
            await client.delete(path)
    run(main())


def test_connect_returns_after_the_hooks_heard_connected(zk_server) -> None:
    async def main() -> None:
        for _ in range(5):
            client = pykeeper.aio.ZooKeeper(zk_server.hosts)
            heard, listened = [], []
            client.on_state += lambda _client, name: heard.append(name)
            client.add_listener(listened.append)
            await client.connect()
            try:
                assert heard[-1] == "connected", heard
                assert listened[-1] == pykeeper.State.CONNECTED, listened
            finally:
                await client.close()
    run(main())
