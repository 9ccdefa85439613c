"""The helper steps and their two drivers, with a fake client answering
operations at once (no server): what each step returns and raises, waits
with deadlines, Detach, and a parked helper resumed by a fire."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Generator, List, Optional

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.core import operations as ops
from pykeeper.protocol import requests as rq
from pykeeper.protocol.errors import NoNodeException
from pykeeper.core.steps import (
    AsyncioDriver, Call, Callback, Detach, Helper, Signal, Sleep, Step, ThreadDriver,
    WaitForEvent,
)


class FakeClient:
    """Answers GetData with (path bytes, None); NoNode for "/missing"."""

    session_timeout = 10.0
    max_data_size = 1 << 20
    session_id = 1
    connected = True
    last_zxid = 0

    def __init__(self) -> None:
        self.sent: List[rq.Request] = []
        self.retried = 0
        self.queued: List[Any] = []

    def add_listener(self, listener: Callable[[Any], Any]) -> None:
        pass

    def remove_listener(self, listener: Callable[[Any], Any]) -> None:
        pass

    def start_operation(self, op: Any) -> "Future[Any]":
        assert isinstance(op, rq.GetData)
        self.sent.append(op)
        future: "Future[Any]" = Future()
        if op.path == "/missing":
            future.set_exception(NoNodeException(path=op.path))
        else:
            future.set_result((op.path.encode(), None))
        return future

    def run_operation(self, op: Any) -> Any:
        return self.start_operation(op).result()

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        self.queued.append((fn, args))
        fn(*args)
        return True

    def retry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.retried += 1
        return fn(*args)

    def remove_watches(self, path: str, watcher: Any = None, kind: str = "any") -> Any:
        raise AssertionError("not used here")


class AsyncFakeClient(FakeClient):
    async def retry(self, fn: Callable[..., Any], *args: Any,
                    **kwargs: Any) -> Any:
        self.retried += 1
        return await fn(*args)


def get(client: Any, path: str) -> rq.Request:
    return rq.GetData(path)


def helper(log: List[Any], signal: Signal) -> Helper[str]:
    log.append((yield Call(get, "/a", retry=True)))
    try:
        yield Call(get, "/missing")
    except NoNodeException as exc:
        log.append(type(exc).__name__)
    log.append((yield Callback(lambda x: x * 2, 21)))
    log.append((yield WaitForEvent(signal, deadline=time.monotonic() + 0.01)))
    seen = signal.generation
    signal.fire()
    log.append((yield WaitForEvent(signal, after=seen)))  # fired since: at once
    log.append((yield Sleep(0)))
    return "done"


def test_thread_driver_runs_each_step() -> None:
    client, signal = FakeClient(), Signal()
    log: List[Any] = []
    assert ThreadDriver(client).run(helper(log, signal)) == "done"
    assert log == [(b"/a", None), "NoNodeException", 42, False, True, None]
    assert client.retried == 1 and len(client.sent) == 2


def test_asyncio_driver_runs_each_step() -> None:
    client, signal = AsyncFakeClient(), Signal()
    log: List[Any] = []
    result = asyncio.run(AsyncioDriver(client).run(helper(log, signal)))
    assert result == "done"
    assert log == [(b"/a", None), "NoNodeException", 42, False, True, None]
    assert client.retried == 1


def background(log: List[Any], signal: Signal, fail_first: bool = False,
               logged: Callable[[], Any] = lambda: None) -> Helper[None]:
    if fail_first:
        yield Call(get, "/missing")
    log.append("first")
    yield Detach()
    while True:
        fired = yield WaitForEvent(signal)
        log.append((fired, threading.current_thread().name))
        yield Callback(logged)
        if len(log) == 3:
            return


def test_thread_driver_start_parks_after_detach_and_resumes_in_the_firing_thread() -> None:
    client, signal = FakeClient(), Signal()
    log: List[Any] = []
    ThreadDriver(client).start(background(log, signal))
    assert log == ["first"]  # returned at Detach; parked, no thread blocked
    done = threading.Event()

    def fire() -> None:
        signal.fire()
        done.set()

    thread = threading.Thread(target=fire, name="firer")
    thread.start()
    assert done.wait(5)
    thread.join(5)
    signal.fire()
    assert log == ["first", (True, "firer"), (True, threading.current_thread().name)]
    with pytest.raises(NoNodeException):  # an error before Detach is the starter's
        ThreadDriver(client).start(background([], signal, fail_first=True))


def test_asyncio_driver_start_resolves_at_detach() -> None:
    async def main() -> None:
        client, signal = AsyncFakeClient(), Signal()
        log: List[Any] = []
        driver = AsyncioDriver(client)
        logged: "asyncio.Queue[int]" = asyncio.Queue()
        await driver.start(background(log, signal, logged=lambda: logged.put_nowait(1)))
        assert log == ["first"]
        signal.fire()
        await asyncio.wait_for(logged.get(), 5)
        signal.fire()
        await asyncio.wait_for(asyncio.gather(*driver._tasks), 5)
        assert [entry[0] for entry in log[1:]] == [True, True]
        with pytest.raises(NoNodeException):
            await driver.start(background([], signal, fail_first=True))
    asyncio.run(main())


def test_a_deadline_in_the_background_resumes_with_false() -> None:
    client, signal = FakeClient(), Signal()
    log: List[Any] = []
    resumed = threading.Event()

    def waiting() -> Generator[Step, Any, None]:
        yield Detach()
        log.append((yield WaitForEvent(signal, deadline=time.monotonic() + 0.05)))
        resumed.set()

    ThreadDriver(client).start(waiting())
    assert resumed.wait(5)
    assert log == [False] and signal._waiters == []


# -- a recipe-like helper against a real server, driven by each client -------------------

def wait_for_delete(path: str, timeout: float) -> Helper[bool]:
    """Written once: True once `path` is gone, False after `timeout` s.
    The Signal is the exists watch's watcher."""
    signal = Signal()
    deadline = time.monotonic() + timeout
    while True:
        seen = signal.generation
        stat = yield Call(ops.exists, path, signal)
        if stat is None:
            return True
        if not (yield WaitForEvent(signal, deadline, after=seen)):
            return False


def test_a_helper_waits_on_a_watch_with_the_sync_client(zk_server: Any) -> None:
    path = "/steps-" + uuid.uuid4().hex
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        client.create(path)
        driver = ThreadDriver(client)
        assert driver.run(wait_for_delete(path, 0.05)) is False  # (the deadline)
        result: List[bool] = []
        waiter = threading.Thread(target=lambda: result.append(
            driver.run(wait_for_delete(path, 20))))
        waiter.start()
        client.delete(path)
        waiter.join(20)
        assert result == [True]


def test_a_helper_waits_on_a_watch_with_the_asyncio_client(zk_server: Any) -> None:
    async def main() -> None:
        path = "/steps-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(path)
            driver = AsyncioDriver(client)
            assert await driver.run(wait_for_delete(path, 0.05)) is False
            waiting = asyncio.ensure_future(driver.run(wait_for_delete(path, 20)))
            await client.delete(path)
            assert await asyncio.wait_for(waiting, 20) is True
    asyncio.run(main())


def test_a_sync_helpers_calls_read_their_own_replies(zk_server: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # (The driver's calls are blocking calls, as zk.get() is, not a hand-off
    # to the I/O thread and back: a Counter step costs what the calls cost.)
    path = "/steps-" + uuid.uuid4().hex
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        counter = client.Counter(path)
        counter.add(1)
        connection = client._connection
        read_by: List[threading.Thread] = []
        original = connection._read_until

        def spy(reply: Any, *claim: Any) -> Any:
            read_by.append(threading.current_thread())
            return original(reply, *claim)

        monkeypatch.setattr(connection, "_read_until", spy)
        for _ in range(100):
            counter.add(1)
        assert counter.value == 101
        # (A caller descheduled past the I/O thread's linger has one call
        # read by the I/O thread; most must not be.)
        assert len(read_by) >= 100 and set(read_by) == {threading.current_thread()}
        client.delete(path)


def test_a_start_cancelled_as_it_detaches_does_not_wait_for_its_background_part() -> None:
    """A helper with nothing to take back goes on past its Detach; its
    starter, cancelled just before, raises CancelledError at once instead
    of waiting for the background part to end."""
    async def main() -> None:
        driver = AsyncioDriver(AsyncFakeClient())
        signal = Signal()
        caller: "Optional[asyncio.Future[None]]" = None

        def cancel_caller() -> None:
            assert caller is not None
            caller.cancel()

        def helper() -> Any:
            yield Callback(cancel_caller)
            yield Detach()
            yield WaitForEvent(signal)

        caller = asyncio.ensure_future(driver.run_until_detached(helper(), None))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(caller), 5)
        signal.fire()
        await driver.wait(5)

    asyncio.run(main())
