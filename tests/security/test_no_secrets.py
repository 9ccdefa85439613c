"""Credentials never appear in logs, reprs or exception messages: a client
of each kind authenticates, works, loses its connection and re-sends its
credentials, has them refused, and is given oversized or ill-typed ones,
with every logger at DEBUG; then everything captured is searched for the
password."""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any, Callable, Iterator, List

import pytest

import pykeeper
from pykeeper import make_digest_acl
from pykeeper.protocol import requests as rq
from pykeeper.testing import ZooKeeperServer

from ..support import client_factory as _factory


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    yield from _factory(request.param)


def described(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def test_the_password_is_never_written_anywhere(zk_fresh_server, make_any_client,
                                                caplog) -> None:
    password = "pw-" + uuid.uuid4().hex
    seen: List[str] = []
    caplog.set_level(logging.DEBUG)  # every logger, pykeeper's and zookeeper's included
    client = make_any_client(zk_fresh_server.hosts, connect_timeout=2.0)
    client.add_auth("digest", f"app:{password}")
    client.create("/secret", b"s", [make_digest_acl("app", password, all=True)])
    seen += [repr(client), str(client), repr(client.get_acl("/secret")),
             repr(rq.Auth("digest", f"app:{password}".encode()))]

    mark = client.log.mark()
    zk_fresh_server.restart()  # reconnect: the credentials are sent again
    index = client.log.wait_for("connecting", mark)
    client.log.wait_for("connected", index)
    assert client.get("/secret")[0] == b"s"  # (so they were)

    for bad in (lambda: client.add_auth("digest", f"app:{password}" + "x" * 1_100_000),
                lambda: client.add_auth(password, 1234)):
        with pytest.raises((ValueError, TypeError)) as info:
            bad()
        seen.append(described(info.value))
    with pytest.raises(pykeeper.AuthFailedException) as info:
        client.add_auth("nosuchscheme", password)
    seen.append(described(info.value))
    with pytest.raises(pykeeper.AuthFailedException) as info:
        client.get("/secret")
    seen.append(described(info.value))
    seen += [repr(client), str(client)]

    text = caplog.text + "".join(seen)
    assert len(caplog.records) > 5  # (the capture saw the client's logging)
    assert password not in text
    assert f"app:{password}" not in text


def test_an_auth_data_password_is_never_written_anywhere(zk_fresh_server, make_any_client,
                                                         caplog) -> None:
    password = "ad-" + uuid.uuid4().hex
    caplog.set_level(logging.DEBUG)
    client = make_any_client(zk_fresh_server.hosts, connect_timeout=2.0,
                             auth_data=[("digest", f"app:{password}")],
                             default_acl=[make_digest_acl("app", password, all=True)])
    client.create("/secret", b"s")
    mark = client.log.mark()
    zk_fresh_server.restart()  # reconnect: the credentials are sent again
    client.log.wait_for("connected", client.log.wait_for("connecting", mark))
    assert client.get("/secret")[0] == b"s"
    seen = [repr(client), str(client), repr(vars(getattr(client, "aio", client)))]
    for bad in ([(password, 1234)], [("digest", f"app:{password}", "extra")],
                [("", f"app:{password}")], f"digest:app:{password}"):
        with pytest.raises(TypeError) as info:
            pykeeper.ZooKeeper(zk_fresh_server.hosts, auth_data=bad)
        seen.append(described(info.value))
    text = caplog.text + "".join(seen)
    assert len(caplog.records) > 5
    assert password not in text


def test_a_sasl_password_is_never_written_anywhere(make_any_client, caplog) -> None:
    password = "sasl-" + uuid.uuid4().hex
    wrong = "wrong-" + uuid.uuid4().hex
    caplog.set_level(logging.DEBUG)
    seen: List[str] = []
    with ZooKeeperServer(sasl_users={"bob": password}) as server:
        client = make_any_client(server.hosts, sasl_options=server.sasl_options("bob"))
        client.create("/bobs", b"b", [pykeeper.make_sasl_acl("bob", all=True)])
        seen += [repr(client), str(client), repr(vars(getattr(client, "aio", client)))]
        mark = client.log.mark()
        server.restart()  # (SASL again on the new connection)
        client.log.wait_for("connected", client.log.wait_for("connecting", mark))
        assert client.retry(client.get, "/bobs")[0] == b"b"

        refused = pykeeper.ZooKeeper(server.hosts, sasl_options={
            "mechanism": "DIGEST-MD5", "username": "bob", "password": wrong})
        with pytest.raises(pykeeper.AuthFailedException) as info:
            refused.connect(10)
        seen += [described(info.value), repr(refused)]
        refused.close()
        with pytest.raises(TypeError) as type_info:
            pykeeper.ZooKeeper(server.hosts, sasl_options={
                "mechanism": "DIGEST-MD5", "username": password, "password": 1})
        seen.append(described(type_info.value))
    text = caplog.text + "".join(seen)
    assert "SASL" in caplog.text  # (the capture saw the exchange's logging)
    for secret in (password, wrong):
        assert secret not in text
