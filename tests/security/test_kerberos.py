"""SASL GSSAPI against a real MIT Kerberos KDC (Debian's krb5-kdc) and a
server logged in as zookeeper/localhost from its keytab, for both
clients: a principal reads the node its `sasl:` ACL protects, a stale key
or missing credentials end in auth_failed, and the identity comes back
after a server restart and after a session expiry."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import pykeeper
from pykeeper import make_sasl_acl
from pykeeper.testing import KerberosRealm, ZooKeeperServer, expire_session

from ..support import WAIT

GSSAPI = {"mechanism": "GSSAPI"}


@pytest.fixture(scope="module")
def realm() -> Iterator[KerberosRealm]:
    pytest.importorskip("gssapi", reason="make test installs it (pykeeper[gssapi])")
    with KerberosRealm() as made:
        yield made


@pytest.fixture
def server(realm: KerberosRealm) -> Iterator[ZooKeeperServer]:
    with ZooKeeperServer(kerberos=realm) as made:
        yield made


def login(monkeypatch: Any, realm: KerberosRealm, principal: str) -> None:
    """Make this process's Kerberos library log in as `principal`."""
    for name, value in realm.client_environment(principal).items():
        monkeypatch.setenv(name, value)


def test_a_principal_reads_the_node_its_sasl_acl_protects(
        realm: KerberosRealm, server: ZooKeeperServer, make_client: Callable[..., Any],
        monkeypatch: Any) -> None:
    login(monkeypatch, realm, "app")
    app = make_client(server.kerberos_hosts, sasl_options=GSSAPI)
    assert app.state_name == "connected" and app.sasl_mechanism == "GSSAPI"
    app.create("/apps", b"for app", acl=[make_sasl_acl(realm.principal("app"), all=True)])
    assert app.get("/apps")[0] == b"for app"

    login(monkeypatch, realm, "other")
    other = make_client(server.kerberos_hosts, sasl_options=GSSAPI)
    with pytest.raises(pykeeper.NoAuthException):
        other.get("/apps")
    explicit = make_client(server.kerberos_hosts, sasl_options=dict(
        GSSAPI, principal=realm.principal("other"), service="zookeeper"))
    with pytest.raises(pykeeper.NoAuthException):
        explicit.get("/apps")


def test_a_stale_key_ends_in_auth_failed(realm: KerberosRealm, server: ZooKeeperServer,
                                         kind: str, unconnected: Callable[..., Any],
                                         monkeypatch: Any) -> None:
    login(monkeypatch, realm, f"stale-{kind}")
    realm.rekey(f"stale-{kind}")  # (the keytab now holds a key the KDC no longer has)
    client = unconnected(server.kerberos_hosts, sasl_options=GSSAPI)
    with pytest.raises(pykeeper.AuthFailedException, match="Kerberos"):
        client.connect(WAIT)
    assert client.state_name == "auth_failed"


def test_credentials_of_a_principal_the_client_has_none_for_end_in_auth_failed(
        realm: KerberosRealm, server: ZooKeeperServer, unconnected: Callable[..., Any],
        monkeypatch: Any) -> None:
    login(monkeypatch, realm, "app")
    client = unconnected(server.kerberos_hosts, sasl_options=dict(
        GSSAPI, principal=realm.principal("nobody")))
    with pytest.raises(pykeeper.AuthFailedException, match="no Kerberos credentials for "
                                                           "principal 'nobody@"):
        client.connect(WAIT)


def test_the_identity_comes_back_after_a_restart_and_an_expiry(
        realm: KerberosRealm, server: ZooKeeperServer, make_client: Callable[..., Any],
        monkeypatch: Any) -> None:
    login(monkeypatch, realm, "app")
    app = make_client(server.kerberos_hosts, sasl_options=GSSAPI)
    app.create("/kept", b"kept", acl=[make_sasl_acl(realm.principal("app"), all=True)])
    session = app.session_id
    mark = app.log.mark()
    server.restart()
    app.log.wait_for("connected", app.log.wait_for("connecting", mark))
    assert app.session_id == session
    assert app.retry(app.get, "/kept")[0] == b"kept"

    mark = app.log.mark()
    expire_session(app, server.hosts)
    app.log.wait_for("connected", app.log.wait_for("expired_session", mark))
    assert app.session_id != session
    assert app.retry(app.get, "/kept")[0] == b"kept"


def test_a_server_requiring_sasl_serves_kerberos_clients(
        realm: KerberosRealm, make_client: Callable[..., Any], monkeypatch: Any) -> None:
    login(monkeypatch, realm, "app")
    with ZooKeeperServer(kerberos=realm, require_sasl=True) as strict:
        app = make_client(strict.kerberos_hosts, sasl_options=GSSAPI)
        app.create("/strict", b"s")
        assert app.get("/strict")[0] == b"s"
        anonymous = make_client(strict.hosts)
        with pytest.raises(pykeeper.SessionClosedRequireSaslException):
            anonymous.get("/strict")
