"""The asyncio client's TreeCache, DataWatch and ChildrenWatch, used the
asyncio way (awaited, coroutine callbacks, `async with`). The behaviour
they share with the sync helpers (following changes, reconnects, expiry,
coherence under churn) is proven for both clients by the parametrized
tests in tests/cache."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

import pykeeper
import pykeeper.aio


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 120))


async def data(tree: pykeeper.aio.TreeCache, path: str) -> bytes:
    """The mirror's data of `path` (which it must have)."""
    value = await tree.get_data(path)
    assert value is not None
    return value[0]


async def next_item(queue: "asyncio.Queue[Any]", timeout: float = 20.0) -> Any:
    return await asyncio.wait_for(queue.get(), timeout)


def test_tree_cache_async_with_and_coroutine_listeners(zk_server: Any) -> None:
    async def main() -> None:
        base = "/aio-tree-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as writer:
            await writer.create_recursive(base + "/a/b", b"1")
            seen: "asyncio.Queue[Any]" = asyncio.Queue()

            async def listener(event: pykeeper.aio.TreeEvent) -> None:
                await seen.put((event.type, event.path))

            tree = pykeeper.aio.TreeCache(client, base)
            tree.add_listener(listener)
            async with tree:
                assert tree.initialized and tree.persistent
                assert sorted(tree) == [base, base + "/a", base + "/a/b"]
                assert (await data(tree, base + "/a/b")) == b"1"
                assert await tree.get_children(base) == ["a"]
                assert await tree.get_data(base + "/none") is None
                added = {(await next_item(seen)) for _ in range(3)}
                assert added == {("added", p) for p in (base, base + "/a", base + "/a/b")}
                assert await next_item(seen) == ("initialized", None)
                # Awaited reads are current once the client has the event: a
                # watcher armed before the change reads the new value.
                changed = asyncio.get_running_loop().create_future()
                await client.exists(base + "/a/b", watcher=changed.set_result)
                await writer.set(base + "/a/b", b"2")
                await asyncio.wait_for(changed, 20)
                assert (await data(tree, base + "/a/b")) == b"2"
                assert await next_item(seen) == ("updated", base + "/a/b")
            assert tree.closed
            # Closed: it no longer follows; the client holds no watch for it.
            await writer.set(base + "/a/b", b"3")
            assert (await client.get(base + "/a/b"))[0] == b"3"
            assert (await data(tree, base + "/a/b")) == b"2"
            assert client.protocol_for_watches().watches.set_watches_paths()[4] == []
            with pytest.raises(TypeError, match="async with"):
                with tree:
                    pass
            await writer.delete_recursive(base)
    run(main())


def test_tree_cache_started_before_connect(zk_server: Any) -> None:
    async def main() -> None:
        base = "/aio-tree-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as writer:
            await writer.create(base, b"r")
            client = pykeeper.aio.ZooKeeper(zk_server.hosts)
            tree = pykeeper.aio.TreeCache(client, base)
            await tree.start()
            assert not await tree.wait_initialized(0.05)
            await client.connect()
            assert await tree.wait_initialized(20)
            assert (await data(tree, base)) == b"r"
            await tree.close()
            await client.close()
            await writer.delete(base)
    run(main())


def test_data_watch_awaited_with_a_coroutine_function(zk_server: Any) -> None:
    async def main() -> None:
        path = "/aio-dw-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            seen: "asyncio.Queue[Any]" = asyncio.Queue()

            async def on_change(data: Any, stat: Any) -> bool:
                # A coroutine function may await the client; the next read
                # waits until it returns.
                exists = await client.exists(path)
                await seen.put((data, exists is not None))
                return bool(data != b"stop")

            watch = await client.data_watch(path, on_change)
            assert isinstance(watch, pykeeper.aio.DataWatch)
            assert await next_item(seen) == (None, False)  # no node yet
            await client.create(path, b"a")
            assert await next_item(seen) == (b"a", True)
            await client.set(path, b"stop")
            assert await next_item(seen) == (b"stop", True)
            assert watch.stopped  # returned False
            await client.set(path, b"after")
            # A later watcher sees the later change; the stopped one was not called.
            later = await client.data_watch(path, lambda data, stat: seen.put_nowait(data))
            assert await next_item(seen) == b"after"
            later.stop()
            assert seen.empty()
            await client.delete(path)
    run(main())


def test_children_watch_as_a_decorator(zk_server: Any) -> None:
    async def main() -> None:
        path = "/aio-cw-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(path)
            seen: "asyncio.Queue[Any]" = asyncio.Queue()

            @client.children_watch(path)
            def on_children(children: Any) -> None:
                seen.put_nowait(children)

            assert await next_item(seen) == []
            await client.create(path + "/x")
            assert await next_item(seen) == ["x"]
            await client.delete_recursive(path)
            assert await next_item(seen) in (None, [])  # (deleted: [] first if seen)
    run(main())


def test_first_read_errors_are_raised_when_awaited(zk_server: Any) -> None:
    async def main() -> None:
        client = pykeeper.aio.ZooKeeper(zk_server.hosts)
        with pytest.raises(ValueError):
            pykeeper.aio.DataWatch(client, "relative", print)
        with pytest.raises(TypeError):
            pykeeper.aio.DataWatch(client, "/x", "not callable")  # type: ignore[arg-type]
        watch = pykeeper.aio.DataWatch(client, "/x", print)  # never connected
        with pytest.raises(pykeeper.ClientClosedException):
            await watch
        assert watch.stopped
    run(main())
    with pytest.raises(RuntimeError):  # not on an event loop
        pykeeper.aio.DataWatch(pykeeper.aio.ZooKeeper(zk_server.hosts), "/x", print)


def test_stopping_a_watch_while_its_read_is_on_its_way(zk_server: Any, caplog: Any) -> None:
    async def main() -> None:
        path = "/aio-stop-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(path, b"x")
            calls = []
            first = client.data_watch(path, lambda data, stat: calls.append(data))
            await asyncio.sleep(0)  # (one step of its task: the first read is sent)
            assert client._protocol is not None and client._protocol.pending_count == 1
            first.stop()
            assert await first is first and calls == [] and first.stopped
            second = await client.data_watch(path, lambda data, stat: calls.append(data))
            # Stopped by a watcher run right after the event that wakes it.
            await client.exists(path, watcher=lambda event: second.stop())
            await client.set(path, b"y")
            later: "asyncio.Queue[Any]" = asyncio.Queue()
            third = await client.data_watch(path, lambda data, stat: later.put_nowait(data))
            assert await next_item(later) == b"y" and second.stopped
            await client.set(path, b"z")
            # (The third sees z after the second would have: events come in order.)
            assert await next_item(later) == b"z"
            third.stop()
            assert calls == [b"x"]  # not called after stop(), and nothing raised
            assert not [r for r in caplog.records if r.levelname == "ERROR"]
            await client.delete(path)
    run(main())


def test_a_cancelled_start_leaves_no_watch_behind(zk_server: Any) -> None:
    async def main() -> None:
        base = "/aio-tc-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create_recursive(base + "/a", b"1")
            tree = pykeeper.aio.TreeCache(client, base)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(tree.start(), 0.0001)  # cancelled mid-AddWatch
            await tree.start()  # started after all: it finishes arming
            assert await tree.wait_initialized(20)
            assert (await data(tree, base + "/a")) == b"1"
            await tree.close()
            assert client.protocol_for_watches().watches.set_watches_paths()[4] == []
            # Closed before its (re-)arming finished: the watch it arms is removed.
            tree = pykeeper.aio.TreeCache(client, base)
            starting = asyncio.ensure_future(tree.start())
            await asyncio.sleep(0)  # (the AddWatch is sent)
            await tree.close()
            await starting
            assert client.protocol_for_watches().watches.set_watches_paths()[4] == []
            await client.delete_recursive(base)
    run(main())


def test_coroutine_tree_listeners_get_events_in_order(zk_server: Any) -> None:
    async def main() -> None:
        base = "/aio-order-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(base)
            seen = []
            done = asyncio.get_running_loop().create_future()

            async def slow_listener(event: Any) -> None:
                if event.type == "added":
                    await asyncio.sleep(0.05)  # (work that takes a while)
                seen.append((event.type, event.path))
                if event.type == "removed" and not done.done():
                    done.set_result(None)

            tree = await client.tree_cache(base, slow_listener)
            await client.create(base + "/x")
            await client.delete(base + "/x")
            await asyncio.wait_for(done, 20)
            assert seen == [("added", base), ("initialized", None),
                            ("added", base + "/x"), ("removed", base + "/x")]
            await tree.close()
            await client.delete(base)
    run(main())


def test_a_cancelled_awaiter_leaves_the_watch_running(zk_server: Any) -> None:
    async def main() -> None:
        path = "/aio-dw-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            seen: "asyncio.Queue[Any]" = asyncio.Queue()
            watch = pykeeper.aio.DataWatch(client, path, lambda data, stat: seen.put_nowait(data))
            other = asyncio.ensure_future(_awaited(watch))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_awaited(watch), 0.00001)  # (its awaiter cancelled)
            assert await other is watch  # (another awaiter still gets the first call)
            assert not watch.stopped
            assert await next_item(seen) is None
            await client.create(path, b"later")
            assert await next_item(seen) == b"later"
            watch.stop()
            await client.delete(path)
    run(main())


async def _awaited(watch: Any) -> Any:
    return await watch
