"""kazoo's `default_acl` and `auth_data` constructor arguments, on both
clients, against a real server: the default ACL is on every node made
without one (by calls, helpers, transactions and recipes), and the
credentials are sent first on every connection."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest

import pykeeper

from ..recipes.conftest import make_recipe
from pykeeper.testing import expire_session

from ..support import AsyncioFacade, Blocking, StateLog

ACL = [pykeeper.make_digest_acl("app", "app-pw", all=True)]
CREDENTIALS = [("digest", "app:app-pw")]


def test_nodes_made_without_an_acl_get_the_default(
        make_client: Callable[..., Any], zk_server: Any) -> None:
    root = "/default-acl-" + uuid.uuid4().hex[:8]
    owner = make_client(zk_server.hosts, default_acl=ACL, auth_data=CREDENTIALS)
    anonymous = make_client(zk_server.hosts)
    owner.create(root)
    owner.create_recursive(f"{root}/a/b/c", b"deep")
    owner.create(f"{root}/open", acl=pykeeper.OPEN_ACL_UNSAFE)  # (an ACL given wins)
    transaction = owner.transaction()
    if isinstance(owner, AsyncioFacade):
        transaction = Blocking(transaction, owner._run)
    transaction.create(f"{root}/made-in-a-transaction")
    transaction.commit()
    make_recipe(owner, "Lock", f"{root}/lock").acquire()
    make_recipe(owner, "Queue", f"{root}/queue").put(b"item")  # (its entries go in a multi)

    for path in (root, f"{root}/a", f"{root}/a/b/c", f"{root}/made-in-a-transaction",
                 f"{root}/lock", f"{root}/queue"):
        assert owner.get_acl(path)[0] == ACL, path
    lock_nodes = owner.get_children(f"{root}/lock")
    queue_entries = [name for name in owner.get_children(f"{root}/queue") if "entry" in name]
    assert lock_nodes and queue_entries
    for path in [f"{root}/lock/{lock_nodes[0]}", f"{root}/queue/{queue_entries[0]}"]:
        assert owner.get_acl(path)[0] == ACL, path
    assert owner.get_acl(f"{root}/open")[0] == pykeeper.OPEN_ACL_UNSAFE

    with pytest.raises(pykeeper.NoAuthException):
        anonymous.get(f"{root}/a/b/c")
    assert anonymous.get(f"{root}/open")[0] == b""
    owner.delete_recursive(root, force=True)


def test_auth_data_is_sent_on_every_connection(
        unconnected: Callable[..., Any], make_client: Callable[..., Any],
        zk_fresh_server: Any) -> None:
    path = "/secret"
    owner = make_client(zk_fresh_server.hosts, auth_data=CREDENTIALS)
    owner.create(path, b"s3cret", acl=ACL)  # (the owner's credentials are already in)

    client = unconnected(zk_fresh_server.hosts, auth_data=CREDENTIALS)
    client.log = StateLog()
    client.add_listener(client.log)
    client.connect()
    assert client.get(path)[0] == b"s3cret"
    assert ("digest", "app") in [tuple(who) for who in client.whoami()]

    session = client.session_id
    mark = client.log.mark()
    zk_fresh_server.restart()
    client.log.wait_for("connected", client.log.wait_for("connecting", mark))
    assert client.session_id == session
    assert client.retry(client.get, path)[0] == b"s3cret"

    mark = client.log.mark()
    expire_session(client, zk_fresh_server.hosts)  # (a new session: the credentials again)
    client.log.wait_for("connected", client.log.wait_for("expired_session", mark))
    assert client.session_id != session
    assert client.retry(client.get, path)[0] == b"s3cret"

    if isinstance(client, pykeeper.ZooKeeper):  # (an AsyncioFacade's loop ends with close)
        client.close()
        client.connect()  # (a new start: add_auth's credentials would be gone)
        assert client.get(path)[0] == b"s3cret"


@pytest.mark.parametrize("default_acl, error", [
    ([], ValueError), ("world:anyone", TypeError), ([("world", "anyone")], TypeError),
])
def test_a_bad_default_acl_is_refused(unconnected: Callable[..., Any], default_acl: Any,
                                      error: type) -> None:
    with pytest.raises(error, match="ACL"):
        unconnected("127.0.0.1:1", default_acl=default_acl)


@pytest.mark.parametrize("auth_data, match", [
    ("digest:app:pw", "auth_data must be a list of"),
    ([("digest",)], "auth_data must be a list of"),
    (["digest", "app:pw"], "auth_data must be a list of"),
    ([("", "app:pw")], "scheme must be a non-empty str"),
    ([("digest", 5)], "credential"),
])
def test_bad_auth_data_is_refused(unconnected: Callable[..., Any], auth_data: Any,
                                  match: str) -> None:
    with pytest.raises(TypeError, match=match):
        unconnected("127.0.0.1:1", auth_data=auth_data)
