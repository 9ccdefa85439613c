"""Fixtures for the cache and watch-helper tests: real servers only.

``client`` is a connected client of the shared server; ``writer`` another
one (the "other client" making changes); ``base`` a fresh node of the
test's own; ``make_client`` more clients (of the shared server, or of a
FaultProxy's hosts), each recording the states it passes through in
``.log`` so a test can wait on a state instead of sleeping.
"""

from __future__ import annotations

import uuid
import pytest
from typing import Any, Callable, Iterator

import pykeeper

from ..support import client_factory


@pytest.fixture
def make_client(zk_server: Any) -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    yield from client_factory("sync", zk_server.hosts)


@pytest.fixture
def client(make_client: Any) -> pykeeper.ZooKeeper:
    return make_client()


@pytest.fixture
def writer(make_client: Any) -> pykeeper.ZooKeeper:
    return make_client()


@pytest.fixture
def base(writer: Any) -> Iterator[str]:
    """A fresh node "/c-<uuid>", removed with everything below it afterwards."""
    path = "/c-" + uuid.uuid4().hex
    writer.create(path)
    yield path
    if writer.connected:
        writer.delete_recursive(path, force=True)


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest,
                    zk_server: Any) -> Iterator[Callable[..., object]]:
    """Like make_client, once with the sync client and once with the asyncio
    one (driven from the test's threads through an AsyncioFacade)."""
    yield from client_factory(request.param, zk_server.hosts)
