"""Fixtures for the recipe tests: `make_any_client` is parametrized over the
sync client and the asyncio one (driven from the test's thread), and
`recipe(client, "Lock", path, ...)` makes the client's recipe with every
coroutine callable, blocking, from the test's thread, so one test body
proves both fronts."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any, Callable, Iterator, Optional

import pytest
from kazoo.client import KazooClient

import pykeeper

from ..support import WAIT, AsyncioFacade, Blocking, client_factory


@pytest.fixture
def kazoo(zk_server: Any) -> Iterator[KazooClient]:
    """A started kazoo client of the shared server (for interop tests); stopped after."""
    client = KazooClient(hosts=zk_server.hosts)
    client.start()
    yield client
    client.stop()
    client.close()


@pytest.fixture
def make_client(zk_server: Any) -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    """Factory of connected sync clients of the shared server; closed after."""
    yield from client_factory("sync", zk_server.hosts)


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest, zk_server: Any
                    ) -> Iterator[Callable[..., Any]]:
    """Like make_client, once with the sync client and once with the asyncio one."""
    yield from client_factory(request.param, zk_server.hosts)


def make_recipe(client: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """`client.<name>(*args, **kwargs)`; for the asyncio client, wrapped so
    its coroutines block the test's thread until done."""
    if isinstance(client, AsyncioFacade):
        return Blocking(getattr(client.aio, name)(*args, **kwargs), client._run)
    return getattr(client, name)(*args, **kwargs)


@pytest.fixture
def recipe() -> Callable[..., Any]:
    return make_recipe


@pytest.fixture
def path() -> str:
    """A path of this test's own (the recipe makes it)."""
    return "/recipe-" + uuid.uuid4().hex


class InThread:
    """`fn(*args)` run in a thread of its own from now on, keeping what it
    raised (`error`), for a test that ends a wait from outside."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, args=(fn, args))
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # (the test asserts on it)
            self.error = exc

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


async def wait_for_children(client: Any, path: str, count: int) -> None:
    """(asyncio) Return once `path` has `count` children, waiting on a
    children watch between looks."""
    while True:
        changed = asyncio.Event()
        children = await client.get_children(path, watcher=lambda event: changed.set())
        if len(children) == count:
            return
        await asyncio.wait_for(changed.wait(), WAIT)
