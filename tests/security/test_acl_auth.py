"""Digest ACLs and authentication against a real server with a super user,
for the sync and the asyncio client: a protected node refuses strangers
and admits its owner, also after the server restarts; a refused
authentication fails every pending and later call."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator

import pytest

import pykeeper
from pykeeper import Permission, make_acl, make_digest_acl, make_digest_acl_credential

from ..support import client_factory as _factory


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    yield from _factory(request.param)


def test_digest_acl_refuses_strangers_and_admits_the_owner_across_a_restart(
        zk_auth_server, make_any_client) -> None:
    owner = make_any_client(zk_auth_server.hosts, connect_timeout=2.0)
    owner.add_auth("digest", "app:s3cret")
    acl = [make_digest_acl("app", "s3cret", all=True),
           make_acl("world", "anyone", read=True)]
    owner.create("/vault", b"v0", acl)
    owner.create("/vault/inner", b"i", [make_digest_acl("app", "s3cret", read=True,
                                                        write=True)])
    stranger = make_any_client(zk_auth_server.hosts)
    wrong = make_any_client(zk_auth_server.hosts)
    wrong.add_auth("digest", "app:wrong")
    for client in (stranger, wrong):
        assert client.get("/vault")[0] == b"v0"  # world may read
        with pytest.raises(pykeeper.NoAuthException) as info:
            client.set("/vault", b"x")
        assert info.value.path == "/vault"
        assert "ACL" in str(info.value) and "authenticated" not in str(info.value)
        with pytest.raises(pykeeper.NoAuthException):
            client.get("/vault/inner")
        with pytest.raises(pykeeper.NoAuthException):
            client.create("/vault/new")
    assert owner.get_acl("/vault")[0] == acl

    session = owner.session_id
    mark = owner.log.mark()
    zk_auth_server.restart()
    index = owner.log.wait_for("connecting", mark)
    owner.log.wait_for("connected", index)
    assert owner.session_id == session
    # The credentials were sent again on the new connection.
    assert owner.set("/vault/inner", b"after restart").version == 1
    assert owner.get("/vault/inner")[0] == b"after restart"
    stranger.wait_until_connected(20)
    with pytest.raises(pykeeper.NoAuthException):
        stranger.get("/vault/inner")
    newcomer = make_any_client(zk_auth_server.hosts)
    newcomer.add_auth("digest", b"app:s3cret")
    assert newcomer.get("/vault/inner")[0] == b"after restart"
    # Only ADMIN may change the ACL: the owner's entry on /vault/inner lacks it.
    with pytest.raises(pykeeper.NoAuthException):
        owner.set_acl("/vault/inner", pykeeper.OPEN_ACL_UNSAFE)
    # The server's super user may do anything.
    admin = make_any_client(zk_auth_server.hosts)
    admin.add_auth("digest", zk_auth_server.super_credentials)
    admin.set_acl("/vault/inner", pykeeper.OPEN_ACL_UNSAFE)
    assert stranger.get("/vault/inner")[0] == b"after restart"
    admin.delete_recursive("/vault")


def test_a_refused_authentication_fails_pending_and_later_calls(zk_server,
                                                                 make_any_client) -> None:
    client = make_any_client(zk_server.hosts)

    def send(zk: Any) -> Any:  # (one go, so all are sent before any reply is read)
        return (zk.get_async("/"), zk.add_auth_async("nosuchscheme", "whatever"),
                [zk.get_async("/") for _ in range(20)])

    if isinstance(client, pykeeper.ZooKeeper):
        before, refused, pending = send(client)
    else:
        before, refused, pending = client.call_on_loop(send, client.aio)
    # (The server checks credentials as they arrive and closes the connection
    # at once, so even a call sent before them may go unanswered: it gets
    # AuthFailed too, not a connection loss.)
    try:
        assert isinstance(before.result(20)[1], pykeeper.Stat)
    except pykeeper.AuthFailedException:
        pass
    with pytest.raises(pykeeper.AuthFailedException):
        refused.result(20)
    for future in pending:
        with pytest.raises(pykeeper.AuthFailedException):
            future.result(20)
    client.log.wait_for("auth_failed")
    assert client.state == "auth_failed"
    with pytest.raises(pykeeper.AuthFailedException):
        client.exists("/")


def test_acl_helpers_check_their_input() -> None:
    entry = make_digest_acl("user", "pw", read=True, write=True)
    assert entry.perms == Permission.READ | Permission.WRITE
    assert entry.id == pykeeper.Id("digest", make_digest_acl_credential("user", "pw"))
    assert entry.id.id.startswith("user:") and "pw" not in entry.id.id[5:]
    assert make_acl("ip", "127.0.0.1", all=True).perms == Permission.ALL == 31
    assert pykeeper.Perms.READ is Permission.READ
    assert "Permission.READ|Permission.WRITE" in repr(entry)
    with pytest.raises(ValueError, match="at least one permission"):
        make_digest_acl("user", "pw")
    with pytest.raises(ValueError, match="without ':'"):
        make_digest_acl_credential("us:er", "pw")
    with pytest.raises(TypeError, match="password must be a str"):
        make_digest_acl_credential("user", b"pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="scheme"):
        make_acl("", "anyone", read=True)


def test_acl_permissions_read_back_unchanged(zk_server, make_any_client) -> None:
    """Bits the Permission flags do not name (or -1, as some tools write)
    survive a get_acl / set_acl round trip."""
    client = make_any_client(zk_server.hosts)
    path = "/perm-" + uuid.uuid4().hex
    odd = [pykeeper.ACL(-1, pykeeper.Id("world", "anyone"))]
    client.create(path, b"", odd)
    acl, stat = client.get_acl(path)
    assert [entry.perms for entry in acl] == [-1]
    client.set_acl(path, acl, stat.aversion)
    assert [entry.perms for entry in client.get_acl(path)[0]] == [-1]
    client.set_acl(path, [make_acl("world", "anyone", read=True, admin=True)])
    (entry,), _ = client.get_acl(path)
    assert entry.perms == Permission.READ | Permission.ADMIN
    assert isinstance(entry.perms, Permission)
    client.delete(path)
