"""The request limit (the server's jute.maxbuffer) bounds a whole request,
and max_data_size= follows a server started with a larger one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Iterator

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.testing import ZooKeeperServer

BIG_LIMIT = 4 * 1024 * 1024
TWO_MB = bytes(range(256)) * 8192  # 2,097,152 bytes


@pytest.fixture(scope="module")
def big_buffer_server() -> Iterator[ZooKeeperServer]:
    with ZooKeeperServer(java_options=[f"-Djute.maxbuffer={BIG_LIMIT}"]) as server:
        yield server


def _set_overhead(path: str) -> int:
    # SetData: xid and opcode, the path (length + UTF-8), the data's length, the version.
    return 8 + 4 + len(path.encode()) + 4 + 4


def test_a_request_of_exactly_the_limit_is_sent_and_one_byte_more_is_refused(zk_server) -> None:
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        path = client.create("/lim-" + uuid.uuid4().hex[:8])
        fits = 0xFFFFF - _set_overhead(path)
        assert client.set(path, b"x" * fits).dataLength == fits
        with pytest.raises(ValueError, match=r"jute\.maxbuffer.*max_data_size=") as info:
            client.set(path, b"x" * (fits + 1))
        assert f"the set of '{path}'" in str(info.value)
        assert "whole request" in str(info.value) and "SetData" not in str(info.value)
        assert client.get(path)[1].dataLength == fits  # nothing was sent
        client.delete(path)


def test_an_oversized_transaction_is_named_as_one(zk_server) -> None:
    with pykeeper.ZooKeeper(zk_server.hosts) as client:
        txn = client.transaction()
        for i in range(3):
            txn.create(f"/lim-txn-{uuid.uuid4().hex[:8]}-{i}", b"x" * 400_000)
        with pytest.raises(ValueError, match="a transaction of 3 operations") as info:
            txn.commit()
        assert "Multi(" not in str(info.value)


def test_a_2_mb_value_needs_max_data_size_and_then_round_trips(big_buffer_server) -> None:
    path = "/big-" + uuid.uuid4().hex[:8]
    with pykeeper.ZooKeeper(big_buffer_server.hosts) as plain:
        with pytest.raises(ValueError, match="max_data_size="):
            plain.create(path, TWO_MB)
    with pykeeper.ZooKeeper(big_buffer_server.hosts, max_data_size=BIG_LIMIT) as client:
        assert client.create(path, TWO_MB) == path
        assert client.get(path)[0] == TWO_MB
        client.set(path, TWO_MB[::-1])
        assert client.get(path)[0] == TWO_MB[::-1]

    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(big_buffer_server.hosts,
                                          max_data_size=BIG_LIMIT) as aclient:
            assert (await aclient.get(path))[0] == TWO_MB[::-1]
            await aclient.set(path, TWO_MB)
            assert (await aclient.get(path))[0] == TWO_MB
            await aclient.delete(path)
    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "1m"])
def test_max_data_size_must_be_a_positive_int(bad) -> None:
    with pytest.raises(ValueError, match="max_data_size"):
        pykeeper.ZooKeeper("127.0.0.1:2181", max_data_size=bad)
