"""Real ZooKeeper servers, ensembles and a fault-injecting proxy, for tests.

    from pykeeper.testing import ZooKeeperServer

    with ZooKeeperServer() as server:
        client = pykeeper.ZooKeeper(server.hosts)

Servers that authenticate clients: ``ZooKeeperServer(sasl_users={...})``
(SASL DIGEST-MD5), ``ZooKeeperServer(kerberos=KerberosRealm())`` (GSSAPI,
with a real MIT KDC), ``ZooKeeperServer(tls=True)`` (x509 certificates).

Every server process is killed, and every temporary directory removed, when
its object is closed or at interpreter exit; on Linux a server also dies with
the Python process that started it, even on SIGKILL. The pytest fixtures
(``zk_server``, ``zk_fresh_server``, ``zk_ensemble``, ``zk_proxy``,
``zk_tls_server``, ``zk_fresh_tls_server``, ``zk_auth_server``,
``zk_sasl_server``) live in
``pykeeper.testing.pytest_plugin``, registered automatically with pytest.
"""

from __future__ import annotations

from ._install import ZooKeeperNotInstalled
from ._ports import free_port, free_ports
from ._wait import wait_until
from .certs import Certificates, OpenSSLNotInstalled, make_certificates, make_client_certificate
from .ensemble import ZooKeeperEnsemble
from .kerberos import KerberosNotInstalled, KerberosRealm
from .proxy import FaultProxy
from .server import ServerStartError, ZooKeeperServer
from .sessions import expire_session

__all__ = [
    "Certificates",
    "FaultProxy",
    "KerberosNotInstalled",
    "KerberosRealm",
    "OpenSSLNotInstalled",
    "ServerStartError",
    "ZooKeeperEnsemble",
    "ZooKeeperNotInstalled",
    "ZooKeeperServer",
    "expire_session",
    "free_port",
    "free_ports",
    "make_certificates",
    "make_client_certificate",
    "wait_until",
]
