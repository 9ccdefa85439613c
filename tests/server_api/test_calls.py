"""whoami, check_watches and read transactions against a real server, for
both clients."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest

import pykeeper
from pykeeper import ClientInfo
from pykeeper.core import operations as ops
from pykeeper.core.fourletter import parse_version
from pykeeper.testing import ZooKeeperServer


def test_whoami_names_the_sessions_identities(zk_auth_server: ZooKeeperServer,
                                              make_client: Callable[..., Any]) -> None:
    client = make_client(zk_auth_server.hosts)
    assert client.whoami() == [ClientInfo("ip", "127.0.0.1")]
    client.add_auth("digest", "app:secret")
    client.add_auth("digest", zk_auth_server.super_credentials)
    assert sorted(client.whoami()) == [ClientInfo("digest", "app"), ClientInfo("digest", "super"),
                                       ClientInfo("ip", "127.0.0.1"), ClientInfo("super", "")]


def test_whoami_over_tls_names_the_certificate(zk_tls_server: ZooKeeperServer,
                                               make_client: Callable[..., Any]) -> None:
    client = make_client(zk_tls_server.tls_hosts, **zk_tls_server.tls_options())
    assert ClientInfo("x509", zk_tls_server.client_identity) in client.whoami()


def test_whoami_on_an_older_server_says_what_it_needs() -> None:
    operation = ops.whoami(None)
    next(operation)
    with pytest.raises(pykeeper.UnimplementedException, match="3.7 or newer"):
        operation.throw(pykeeper.UnimplementedException())


def test_check_watches_tells_a_held_watch_from_a_fired_one(zk_server: ZooKeeperServer,
                                                           make_client: Callable[..., Any]) -> None:
    client = make_client(zk_server.hosts)
    path = "/check-" + uuid.uuid4().hex
    client.create(path, b"1")
    assert not client.check_watches(path)
    fired: list = []
    client.get(path, watcher=fired.append)
    client.get_children(path, watcher=lambda event: None)
    assert client.check_watches(path, "data") and client.check_watches(path, "child")
    assert client.check_watches(path, "any")
    client.set(path, b"2")  # (fires the data watch: the server drops it)
    client.sync(path)
    assert not client.check_watches(path, "data")
    assert client.check_watches(path, "child")
    with pytest.raises(ValueError, match="kind must be one of data, child, any"):
        client.check_watches(path, "persistent")
    client.delete(path)


def test_a_read_transaction_gives_each_reads_result_or_error(
        zk_server: ZooKeeperServer, make_client: Callable[..., Any], kind: str) -> None:
    client = make_client(zk_server.hosts)

    def commit(reads: Any) -> Any:
        return client._run(reads.commit()) if kind == "asyncio" else reads.commit()

    base = "/reads-" + uuid.uuid4().hex
    client.create(base, b"top")
    client.create(base + "/a", b"A")
    client.create(base + "/secret", b"s", acl=[pykeeper.make_digest_acl("x", "y", all=True)])
    reads = (client.read_transaction().get(base + "/a").get_children(base)
             .get(base + "/missing").get(base + "/secret").get(base))
    assert len(reads) == 5 and "not committed" in repr(reads)
    results = commit(reads)
    assert results[0][0] == b"A" and isinstance(results[0][1], pykeeper.Stat)
    assert sorted(results[1]) == ["a", "secret"]
    assert isinstance(results[2], pykeeper.NoNodeException) and results[2].path == base + "/missing"
    assert isinstance(results[3], pykeeper.NoAuthException)
    assert results[4][0] == b"top"
    with pytest.raises(ValueError, match="already committed"):
        commit(reads)
    with pytest.raises(ValueError, match="at least one operation"):
        commit(client.read_transaction())
    with pytest.raises(ValueError):
        client.read_transaction().get("relative/path")
    if kind == "sync":  # (the asyncio one's is started on its loop)
        future = client.read_transaction().get(base).commit_async()
        assert future.result(10)[0][0] == b"top"
    client.delete(base + "/secret")  # (delete_recursive could not list it)
    client.delete_recursive(base)


def test_command_asks_the_connected_server(make_client: Callable[..., Any],
                                           unconnected: Callable[..., Any],
                                           zk_server: Any) -> None:
    client = make_client(zk_server.hosts)
    assert client.command("ruok") == "imok"
    assert client.command(b"ruok") == "imok"
    assert "Mode: standalone" in client.command("srvr")
    version = client.server_version()
    assert len(version) == 3 and version >= (3, 5, 0)
    assert client.command("srvr").startswith("Zookeeper version: %d.%d.%d" % version)
    for bad, error in (("ruo", ValueError), ("ruokk", ValueError), (5, TypeError)):
        with pytest.raises(error):
            client.command(bad)
    with pytest.raises(pykeeper.ConnectionLossException, match="not connected"):
        unconnected(zk_server.hosts).command("ruok")


def test_command_names_a_word_the_server_does_not_allow(
        make_client: Callable[..., Any]) -> None:
    with ZooKeeperServer(extra_config={"4lw.commands.whitelist": "srvr"}) as server:
        client = make_client(server.hosts)
        assert "not in the whitelist" in client.command("ruok")
        assert client.server_version() >= (3, 5, 0)  # (srvr is allowed)


def test_a_srvr_answer_without_a_version_is_named() -> None:
    # (Servers always allow srvr: its answer is parsed here as a server wrote it.)
    answer = ("Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
              "Latency min/avg/max: 5/5.0/5\nMode: standalone\n")
    assert parse_version(answer) == (3, 8, 0)
    with pytest.raises(ValueError, match="names no version: 'This ZooKeeper instance"):
        parse_version("This ZooKeeper instance is not currently serving requests\n")


def test_command_over_tls(make_client: Callable[..., Any], zk_tls_server: Any) -> None:
    client = make_client(zk_tls_server.tls_hosts, use_ssl=True, ca=zk_tls_server.ca_file,
                         certfile=zk_tls_server.client_cert, keyfile=zk_tls_server.client_key)
    assert client.command("ruok") == "imok"
