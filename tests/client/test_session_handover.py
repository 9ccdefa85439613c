"""client_id=(session id, password): a process hands its session (and its
ephemeral nodes) over to a successor, as kazoo and the official binding allow."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pytest

import pykeeper
import pykeeper.aio

HOLDER = """
import sys, pykeeper
client = pykeeper.ZooKeeper(sys.argv[1], session_timeout=10.0)
client.connect()
client.create(sys.argv[2], b"held", ephemeral=True)
session_id, password = client.client_id
print(session_id, password.hex(), flush=True)
sys.stdin.read()  # until killed
"""


def _holder(hosts: str, path: str) -> "tuple[subprocess.Popen[str], int, bytes]":
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, hosts, path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line, "the holder process did not report its session"
    session_id, password = line.split()
    return proc, int(session_id), bytes.fromhex(password)


@pytest.mark.parametrize("kind", ["sync", "asyncio"])
def test_a_successor_resumes_a_killed_process_session_with_its_ephemerals(zk_server, kind) -> None:
    path = "/handover-" + uuid.uuid4().hex[:8]
    proc, session_id, password = _holder(zk_server.hosts, path)
    proc.kill()  # no CloseSession: the session lives on for its timeout
    proc.wait(10)

    if kind == "sync":
        with pykeeper.ZooKeeper(zk_server.hosts, client_id=(session_id, password)) as client:
            assert client.session_id == session_id
            data, stat = client.get(path)
            assert data == b"held" and stat.ephemeralOwner == session_id
            assert client.client_id == (session_id, password)
            client.delete(path)
    else:
        async def main() -> None:
            async with pykeeper.aio.ZooKeeper(zk_server.hosts,
                                              client_id=(session_id, password)) as client:
                assert client.session_id == session_id
                assert (await client.get(path))[1].ephemeralOwner == session_id
                await client.delete(path)
        asyncio.run(asyncio.wait_for(main(), 60))


def test_an_ended_session_cannot_be_resumed_and_a_new_one_is_made(zk_server) -> None:
    with pykeeper.ZooKeeper(zk_server.hosts) as first:
        old = first.client_id
    assert old is not None
    client = pykeeper.ZooKeeper(zk_server.hosts, client_id=old)
    states = []
    client.add_listener(states.append)
    client.connect()
    try:
        assert client.session_id and client.session_id != old[0]
        assert pykeeper.State.EXPIRED_SESSION in states
    finally:
        client.close()


@pytest.mark.parametrize("bad, error", [
    ((0, b"x" * 16), ValueError), ((5, b"short"), ValueError), ("5:abc", TypeError),
    ((5, "x" * 16), TypeError), ((True, b"x" * 16), TypeError),
])
def test_a_malformed_client_id_is_refused_at_once(bad, error) -> None:
    with pytest.raises(error, match="client_id"):
        pykeeper.ZooKeeper("127.0.0.1:2181", client_id=bad)
