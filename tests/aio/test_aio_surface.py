"""The asyncio client's methods that its generated ones do not cover: the
cached is_ephemeral, and its own Transaction."""

from __future__ import annotations

import asyncio
import uuid

import pytest

import pykeeper
import pykeeper.aio


def test_is_ephemeral_through_the_cache_and_the_transaction_front(zk_server) -> None:
    async def main() -> None:
        base = "/aio-surface-" + uuid.uuid4().hex
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            await client.create(base)
            await client.create(base + "/e", ephemeral=True)
            await client.create(base + "/p")
            assert await client.is_ephemeral(base + "/e", cache=True)
            assert not await client.is_ephemeral(base + "/p", cache=True)
            assert await client.is_ephemeral(base + "/e")
            assert base + "/e" in client.node_cache
            with pytest.raises(pykeeper.NoNodeException):
                await client.is_ephemeral(base + "/none", cache=True)

            tx = client.transaction()
            assert isinstance(tx, pykeeper.aio.Transaction)
            tx.create(base + "/t", b"1").delete(base + "/p")
            assert repr(tx) == (f"<AsyncTransaction of 2 operations, not committed: "
                                f"create '{base}/t' (1 bytes); delete '{base}/p'>")
            assert await tx.commit() == [base + "/t", True]
            with pytest.raises(ValueError, match="already committed"):
                await tx.commit()
            failing = client.transaction().create(base + "/u").create(base + "/t")
            with pytest.raises(pykeeper.NodeExistsException) as info:
                await failing.commit()
            assert info.value.results is not None and len(info.value.results) == 2
            assert isinstance(info.value.results[0], pykeeper.RolledBackException)
            assert info.value.results[1] is info.value
            assert await client.exists(base + "/u") is None
            await client.delete_recursive(base, force=True)

    asyncio.run(asyncio.wait_for(main(), 60))
