"""`pykeeper.aio`: the asyncio client and its helpers.

    client = pykeeper.aio.ZooKeeper("127.0.0.1:2181")
    await client.connect()
    data, stat = await client.get("/app/config")

The same methods as `pykeeper.ZooKeeper`, as coroutines, on the same
protocol core, session life-cycle and operations.
"""

from .client import (
    ChildrenWatch, ConfigWatch, DataWatch, ReadTransaction, Transaction, TreeCache, TreeEvent,
    ZooKeeper,
)
from . import recipes
from .recipes import *  # noqa: F401,F403 (the recipes, awaited: generated)

__all__ = ["ZooKeeper", "TreeCache", "TreeEvent", "DataWatch", "ChildrenWatch", "ConfigWatch",
           "Transaction", "ReadTransaction"]
__all__ += recipes.__all__
