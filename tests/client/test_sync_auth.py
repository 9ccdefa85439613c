"""add_auth and ACLs against a real server: digest credentials, NoAuth for
other clients, credentials kept across a reconnect, and AuthFailed for a
scheme the server does not know."""

from __future__ import annotations

import base64
import hashlib

import pytest

import pykeeper
from pykeeper import ACL, Id, Perms, State

from ..support import Recorder


def digest_id(user: str, password: str) -> str:
    raw = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return user + ":" + base64.b64encode(raw).decode()


DIGEST_ACL = [ACL(Perms.ALL, Id("digest", digest_id("user", "pw")))]


def test_digest_acl_admits_only_the_authenticated_client(client, base, make_client):
    owner = make_client()
    assert owner.add_auth("digest", "user:pw") is None
    path = owner.create(base + "/secret", b"s3cret", DIGEST_ACL)
    try:
        # the owner (authenticated as user:pw) can do everything
        assert owner.get(path)[0] == b"s3cret"
        assert owner.set(path, b"v2").version == 1
        assert owner.get_acl(path)[0] == DIGEST_ACL
        owner.create(path + "/kid")
        assert owner.get_children(path) == ["kid"]
        owner.delete(path + "/kid")

        # a client without credentials cannot
        for call in (lambda: client.get(path), lambda: client.get_children(path),
                     lambda: client.set(path, b"x"), lambda: client.create(path + "/x"),
                     lambda: client.set_acl(path, pykeeper.OPEN_ACL_UNSAFE)):
            with pytest.raises(pykeeper.NoAuthException) as info:
                call()
            assert info.value.code == -102
            assert info.value.path in (path, path + "/x")
        # reading the ACL needs READ or ADMIN too (since ZOOKEEPER-1392)...
        with pytest.raises(pykeeper.NoAuthException) as info:
            client.get_acl(path)
        assert info.value.path == path
        # ...exists needs no permission
        assert client.exists(path).version == 1

        # nor can one with the wrong password (the server accepts any digest
        # credential; it just does not match the ACL)
        wrong = make_client()
        wrong.add_auth("digest", "user:wrong")
        with pytest.raises(pykeeper.NoAuthException):
            wrong.get(path)

        # the same credentials on a second connection work
        again = make_client()
        again.add_auth("digest", b"user:pw")
        assert again.get(path)[0] == b"v2"
    finally:
        owner.delete(path)


def test_several_credentials_on_one_client(base, make_client):
    owner = make_client()
    owner.add_auth("digest", "alice:a")
    owner.add_auth("digest", "bob:b")
    path = owner.create(base + "/bob-only", b"b",
                        [ACL(Perms.ALL, Id("digest", digest_id("bob", "b")))])
    try:
        assert owner.get(path)[0] == b"b"
        alice = make_client()
        alice.add_auth("digest", "alice:a")
        with pytest.raises(pykeeper.NoAuthException):
            alice.get(path)
    finally:
        owner.delete(path)


def test_creator_all_acl_uses_the_clients_credentials(client, base, make_client):
    owner = make_client()
    with pytest.raises(pykeeper.InvalidACLException) as info:
        owner.create(base + "/mine", b"", pykeeper.CREATOR_ALL_ACL)  # no credentials yet
    assert info.value.code == -114 and info.value.path == base + "/mine"
    owner.add_auth("digest", "user:pw")
    path = owner.create(base + "/mine", b"m", pykeeper.CREATOR_ALL_ACL)
    try:
        # the server turned the "auth" entry into the creator's digest identity
        assert owner.get_acl(path)[0] == DIGEST_ACL
        with pytest.raises(pykeeper.NoAuthException):
            client.get(path)
    finally:
        owner.delete(path)


def test_credentials_are_sent_again_after_a_reconnect(zk_fresh_server):
    with pykeeper.ZooKeeper(zk_fresh_server.hosts, connect_timeout=2.0) as zk:
        zk.add_auth("digest", "user:pw")
        zk.create("/secret", b"kept", DIGEST_ACL)
        session = zk.session_id
        states = Recorder()
        zk.add_listener(states)
        zk_fresh_server.restart()
        assert states.wait_until(lambda calls: State.CONNECTED in calls)
        zk.wait_until_connected(10)
        assert zk.session_id == session
        assert zk.get("/secret")[0] == b"kept"
    with pykeeper.ZooKeeper(zk_fresh_server.hosts) as stranger:
        with pytest.raises(pykeeper.NoAuthException):
            stranger.get("/secret")


def test_unknown_scheme_fails_authentication_and_stops_the_client(zk_server):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    states = Recorder()
    hook = Recorder()
    events = Recorder()
    zk.add_listener(states)
    zk.on_state += hook
    zk.on_event += events
    zk.connect()
    try:
        with pytest.raises(pykeeper.AuthFailedException) as info:
            zk.add_auth("nosuchscheme", "whatever")
        assert isinstance(info.value, pykeeper.ZooKeeperException)
        assert info.value.code == -115
        assert info.value.path is None  # an auth request names no node
        assert zk.state is State.AUTH_FAILED
        assert zk.state == "auth_failed" and zk.state_name == "auth_failed"
        assert states.wait_until(lambda calls: State.AUTH_FAILED in calls)
        assert hook.wait_until(lambda calls: (zk, "auth_failed") in calls)
        assert events.wait_until(lambda calls: pykeeper.WatchedEvent(
            pykeeper.EventType.NONE, pykeeper.KeeperState.AUTH_FAILED, None) in calls)

        # every later call fails the same way, as does waiting for a connection
        with pytest.raises(pykeeper.AuthFailedException) as info:
            zk.get("/")
        assert info.value.code == -115 and info.value.path == "/"
        with pytest.raises(pykeeper.AuthFailedException) as again:
            zk.get("/")
        # a new exception each time: re-raising one shared instance would
        # grow its traceback with every call, and share it between threads
        assert again.value is not info.value
        assert len(again.traceback) == len(info.traceback)
        with pytest.raises(pykeeper.AuthFailedException):
            zk.wait_until_connected(1)
        assert zk.state == "auth_failed"
    finally:
        zk.close()
    assert zk.state == "closed"

    # a closed client starts afresh, without the refused credentials
    zk.connect()
    try:
        assert zk.state == "connected"
        assert zk.exists("/") is not None
    finally:
        zk.close()


def test_add_auth_checks_its_arguments(client):
    with pytest.raises(TypeError):
        client.add_auth("", "user:pw")
    with pytest.raises(TypeError):
        client.add_auth(None, "user:pw")
    with pytest.raises(TypeError):
        client.add_auth("digest", 1234)
    assert client.state == "connected"


def test_refused_oversized_credentials_leave_add_auth_working(client) -> None:
    with pytest.raises(ValueError):
        client.add_auth("digest", "u:" + "x" * 1_100_000)
    client.add_auth_async("digest", "user:pw").result(10)
    assert client.connected
