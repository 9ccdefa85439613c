"""Fixtures for the synchronous client's integration tests.

Every test runs against a real ZooKeeper server from ``pykeeper.testing``
(the ``zk_server`` / ``zk_fresh_server`` / ``zk_proxy`` fixtures). Tests that
share ``zk_server`` work under their own ``base`` path, removed afterwards.
"""

from __future__ import annotations

import uuid
from typing import Callable, Iterator, List

import pytest

import pykeeper


@pytest.fixture
def client(zk_server) -> Iterator[pykeeper.ZooKeeper]:
    """A connected client of the shared server, closed after the test."""
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    zk.connect()
    try:
        yield zk
    finally:
        zk.close()


@pytest.fixture
def base(client: pykeeper.ZooKeeper) -> Iterator[str]:
    """A fresh node "/t-<uuid>" of this test's own, deleted (with everything
    below it, ephemeral nodes included) after the test."""
    path = "/t-" + uuid.uuid4().hex
    client.create(path)
    yield path
    if client.connected:
        client.delete_recursive(path, force=True)


@pytest.fixture
def make_client(zk_server) -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    """A factory of extra connected clients (of ``zk_server`` unless `hosts`
    is given); all are closed after the test."""
    made: List[pykeeper.ZooKeeper] = []

    def make(hosts: str = None, connect: bool = True, **kwargs) -> pykeeper.ZooKeeper:
        zk = pykeeper.ZooKeeper(hosts or zk_server.hosts, **kwargs)
        made.append(zk)
        if connect:
            zk.connect()
        return zk

    yield make
    for zk in made:
        zk.close()


# Clients of a server that a test restarts use connect_timeout=2.0: a
# connection opened in the first ~0.1 s after the server's port opens can
# hang until the client's connect timeout (default: the whole 10 s session
# timeout), which would make the test slow and its session likely to expire.
