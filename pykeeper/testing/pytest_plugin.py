"""pytest fixtures running real ZooKeeper servers (registered through the ``pytest11`` entry point).

- ``zk_server``: one standalone server shared by the whole session. Tests
  share its data, so each should work under its own paths; a test that
  needs to stop or restart a server uses ``zk_fresh_server`` instead.
- ``zk_fresh_server``: a standalone server of the test's own.
- ``zk_ensemble``: a 3-member ensemble of the test's own, already serving.
- ``zk_proxy``: a FaultProxy of the test's own in front of ``zk_server``.
- ``zk_tls_server``: a standalone server with a TLS port (``tls_hosts``),
  requiring client certificates, shared by the session; certificates are
  made for it (``ca_file``, ``client_cert``, ``client_key``,
  ``tls_options()``). ``zk_fresh_tls_server``: one of the test's own.
- ``zk_auth_server``: a standalone server of the test's own with a digest
  super user (``super_credentials``).
- ``zk_sasl_server``: a standalone server of the test's own taking SASL
  DIGEST-MD5 logins of the users "alice" and "bob" (``sasl_options(user)``).

Nothing starts unless a test asks for one of them; if Java or ZooKeeper is
missing, the test errors with ZooKeeperNotInstalled saying how to install them.
"""

from __future__ import annotations

import secrets
from typing import Iterator

import pytest

from .ensemble import ZooKeeperEnsemble
from .proxy import FaultProxy
from .server import ZooKeeperServer

__all__ = [
    "zk_auth_server", "zk_ensemble", "zk_fresh_server", "zk_fresh_tls_server", "zk_proxy",
    "zk_sasl_server", "zk_server", "zk_tls_server",
]


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


@pytest.fixture(scope="session")
def zk_tls_server() -> Iterator[ZooKeeperServer]:
    """A running server with a TLS port that requires client certificates,
    shared by every test of the session (connect to ``tls_hosts`` with
    ``**zk_tls_server.tls_options()``)."""
    with ZooKeeperServer(tls=True, client_auth="need") as server:
        yield server


@pytest.fixture
def zk_fresh_tls_server() -> Iterator[ZooKeeperServer]:
    """Like ``zk_tls_server``, for this test alone; it may stop or restart it."""
    with ZooKeeperServer(tls=True, client_auth="need") as server:
        yield server


@pytest.fixture
def zk_auth_server() -> Iterator[ZooKeeperServer]:
    """A running server of this test's own whose digest super user (pass
    ``server.super_credentials`` to ``add_auth("digest", ...)``) may do
    anything; it may stop or restart it."""
    with ZooKeeperServer(super_password=secrets.token_urlsafe(12)) as server:
        yield server


@pytest.fixture
def zk_sasl_server() -> Iterator[ZooKeeperServer]:
    """A running server of this test's own taking SASL DIGEST-MD5 logins of
    "alice" and "bob" (pass ``server.sasl_options(user)`` as a client's
    ``sasl_options``); it may stop or restart it."""
    users = {user: secrets.token_urlsafe(12) for user in ("alice", "bob")}
    with ZooKeeperServer(sasl_users=users) as server:
        yield server
