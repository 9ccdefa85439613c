"""Queue and LockingQueue against a real server, on both clients: order by
priority then arrival, checks before sending, blocking gets and cancel,
leases released, consumed and lost with a session, kazoo on the same
queues, and every item delivered exactly once while connections drop."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any, Callable, List, Set

import pytest
from kazoo.client import KazooClient

import pykeeper
import pykeeper.aio
from pykeeper.recipes import CancelledError
from pykeeper.testing import FaultProxy, expire_session

from ..support import WAIT
from .conftest import InThread


def test_items_come_out_by_priority_then_arrival(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    queue = recipe(client, "Queue", path)
    queue.put(b"first")
    queue.put(b"second")
    queue.put(b"urgent", priority=5)
    queue.put_all([b"late-1", b"late-2"], priority=999)
    assert queue.count() == 5
    assert [queue.get() for _ in range(6)] == [
        b"urgent", b"first", b"second", b"late-1", b"late-2", None]
    # Receipts are deleted once each outcome is known (before the next reply).
    assert client.get_children(f"{path}.receipts") == []


def test_bad_items_and_priorities_raise_before_anything_is_sent(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    for name in ("Queue", "LockingQueue"):
        queue = recipe(client, name, path)
        with pytest.raises(TypeError, match="bytes"):
            queue.put("text")
        with pytest.raises(ValueError, match="999"):
            queue.put(b"x", priority=1000)
        with pytest.raises(TypeError, match="priority"):
            queue.put(b"x", priority=True)
        with pytest.raises(TypeError, match="list"):
            queue.put_all(b"not a list")
        with pytest.raises(TypeError, match="bytes"):
            queue.put_all([b"fine", 3])
        with pytest.raises(ValueError, match="timeout"):
            queue.get(timeout=-1)
    assert client.exists(path) is None  # (nothing was sent: not even the path made)


def test_put_all_over_one_transaction_raises_before_sending(
        make_client: Callable[..., Any], path: str) -> None:
    client = make_client()
    queue = client.Queue(path)
    big = b"x" * (client.max_data_size // 2)
    with pytest.raises(ValueError, match="one transaction"):
        queue.put_all([b"small", big, big, big])
    assert client.exists(path) is None
    queue.put_all([b"a", b"b"])
    assert len(queue) == 2


def test_a_blocking_get_waits_for_a_put_and_times_out(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    consumer = recipe(make_any_client(), "Queue", path)
    producer = recipe(make_any_client(), "Queue", path)
    assert consumer.get(block=True, timeout=0.2) is None
    got: List[Any] = []
    waiting = InThread(lambda: got.append(consumer.get(block=True, timeout=WAIT)))
    producer.put(b"job")
    waiting.join(WAIT)
    assert waiting.error is None and got == [b"job"]


def test_cancel_ends_a_blocking_get(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    for name, get in (("Queue", lambda q: q.get(block=True)), ("LockingQueue", lambda q: q.get())):
        queue = recipe(make_any_client(), name, path + name)
        waiting = InThread(get, queue)
        # A get that starts after a cancel() clears it (a new wait), so cancel
        # until the thread ends; each join returns as soon as it does.
        until = time.monotonic() + WAIT
        while waiting.is_alive() and time.monotonic() < until:
            queue.cancel()
            waiting.join(0.05)
        assert not waiting.is_alive()
        assert isinstance(waiting.error, CancelledError)


def test_two_consumers_never_get_the_same_item(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    producer = recipe(make_any_client(), "Queue", path)
    producer.put_all([str(i).encode() for i in range(60)])
    consumers = [recipe(make_any_client(), "Queue", path) for _ in range(3)]
    got: List[List[bytes]] = [[] for _ in consumers]

    def drain(queue: Any, into: List[bytes]) -> None:
        while True:
            item = queue.get()
            if item is None:
                return
            into.append(item)

    threads = [InThread(drain, q, into) for q, into in zip(consumers, got)]
    for thread in threads:
        thread.join(WAIT)
        assert thread.error is None
    everything = [item for items in got for item in items]
    assert sorted(everything) == sorted(str(i).encode() for i in range(60))
    for items in got:  # each consumer saw its share in queue order
        assert items == sorted(items, key=int)


def test_locking_queue_lease_release_and_consume(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    mine = recipe(make_any_client(), "LockingQueue", path)
    theirs = recipe(make_any_client(), "LockingQueue", path)
    mine.put(b"a")
    mine.put(b"b")
    assert mine.get(timeout=WAIT) == b"a"
    assert mine.get(timeout=WAIT) == b"a"  # (held, not consumed: the same item again)
    assert mine.holds_lock()
    assert theirs.get(timeout=WAIT) == b"b"  # (a is leased to mine)
    assert theirs.release()
    assert not theirs.release() and not theirs.holds_lock()
    assert mine.count() == 2
    assert mine.consume()
    assert not mine.consume()
    assert mine.count() == 1
    assert theirs.get(timeout=WAIT) == b"b"
    assert theirs.consume()
    assert mine.get(timeout=0.2) is None
    assert mine.count() == 0


def test_a_lease_goes_with_its_session_and_the_item_is_offered_again(
        zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    mine = recipe(client, "LockingQueue", path)
    lost = threading.Event()
    mine.add_listener(lambda event: lost.set() if event == "lost" else None)
    mine.put(b"job")
    assert mine.get(timeout=WAIT) == b"job"
    other = recipe(make_any_client(), "LockingQueue", path)
    got: List[Any] = []
    waiting = InThread(lambda: got.append(other.get(timeout=WAIT)))
    expire_session(client, zk_server.hosts)
    waiting.join(WAIT)
    assert got == [b"job"]
    assert lost.wait(WAIT)
    client.wait_until_connected(WAIT)
    assert not mine.consume()  # (the lease is gone: consuming would take another's item)
    assert other.consume()
    assert other.count() == 0


def test_kazoo_and_pykeeper_share_both_queues(
        kazoo: KazooClient, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    ours, theirs = recipe(client, "Queue", path), kazoo.Queue(path)
    theirs.put(b"k-100")
    ours.put(b"p-100")
    theirs.put(b"k-1", priority=1)
    ours.put(b"p-50", priority=50)
    assert len(theirs) == ours.count() == 4
    assert [ours.get(), theirs.get(), ours.get(), theirs.get()] == [
        b"k-1", b"p-50", b"k-100", b"p-100"]
    assert theirs.get() is None and ours.get() is None

    ours_l = recipe(client, "LockingQueue", path + "-l")
    theirs_l = kazoo.LockingQueue(path + "-l")
    theirs_l.put(b"k")
    ours_l.put_all([b"p1", b"p2"], priority=200)
    assert len(theirs_l) == ours_l.count() == 3
    assert theirs_l.get(WAIT) == b"k"
    assert ours_l.get(timeout=WAIT) == b"p1"  # (k is leased by kazoo)
    assert theirs_l.consume() and ours_l.consume()
    assert theirs_l.get(WAIT) == b"p2"
    assert ours_l.get(timeout=0.2) is None
    assert theirs_l.consume()
    assert len(theirs_l) == 0


@pytest.mark.parametrize("kind", ["Queue", "LockingQueue"])
def test_every_item_is_delivered_exactly_once_while_connections_drop(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str, kind: str) -> None:
    """Puts and takes retried after lost replies apply once: what came out
    is what went in, no item twice, none missing."""
    items = 150
    policy = pykeeper.RetryPolicy(max_tries=None, deadline=60.0, delay=0.01)
    producers = [recipe(make_any_client(zk_proxy.hosts, retry=policy, session_timeout=10.0),
                        kind, path) for _ in range(2)]
    consumers = [recipe(make_any_client(zk_proxy.hosts, retry=policy, session_timeout=10.0),
                        kind, path) for _ in range(2)]
    got: List[List[bytes]] = [[] for _ in consumers]
    produced = threading.Event()
    stop = threading.Event()
    drops: List[int] = []

    def produce(queue: Any, n: int) -> None:
        for i in range(items // 2):
            queue.put(f"{n}-{i}".encode(), priority=i % 3)

    def consume(queue: Any, into: List[bytes]) -> None:
        while True:
            item = queue.get(block=True, timeout=0.5) if kind == "Queue" \
                else queue.get(timeout=0.5)
            if item is None:
                if produced.is_set() and queue.count() == 0:
                    return
                continue
            into.append(item)
            if kind == "LockingQueue":
                assert queue.consume()

    def chaos() -> None:
        rng = random.Random(3)
        while not stop.wait(rng.uniform(0.02, 0.15)):
            drops.append(zk_proxy.drop_all())

    dropper = threading.Thread(target=chaos, daemon=True)
    dropper.start()
    try:
        making = [InThread(produce, q, n) for n, q in enumerate(producers)]
        taking = [InThread(consume, q, into) for q, into in zip(consumers, got)]
        for thread in making:
            thread.join(120)
            assert thread.error is None and not thread.is_alive()
        produced.set()
        for thread in taking:
            thread.join(120)
            assert thread.error is None and not thread.is_alive()
    finally:
        stop.set()
        dropper.join(WAIT)
    assert sum(drops) >= 5, f"too few connections dropped to prove anything: {drops}"
    everything = [item for items_ in got for item in items_]
    expected = {f"{n}-{i}".encode() for n in range(2) for i in range(items // 2)}
    assert len(everything) == len(set(everything)), "an item was delivered twice"
    assert set(everything) == expected, f"missing: {sorted(expected - set(everything))[:5]}"


def test_an_asyncio_get_cancelled_at_any_step_loses_no_item(zk_server: Any, path: str) -> None:
    """A take cancelled while its multi is in flight (the reply lost to the
    task) puts the item back; a LockingQueue lease taken so is let go."""
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            queue = client.Queue(path)
            locking = client.LockingQueue(path + "-l")
            total = 12
            await queue.put_all([str(i).encode() for i in range(total)])
            await locking.put_all([str(i).encode() for i in range(total)])
            got: Set[bytes] = set()
            for turns in range(total):
                for get in (queue.get, locking.get):
                    task = asyncio.ensure_future(get())
                    for _ in range(turns):
                        await asyncio.sleep(0)  # (a loop turn, not a timed wait)
                    task.cancel()
                    try:
                        item = await task
                    except asyncio.CancelledError:
                        continue
                    if get == queue.get:
                        assert item is not None
                        got.add(item)
                    else:
                        assert await locking.release()
            left = set()
            while (item := await queue.get()) is not None:
                left.add(item)
            assert len(got) + len(left) == total and got | left == {
                str(i).encode() for i in range(total)}
            assert await client.get_children(path + "-l/taken") == []
            assert await locking.count() == total

    asyncio.run(main())
