"""pytest fixtures running real ZooKeeper servers (registered through the ``pytest11`` entry point).

- ``zk_server``: one standalone server shared by the whole session. Tests
  share its data, so each should work under its own paths; a test that
  needs to stop or restart a server uses ``zk_fresh_server`` instead.
- ``zk_fresh_server``: a standalone server of the test's own.
- ``zk_ensemble``: a 3-member ensemble of the test's own, already serving.
- ``zk_proxy``: a FaultProxy of the test's own in front of ``zk_server``.

Nothing starts unless a test asks for one of them; if Java or ZooKeeper is
missing, the test errors with ZooKeeperNotInstalled saying how to install them.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .ensemble import ZooKeeperEnsemble
from .proxy import FaultProxy
from .server import ZooKeeperServer


@pytest.fixture(scope="session")
def zk_server() -> Iterator[ZooKeeperServer]:
    """A running standalone server shared by every test of the session."""
    with ZooKeeperServer() as server:
        yield server


@pytest.fixture
def zk_fresh_server() -> Iterator[ZooKeeperServer]:
    """A running standalone server for this test alone; it may stop or restart it."""
    with ZooKeeperServer() as server:
        yield server


@pytest.fixture
def zk_ensemble() -> Iterator[ZooKeeperEnsemble]:
    """A serving 3-member ensemble for this test alone."""
    with ZooKeeperEnsemble(3) as ensemble:
        yield ensemble


@pytest.fixture
def zk_proxy(zk_server: ZooKeeperServer) -> Iterator[FaultProxy]:
    """A FaultProxy forwarding to ``zk_server``; connect clients to ``zk_proxy.hosts``."""
    with FaultProxy(zk_server.hosts) as proxy:
        yield proxy
