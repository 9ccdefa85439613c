"""Recipes: locks, elections, leases, barriers, counters, queues, membership and
service discovery on the sync client (`client.Lock(path)` or
`pykeeper.recipes.Lock(client, path)`); `pykeeper.aio` has the same names,
awaited. Each recipe's logic is written once (see pykeeper.recipes.base)."""

from .base import CancelledError, HoldEvent
from .barrier import Barrier, DoubleBarrier
from .counter import Counter
from .discovery import ServiceDiscovery, ServiceWatch
from .discovery_format import ServiceInstance, UriPart, UriSpec
from .election import Election
from .ephemeral import PersistentEphemeralNode
from .latch import LeaderLatch
from .lease import MultiNonBlockingLease, NonBlockingLease
from .lock import Lock, ReadLock, WriteLock
from .partitioner import PartitionState, SetPartitioner
from .party import Party, ShallowParty
from .queue import LockingQueue, Queue
from .semaphore import Semaphore

__all__ = [
    "Barrier", "CancelledError", "Counter", "DoubleBarrier", "Election", "HoldEvent",
    "LeaderLatch", "Lock", "LockingQueue", "MultiNonBlockingLease", "NonBlockingLease",
    "PartitionState", "Party",
    "PersistentEphemeralNode", "Queue", "ReadLock",
    "Semaphore", "ServiceDiscovery", "ServiceInstance", "ServiceWatch", "SetPartitioner",
    "ShallowParty", "UriPart", "UriSpec", "WriteLock",
]
