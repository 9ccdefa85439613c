"""Fixtures for the resilience tests: clients that record every state they
pass through, so a test can wait on a state instead of sleeping.

`make_client` makes sync clients; `make_any_client` is parametrized over
the sync client and the asyncio one, the latter driven from the test's
thread through `AsyncioFacade`, so one test body proves both."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Callable, Iterator, List

import pytest

import pykeeper
import pykeeper.aio

WAIT = 20.0


class StateLog:
    """A listener recording every state change, with waits on them."""

    def __init__(self) -> None:
        self.states: List[str] = []
        self._cond = threading.Condition()

    def __call__(self, state: pykeeper.State) -> None:
        with self._cond:
            self.states.append(state.value)
            self._cond.notify_all()

    def wait_for(self, state: str, after: int = 0, timeout: float = WAIT) -> int:
        """Wait until `state` was recorded at index >= `after`; returns its index."""
        def found() -> bool:
            return state in self.states[after:]
        with self._cond:
            if not self._cond.wait_for(found, timeout):
                raise AssertionError(f"no {state!r} within {timeout} s; saw {self.states}")
            return self.states.index(state, after)

    def mark(self) -> int:
        with self._cond:
            return len(self.states)


class Blocking:
    """An object of the asyncio client (a TreeCache) with each coroutine
    method callable (blocking) from the test's thread."""

    def __init__(self, target: Any, run: Callable[[Any], Any]) -> None:
        self._target = target
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._run(attr(*args, **kwargs))

        return call

    def __len__(self) -> int:
        return len(self._target)

    def __iter__(self) -> Any:
        return iter(self._target)

    def __contains__(self, path: object) -> bool:
        return path in self._target

    def __enter__(self) -> "Blocking":
        self._run(self._target.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._run(self._target.__aexit__(*exc))


class AsyncioFacade:
    """A pykeeper.aio.ZooKeeper on an event loop of its own thread, with
    each coroutine method callable (blocking) from the test's thread, and
    the helpers it makes (TreeCache, DataWatch, ChildrenWatch) started on
    the loop."""

    # The thread callbacks run on (as "pykeeper-events" for the sync client).
    callback_thread = "asyncio-loop"

    def __init__(self, hosts: str, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=self.callback_thread)
        self._thread.start()
        self.aio = pykeeper.aio.ZooKeeper(hosts, **kwargs)

    def _run(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.aio, name)
        if name in ("data_watch", "children_watch") or name.endswith("_async"):
            make = attr  # (must run on the loop; *_async returns a thread-safe future)

            async def started(*args: Any, **kwargs: Any) -> Any:
                made = make(*args, **kwargs)
                return made if name.endswith("_async") else await made  # (the first call)
            attr = started
        elif not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._run(attr(*args, **kwargs))
            if isinstance(result, pykeeper.aio.TreeCache):
                return Blocking(result, self._run)
            return result

        call.coroutine_function = attr  # type: ignore[attr-defined]
        return call

    def call_on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args), run on the loop (calls made there follow each other
        with no loop iteration, so no reply, in between)."""
        async def call() -> Any:
            return fn(*args)
        return self._run(call())

    def retry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._run(self.aio.retry(fn.coroutine_function, *args, **kwargs))

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._run(self.aio.close(timeout))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


def _factory(kind: str) -> Iterator[Callable[..., Any]]:
    made: List[Any] = []

    def make(hosts: str, **kwargs: Any) -> Any:
        kwargs.setdefault("connect_timeout", 1.0)
        if kind == "asyncio":
            client: Any = AsyncioFacade(hosts, **kwargs)
        else:
            client = pykeeper.ZooKeeper(hosts, **kwargs)
        client.log = StateLog()
        client.add_listener(client.log)
        made.append(client)
        client.connect()
        return client

    yield make
    for client in made:
        client.close(timeout=2.0)


@pytest.fixture
def make_client() -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    """Factory of connected sync clients, each with a `.log` StateLog; closed after."""
    yield from _factory("sync")


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Like make_client, once with the sync client and once with the asyncio one."""
    yield from _factory(request.param)
