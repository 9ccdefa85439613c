"""Identities other than digest: the x509 identity a TLS client certificate
gives (both clients, across a server restart and a session expiry; another
certificate of the same CA is another identity), `ip` ACL entries, the ACL
helpers' checks, and `sasl_options` refused before anything is sent."""

from __future__ import annotations

import sys
from typing import Any, Callable

import pytest

import pykeeper
from pykeeper import make_ip_acl, make_sasl_acl, make_x509_acl
from pykeeper.testing import ZooKeeperServer, expire_session, make_client_certificate



def test_a_client_certificate_reads_a_node_its_x509_acl_protects(
        make_client: Callable[..., Any]) -> None:
    with ZooKeeperServer(tls=True, client_auth="want") as server:
        assert server.client_identity == "CN=pykeeper-test-client"
        owner = make_client(server.tls_hosts, **server.tls_options())
        owner.create("/certified", b"by certificate",
                     acl=[make_x509_acl(server.client_identity, all=True)])
        assert owner.get("/certified")[0] == b"by certificate"
        for anonymous in (make_client(server.tls_hosts, **server.tls_options(client_cert=False)),
                          make_client(server.hosts)):
            with pytest.raises(pykeeper.NoAuthException):
                anonymous.get("/certified")

        certfile, keyfile, identity = make_client_certificate(server.certificates, "someone")
        someone = make_client(server.tls_hosts, use_ssl=True, ca=server.ca_file,
                              certfile=certfile, keyfile=keyfile)
        with pytest.raises(pykeeper.NoAuthException):  # (trusted, but another identity)
            someone.get("/certified")
        someone.create("/theirs", b"", acl=[make_x509_acl(identity, all=True)])
        with pytest.raises(pykeeper.NoAuthException):
            owner.get("/theirs")

        mark = owner.log.mark()
        server.restart()  # (a new TLS handshake: the identity is given again)
        owner.log.wait_for("connected", owner.log.wait_for("connecting", mark))
        assert owner.retry(owner.get, "/certified")[0] == b"by certificate"
        session, mark = owner.session_id, owner.log.mark()
        expire_session(owner, server.hosts)
        owner.log.wait_for("connected", owner.log.wait_for("expired_session", mark))
        assert owner.session_id != session
        assert owner.retry(owner.get, "/certified")[0] == b"by certificate"


def test_ip_entries_grant_by_the_clients_address(zk_server: ZooKeeperServer,
                                                 make_client: Callable[..., Any]) -> None:
    client = make_client(zk_server.hosts)
    path = f"/ip-{id(client)}"
    client.create(path, b"local", acl=[make_ip_acl("127.0.0.0/8", read=True),
                                       make_ip_acl("10.1.2.3", all=True)])
    assert client.get(path)[0] == b"local"
    with pytest.raises(pykeeper.NoAuthException):
        client.set(path, b"changed")  # (write was granted to 10.1.2.3 only)


@pytest.mark.parametrize("make, value, error, says", [
    (make_ip_acl, "10.0.0.0/33", ValueError, "not an IP address or network"),
    (make_ip_acl, "localhost", ValueError, "not an IP address"),
    (make_x509_acl, "just-a-name", ValueError, "distinguished name"),
    (make_sasl_acl, "", ValueError, "must not be empty"),
    (make_sasl_acl, b"bob", TypeError, "must be a str"),
])
def test_acl_helpers_refuse_what_the_server_could_not_match(
        make: Callable[..., Any], value: Any, error: type, says: str) -> None:
    with pytest.raises(error, match=says):
        make(value, read=True)


def test_acl_helpers_make_entries_of_their_scheme() -> None:
    assert make_sasl_acl("bob", read=True).id == pykeeper.Id("sasl", "bob")
    assert make_x509_acl("CN=a,O=b", all=True).perms == pykeeper.Permission.ALL
    assert make_ip_acl("::1", write=True).id == pykeeper.Id("ip", "::1")


@pytest.mark.parametrize("options, error, says", [
    ({"mechanism": "PLAIN"}, ValueError, "must be one of DIGEST-MD5, GSSAPI"),
    ({"username": "bob"}, ValueError, "'mechanism' must be one of"),
    ({"mechanism": "DIGEST-MD5", "username": "bob"}, ValueError, "needs 'password'"),
    ({"mechanism": "DIGEST-MD5", "password": "pw"}, ValueError, "needs 'username'"),
    ({"mechanism": "digest-md5", "username": "bob", "password": 7}, TypeError,
     "'password' must be a str"),
    ({"mechanism": "DIGEST-MD5", "username": "bob", "password": "pw", "keytab": "/k"},
     ValueError, "unknown sasl_options 'keytab'"),
    ({"mechanism": "DIGEST-MD5", "username": "b", "password": "pw", "principal": "b@R"},
     ValueError, "'principal' mean nothing to DIGEST-MD5"),
    ({"mechanism": "GSSAPI", "username": "bob"}, ValueError, "'username' mean nothing to GSSAPI"),
    ([("mechanism", "DIGEST-MD5")], TypeError, "must be a dict"),
])
def test_bad_sasl_options_are_refused_by_the_constructor(options: Any, error: type,
                                                         says: str) -> None:
    for make in (pykeeper.ZooKeeper, pykeeper.aio.ZooKeeper):
        with pytest.raises(error, match=says):
            make("127.0.0.1:1", sasl_options=options)


def test_sasl_options_that_cannot_be_sent_are_refused_without_showing_them() -> None:
    with pytest.raises(ValueError, match="'password' is not valid Unicode") as info:
        pykeeper.ZooKeeper("127.0.0.1:1", sasl_options={
            "mechanism": "DIGEST-MD5", "username": "bob", "password": "secret\udc80"})
    assert "secret" not in repr(info.value) and info.value.__context__ is None


def test_gssapi_without_its_library_says_what_to_install(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "gssapi", None)  # (as if it were not installed)
    with pytest.raises(ImportError, match=r"pip install 'pykeeper\[gssapi\]'"):
        pykeeper.ZooKeeper("127.0.0.1:1", sasl_options={"mechanism": "GSSAPI"})
