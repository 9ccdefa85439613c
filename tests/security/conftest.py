"""Fixtures of the security tests: a client of either kind, connected or not."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import pykeeper

from ..support import AsyncioFacade, client_factory


@pytest.fixture(params=["sync", "asyncio"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which client a test runs with: "sync" or "asyncio"."""
    return str(request.param)


@pytest.fixture
def make_client(kind: str) -> Iterator[Callable[..., Any]]:
    """make(hosts, **kwargs): a connected client of this test's kind."""
    yield from client_factory(kind)


@pytest.fixture
def unconnected(kind: str) -> Iterator[Callable[..., Any]]:
    """make(hosts, **kwargs): a client of this test's kind not yet connected
    (closed at the end)."""
    made = []

    def make(hosts: str, **kwargs: Any) -> Any:
        kwargs.setdefault("connect_timeout", 1.0)
        client = AsyncioFacade(hosts, **kwargs) if kind == "asyncio" \
            else pykeeper.ZooKeeper(hosts, **kwargs)
        made.append(client)
        return client
    yield make
    for client in made:
        client.close(timeout=2.0)
