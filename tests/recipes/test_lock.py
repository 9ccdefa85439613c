"""Lock, ReadLock and WriteLock against a real server, on both clients."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from typing import Any, Callable, Iterator, List

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.recipes import CancelledError
from pykeeper.testing import expire_session

from ..support import WAIT, AsyncioFacade, Blocking
from .conftest import InThread, wait_for_children


def test_exclusion_and_fair_order(make_any_client: Callable[..., Any],
                                  recipe: Callable[..., Any], path: str) -> None:
    first = make_any_client()
    holder = recipe(first, "Lock", path, "holder")
    assert holder.acquire()
    assert holder.is_acquired
    clients = [make_any_client() for _ in range(3)]
    locks = [recipe(c, "Lock", path, f"w{i}") for i, c in enumerate(clients)]
    order: List[str] = []
    inside = []
    lock_of_log = threading.Lock()

    def contend(i: int) -> None:
        assert locks[i].acquire(timeout=WAIT)
        with lock_of_log:
            inside.append(i)
            assert len(inside) == 1, f"two holders: {inside}"
            order.append(f"w{i}")
            inside.remove(i)
        locks[i].release()

    threads = []
    for i in range(3):
        thread = threading.Thread(target=contend, args=(i,))
        thread.start()
        threads.append(thread)
        # Wait until this contender is queued before starting the next.
        pykeeper.testing.wait_until(lambda: len(holder.contenders()) == i + 2, WAIT)
    assert holder.contenders() == ["holder", "w0", "w1", "w2"]
    assert not recipe(first, "Lock", path).acquire(blocking=False)
    holder.release()
    for thread in threads:
        thread.join(WAIT)
    assert order == ["w0", "w1", "w2"]
    assert holder.contenders() == []


def test_reentrant_for_its_holder(make_any_client: Callable[..., Any],
                                  recipe: Callable[..., Any], path: str) -> None:
    """Re-entrant for the thread (sync) or the task (asyncio) holding it."""
    client = make_any_client()
    lock = recipe(client, "Lock", path)
    if isinstance(client, AsyncioFacade):
        aio_lock = client.aio.Lock(path)

        async def twice() -> bool:
            return await aio_lock.acquire() and await aio_lock.acquire()
        assert client._run(twice())
        lock = Blocking(aio_lock, client._run)
    else:
        assert lock.acquire() and lock.acquire()
    assert lock.release()
    other = recipe(make_any_client(), "Lock", path)
    assert not other.acquire(timeout=0.2)
    assert lock.release()
    assert other.acquire(timeout=WAIT)
    assert not lock.release()


def test_another_thread_waits_for_the_holder_of_the_same_object(
        make_client: Callable[..., Any], path: str) -> None:
    lock = make_client().Lock(path)
    lock.acquire()
    got = threading.Event()
    thread = threading.Thread(target=lambda: lock.acquire(timeout=WAIT) and got.set())
    thread.start()
    assert not got.wait(0.3)
    lock.release()
    assert got.wait(WAIT)
    thread.join(WAIT)


def test_timeout_and_cancel(make_any_client: Callable[..., Any],
                            recipe: Callable[..., Any], path: str) -> None:
    holder = recipe(make_any_client(), "Lock", path)
    holder.acquire()
    waiter = recipe(make_any_client(), "Lock", path)
    assert waiter.acquire(timeout=0.3) is False
    assert len(holder.contenders()) == 1  # the timed-out waiter left no node
    waiting = InThread(waiter.acquire)
    pykeeper.testing.wait_until(lambda: len(holder.contenders()) == 2, WAIT)
    waiter.cancel()
    waiting.join(WAIT)
    assert isinstance(waiting.error, CancelledError)
    assert len(holder.contenders()) == 1


def test_waiter_raises_when_its_session_expires(
        zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    holder = recipe(make_any_client(), "Lock", path)
    holder.acquire()
    client = make_any_client()
    waiter = recipe(client, "Lock", path)
    waiting = InThread(waiter.acquire)
    pykeeper.testing.wait_until(lambda: len(holder.contenders()) == 2, WAIT)
    expire_session(client, zk_server.hosts)
    waiting.join(WAIT)
    assert not waiting.is_alive()
    assert isinstance(waiting.error, pykeeper.SessionExpiredException)


def test_holder_is_told_it_lost_the_lock(
        zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    lock = recipe(client, "Lock", path, "me")
    events: List[str] = []
    lost = threading.Event()

    def listen(event: str) -> None:
        events.append(event)
        if event == "lost":
            lost.set()

    lock.add_listener(listen)
    lock.acquire()
    expire_session(client, zk_server.hosts)
    assert lost.wait(WAIT)
    assert not lock.is_acquired
    assert "lost" in events
    other = recipe(make_any_client(), "Lock", path)
    assert other.acquire(timeout=WAIT)


def test_a_deleted_predecessor_is_a_release(make_any_client: Callable[..., Any],
                                            recipe: Callable[..., Any], path: str) -> None:
    admin = make_any_client()
    holder = recipe(make_any_client(), "Lock", path)
    holder.acquire()
    waiter = recipe(make_any_client(), "Lock", path)
    done = threading.Event()

    def wait() -> None:
        if waiter.acquire(timeout=WAIT):
            done.set()

    thread = threading.Thread(target=wait)
    thread.start()
    pykeeper.testing.wait_until(lambda: len(holder.contenders()) == 2, WAIT)
    first = sorted(admin.get_children(path), key=lambda n: n[-10:])[0]
    admin.delete(f"{path}/{first}")
    assert done.wait(WAIT)
    thread.join(WAIT)


def test_readers_share_writers_exclude(make_any_client: Callable[..., Any],
                                       recipe: Callable[..., Any], path: str) -> None:
    r1 = recipe(make_any_client(), "ReadLock", path)
    r2 = recipe(make_any_client(), "ReadLock", path)
    w = recipe(make_any_client(), "WriteLock", path)
    assert r1.acquire(timeout=WAIT) and r2.acquire(timeout=WAIT)
    assert not w.acquire(timeout=0.2)
    got = threading.Event()
    thread = threading.Thread(target=lambda: w.acquire(timeout=WAIT) and got.set())
    thread.start()
    pykeeper.testing.wait_until(lambda: len(r1.contenders()) == 3, WAIT)
    # A reader coming after a waiting writer waits for it: writers are not starved.
    late = recipe(make_any_client(), "ReadLock", path)
    assert not late.acquire(timeout=0.2)
    r1.release()
    r2.release()
    assert got.wait(WAIT)
    thread.join(WAIT)
    assert not late.acquire(timeout=0.2)
    w.release()
    assert late.acquire(timeout=WAIT)


def test_bad_arguments_are_refused_before_anything_is_sent(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any]) -> None:
    client = make_any_client()
    with pytest.raises(ValueError, match="absolute"):
        recipe(client, "Lock", "relative")
    with pytest.raises(TypeError, match="identifier"):
        recipe(client, "Lock", "/x", 5)
    with pytest.raises(ValueError, match="timeout"):
        recipe(client, "Lock", "/x").acquire(timeout=-1)


def test_a_cancelled_asyncio_acquire_deletes_its_node(zk_server: Any, path: str) -> None:
    """Cancelling the task of a waiting acquire runs the recipe's clean-up:
    no node of it is left to block the lock."""
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as a, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            holder = a.Lock(path)
            await holder.acquire()
            task = asyncio.ensure_future(b.Lock(path).acquire())
            await wait_for_children(a, path, 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(await a.get_children(path)) == 1
            await holder.release()
            assert await a.get_children(path) == []

    asyncio.run(main())


def test_an_asyncio_acquire_cancelled_at_any_step_leaves_no_node(
        zk_server: Any, path: str) -> None:
    """A cancel that lands while the contender's create is in flight (its
    reply lost to the task) still deletes the node the create made."""
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as a, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            holder = a.Lock(path)
            await holder.acquire()
            for turns in range(12):
                task = asyncio.ensure_future(b.Lock(path).acquire())
                for _ in range(turns):
                    await asyncio.sleep(0)  # (a loop turn, not a timed wait)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert len(await b.get_children(path)) == 1, f"cancelled after {turns} turns"
            await holder.release()

    asyncio.run(main())


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[Callable[[], None]]:
    """Meanwhile SIGINT raises KeyboardInterrupt in the main thread (a test
    runner may have set it otherwise); yields `interrupt()`, which sends the
    main thread one SIGINT, from any thread."""
    main = threading.get_ident()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield lambda: signal.pthread_kill(main, signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def wait_for_contenders(client: Any, path: str, count: int) -> None:
    """Return once the lock at `path` has `count` contender nodes (or WAIT s passed)."""
    deadline = time.monotonic() + WAIT
    while len(client.get_children(path)) < count and time.monotonic() < deadline:
        client.sync(path)  # (a round trip between looks, not a timed wait)


def test_ctrl_c_in_a_waiting_sync_acquire_takes_its_node_back(
        make_client: Callable[..., Any], path: str) -> None:
    """A KeyboardInterrupt in the wait runs the recipe's clean-up, as a
    cancel does: no node of the interrupted waiter is left to hold the
    lock for others while its session lives on."""
    holder, waiter = make_client(), make_client()
    held = holder.Lock(path)
    held.acquire()
    waiting = threading.Event()
    with ctrl_c_raises() as interrupt:
        def interrupt_once_it_waits() -> None:
            wait_for_contenders(holder, path, 2)
            waiting.set()
            interrupt()

        thread = threading.Thread(target=interrupt_once_it_waits)
        try:
            thread.start()
            with pytest.raises(KeyboardInterrupt):
                waiter.Lock(path).acquire()
        finally:
            thread.join(WAIT)
    assert waiting.is_set()
    assert len(holder.get_children(path)) == 1
    held.release()
    assert waiter.Lock(path).acquire(timeout=WAIT)  # (nothing of the first waiter in the way)


def test_ctrl_c_while_disconnected_is_raised_after_the_clean_up_gives_up(
        make_client: Callable[..., Any], zk_server: Any, zk_proxy: Any, path: str) -> None:
    """The clean-up (deleting the waiter's node) waits for the connection
    only as long as the retry policy lets it; then the KeyboardInterrupt,
    not the clean-up's ConnectionLossException, is what the caller gets."""
    holder = make_client()
    held = holder.Lock(path)
    held.acquire()
    waiter = make_client(zk_proxy.hosts, retry=pykeeper.RetryPolicy(deadline=1.0))
    cut = threading.Event()
    waiter.add_listener(lambda state: cut.set() if state == "connecting" else None)
    with ctrl_c_raises() as interrupt:
        def cut_then_interrupt() -> None:
            wait_for_contenders(holder, path, 2)
            zk_proxy.refuse()
            cut.wait(WAIT)
            interrupt()

        thread = threading.Thread(target=cut_then_interrupt)
        try:
            thread.start()
            with pytest.raises(KeyboardInterrupt):
                waiter.Lock(path).acquire()
        finally:
            thread.join(WAIT)
            zk_proxy.heal()
    assert cut.is_set()
    held.release()


def test_ctrl_c_as_a_sync_latch_starts_takes_the_start_back(
        make_client: Callable[..., Any], path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pykeeper.recipes.latch import LeaderLatchBase
    client = make_client()
    checks: List[int] = []
    check = LeaderLatchBase._check

    def slow_first_check(self: Any) -> Any:
        checks.append(1)
        if len(checks) == 1:  # (the first check, right after start's Detach)
            interrupt()
            gate.wait(WAIT)
        return (yield from check(self))

    gate = threading.Event()
    monkeypatch.setattr(LeaderLatchBase, "_check", slow_first_check)
    latch = client.LeaderLatch(path, "me")
    with ctrl_c_raises() as interrupt:
        try:
            with pytest.raises(KeyboardInterrupt):
                latch.start()
        finally:
            gate.set()
    # The start raised, so it was taken back (no node to block leadership),
    # and it may be tried again.
    assert client.get_children(path) == [] and not latch.is_leader
    latch.start()
    assert latch.wait_for_leadership(WAIT)
    latch.close()
    assert client.get_children(path) == []
