"""SASL DIGEST-MD5 against real servers with JAAS DigestLoginModule users,
for both clients: the right credentials reach a node a `sasl:` ACL
protects, wrong ones end in auth_failed (not a hang), the identity comes
back after a server restart and after a session expiry, and a server that
requires SASL says so to a client without it."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import pykeeper
from pykeeper import make_sasl_acl
from pykeeper.testing import ZooKeeperServer, expire_session

from ..support import WAIT


def protected_node(server: ZooKeeperServer, make_client: Callable[..., Any]) -> str:
    """A node only bob may read, made by bob."""
    bob = make_client(server.hosts, sasl_options=server.sasl_options("bob"))
    bob.create("/bobs", b"for bob", acl=[make_sasl_acl("bob", all=True)])
    return "/bobs"


def test_the_right_credentials_read_a_node_a_sasl_acl_protects(
        zk_sasl_server: ZooKeeperServer, make_client: Callable[..., Any]) -> None:
    path = protected_node(zk_sasl_server, make_client)
    bob = make_client(zk_sasl_server.hosts, sasl_options=zk_sasl_server.sasl_options("bob"))
    assert bob.state_name == "connected"
    assert bob.get(path)[0] == b"for bob"
    assert bob.sasl_mechanism == "DIGEST-MD5"
    alice = make_client(zk_sasl_server.hosts, sasl_options=zk_sasl_server.sasl_options("alice"))
    anonymous = make_client(zk_sasl_server.hosts)
    for other in (alice, anonymous):
        with pytest.raises(pykeeper.NoAuthException):
            other.get(path)


@pytest.mark.parametrize("user, password", [("bob", "not-bobs-password"),
                                            ("mallory", "anything")])
def test_wrong_credentials_end_in_auth_failed_not_a_hang(
        zk_sasl_server: ZooKeeperServer, unconnected: Callable[..., Any],
        user: str, password: str) -> None:
    client = unconnected(zk_sasl_server.hosts, sasl_options={
        "mechanism": "DIGEST-MD5", "username": user, "password": password})
    with pytest.raises(pykeeper.AuthFailedException) as info:
        client.connect(WAIT)  # (a hang would end in TimeoutException instead)
    assert f"as user {user!r}" in str(info.value) and password not in str(info.value)
    assert client.state_name == "auth_failed"
    with pytest.raises(pykeeper.AuthFailedException):
        client.get("/")


def test_the_identity_comes_back_after_a_server_restart(
        zk_sasl_server: ZooKeeperServer, make_client: Callable[..., Any]) -> None:
    path = protected_node(zk_sasl_server, make_client)
    bob = make_client(zk_sasl_server.hosts, sasl_options=zk_sasl_server.sasl_options("bob"))
    session = bob.session_id
    mark = bob.log.mark()
    zk_sasl_server.restart()
    bob.log.wait_for("connected", bob.log.wait_for("connecting", mark))
    assert bob.session_id == session  # (the same session, on a new connection: SASL again)
    assert bob.retry(bob.get, path)[0] == b"for bob"


def test_the_identity_comes_back_after_a_session_expiry(
        zk_sasl_server: ZooKeeperServer, make_client: Callable[..., Any]) -> None:
    path = protected_node(zk_sasl_server, make_client)
    bob = make_client(zk_sasl_server.hosts, sasl_options=zk_sasl_server.sasl_options("bob"))
    session = bob.session_id
    mark = bob.log.mark()
    expire_session(bob, zk_sasl_server.hosts)
    bob.log.wait_for("connected", bob.log.wait_for("expired_session", mark))
    assert bob.session_id != session
    assert bob.retry(bob.get, path)[0] == b"for bob"


def test_a_server_requiring_sasl_serves_sasl_clients_and_explains_itself_to_others(
        make_client: Callable[..., Any], unconnected: Callable[..., Any]) -> None:
    with ZooKeeperServer(sasl_users={"bob": "bobs-password"}, require_sasl=True) as server:
        bob = make_client(server.hosts, sasl_options=server.sasl_options("bob"))
        bob.create("/open", b"x")
        assert sorted(bob.get_children("/")) == ["open", "zookeeper"]
        mark = bob.log.mark()
        server.restart()
        bob.log.wait_for("connected", bob.log.wait_for("connecting", mark))
        assert bob.retry(bob.get, "/open")[0] == b"x"

        anonymous = unconnected(server.hosts)
        anonymous.connect(WAIT)  # (the server takes the session, then closes it at the first call)
        with pytest.raises(pykeeper.SessionClosedRequireSaslException) as info:
            anonymous.get("/open")
        assert "sasl_options" in str(info.value)
        assert anonymous.state_name == "auth_failed"
        with pytest.raises(pykeeper.SessionClosedRequireSaslException):
            anonymous.get("/open")


def test_sasl_to_a_server_without_it_is_auth_failed_saying_why(
        zk_server: ZooKeeperServer, unconnected: Callable[..., Any]) -> None:
    client = unconnected(zk_server.hosts, sasl_options={
        "mechanism": "DIGEST-MD5", "username": "bob", "password": "pw"})
    with pytest.raises(pykeeper.AuthFailedException, match="is SASL configured on the server"):
        client.connect(WAIT)
    assert client.state_name == "auth_failed"
