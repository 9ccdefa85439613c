"""`Queue` and `LockingQueue`: first in, first out, with priorities.

    queue = client.Queue("/app/jobs")
    queue.put(b"job-1")                 # priority=100; lower numbers go first (0..999)
    queue.get()                         # b"job-1", or None when empty
    queue.get(block=True, timeout=5)    # wait up to 5 s for an item

    jobs = client.LockingQueue("/app/jobs")
    item = jobs.get(timeout=5)          # taken under a lease (None after 5 s)
    ...                                 # work on it
    jobs.consume()                      # done: remove it (jobs.release() puts it back)

kazoo's layouts, so kazoo and pykeeper producers and consumers share a
queue: a Queue's items are the children `entry-<priority:03d>-<sequence>`
of its path, taken in name order (priority, then arrival) by deleting
them; a LockingQueue's are under `<path>/entries`, and a consumer leases
one with an ephemeral `<path>/taken/<entry>` holding its id, so an item
whose consumer's session ends is offered again.

Exactly once across dropped connections: every put, and every Queue take,
is a multi that also creates an ephemeral receipt `<uuid>` (under
`<path>.receipts` for a Queue, whose every child is an item; under
`<path>/receipts` for a LockingQueue; container nodes). A try repeated
after a lost reply meets its own receipt (NodeExists) when the first
applied, so an item is put once and a taken item is returned, never
dropped. The receipt is deleted without waiting once the outcome is known;
one missed then goes with the session. A Queue take is a delete at the
version read, so two consumers never both get an item; one cancelled while
its multi is in flight puts a taken item back (at the end of its
priority), and a LockingQueue lease taken by a cancelled get is let go. A
put cancelled once it applied deletes its entries again (those created at
its receipt's zxid), but one a consumer has already taken or leased.
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import Future
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..core import operations as ops
from ..core.paths import to_bytes
from ..core.steps import Call, Helper, HelperClient, Operation, WaitForEvent
from ..protocol import requests as rq
from ..protocol.errors import (
    BadVersionException, NodeExistsException, NoNodeException, RolledBackException,
    RuntimeInconsistencyException, ZooKeeperException,
)
from ..protocol.records import CreateFlags, Stat
from .base import Recipe, children_of, deadline, ensure_path

__all__ = ["BaseQueue", "QueueBase", "Queue", "LockingQueueBase", "LockingQueue"]

_PRIORITY = re.compile(r"^entry-(\d{3})-")


def _check_priority(priority: Any) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise TypeError(f"priority must be an int from 0 to 999, not {priority!r}")
    if not 0 <= priority <= 999:
        raise ValueError(f"priority must be from 0 (first) to 999, not {priority}")
    return priority


def _container(client: Any, path: str) -> Operation:
    return ops.create(client, path, b"", None, 0, container=True)


def _failed_index(failure: ZooKeeperException) -> int:
    """Which operation of a failed multi failed (-1 if unknown)."""
    results = getattr(failure, "results", None) or []
    for index, result in enumerate(results):
        if isinstance(result, ZooKeeperException) and not isinstance(
                result, (RolledBackException, RuntimeInconsistencyException)):
            return index
    return -1


def _ignore(future: "Future[Any]") -> None:
    if not future.cancelled():
        future.exception()  # (retrieved: a receipt not deleted goes with the session)


class BaseQueue(Recipe):
    """What both queues share: items as sequential nodes, and the
    receipt-carrying multi that makes a retried put or take apply once."""

    def __init__(self, client: HelperClient, path: str, entries: str, receipts: str,
                 structure: Sequence[str]) -> None:
        super().__init__(client, path)
        self._entries = entries
        self._receipts = receipts
        self._taken: Optional[str] = None  # (LockingQueue: where its leases are)
        self._structure = tuple(structure)
        self._ready = False
        self._waiters = 0

    def cancel(self) -> None:
        """End a waiting get (it raises CancelledError). From any thread or
        task; never blocks."""
        self._cancel()

    # -- checks made before anything is sent --------------------------------------------

    def _item(self, value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"a queue item must be bytes, not {type(value).__name__}")
        return to_bytes(value, self.client.max_data_size, "a queue item")

    def _entry_request(self, data: bytes, priority: int) -> rq.Create:
        return rq.Create(f"{self._entries}/entry-{priority:03d}-", data,
                         ops.acl_of(self.client, None), int(CreateFlags.SEQUENTIAL))

    # -- steps ----------------------------------------------------------------------

    def _ensure(self) -> "Helper[None]":
        if not self._ready:
            for path in self._structure:
                yield from ensure_path(path)
            self._ready = True

    def _commit(self, requests: List[rq.Request],
                undo: Optional[Callable[[Stat], "Helper[None]"]] = None
                ) -> "Helper[Optional[List[Any]]]":
        """Apply `requests` with a receipt, in one multi retried across
        connection losses: their results, or None when a retry met the
        receipt (an earlier try applied; its reply was lost). Raises the
        exception of the request that failed. If the wait is cancelled
        while the multi is in flight and it applied, `undo(receipt's stat)`
        runs (the stat's czxid is the multi's zxid)."""
        receipt = f"{self._receipts}/{uuid.uuid4().hex}"
        multi = [rq.Create(receipt, b"", ops.acl_of(self.client, None),
                           int(CreateFlags.EPHEMERAL)), *requests]
        for _ in range(3):
            try:
                results: List[Any] = yield Call(ops.commit, multi, retry=True)
            except ZooKeeperException as failure:
                index = _failed_index(failure)
                if index == 0 and isinstance(failure, NodeExistsException):
                    self._forget(receipt)
                    return None
                if index == 0 and isinstance(failure, NoNodeException):
                    # (the receipts' container was reaped while empty: make it again)
                    try:
                        yield Call(_container, self._receipts, retry=True)
                    except NodeExistsException:
                        pass
                    continue
                raise
            except Exception:
                raise
            except BaseException:
                # Cancelled: the multi may have applied with its reply lost to us; a
                # read on the same session is answered after it.
                if undo is not None:
                    stat = yield Call(ops.exists, receipt, retry=True)
                    if stat is not None:
                        yield from undo(stat)
                self._forget(receipt)
                raise
            self._forget(receipt)
            return results[1:]
        raise NoNodeException(f"{self._receipts} kept disappearing", self._receipts)

    def _forget(self, receipt: str) -> None:
        """Delete a receipt without waiting for the answer."""
        try:
            future = self.client.start_operation(ops.delete(self.client, receipt))
        except ZooKeeperException:
            return  # (not connected: the ephemeral receipt goes with the session)
        future.add_done_callback(_ignore)

    def _put(self, value: Any, priority: int = 100) -> "Helper[None]":
        request = self._entry_request(self._item(value), _check_priority(priority))
        yield from self._ensure()
        yield from self._commit([request], lambda made: self._unput(made.czxid, priority, 1))

    def _unput(self, zxid: int, priority: int, count: int) -> "Helper[None]":
        """(A put cancelled once it applied.) Delete the `count` entries its
        multi made (created at `zxid`, of `priority`: among the newest),
        but those a consumer has taken or leased already."""
        prefix = f"entry-{priority:03d}-"
        names = sorted((name for name in (yield from children_of(self._entries))
                        if name.startswith(prefix)), reverse=True)
        for name in names:
            if count == 0:
                return
            entry = f"{self._entries}/{name}"
            stat = yield Call(ops.exists, entry, retry=True)
            if stat is None or stat.czxid > zxid:
                continue
            if stat.czxid < zxid:
                return  # (older than the put: the rest are older still)
            count -= 1
            withdraw: List[rq.Request] = [rq.Delete(entry, stat.version)]
            if self._taken is not None:
                # (Taken as a consumer would lease it, in the same multi: an entry
                # a consumer has leased already is its consumer's.)
                lease = f"{self._taken}/{name}"
                withdraw = [rq.Create(lease, b"", ops.acl_of(self.client, None),
                                      int(CreateFlags.EPHEMERAL)), *withdraw, rq.Delete(lease)]
            try:
                yield Call(ops.commit, withdraw, retry=True)
            except NoNodeException as failure:
                if len(withdraw) > 1 and _failed_index(failure) == 0:
                    # (No `taken/` node, deleted from outside: so no lease either.)
                    try:
                        yield Call(ops.delete, entry, stat.version, retry=True)
                    except (BadVersionException, NoNodeException):
                        pass
            except (BadVersionException, NodeExistsException):
                pass

    def _put_all(self, values: Any, priority: int = 100) -> "Helper[None]":
        if isinstance(values, (bytes, str)) or not hasattr(values, "__iter__"):
            raise TypeError(f"values must be a list of bytes, not {type(values).__name__}")
        _check_priority(priority)
        creates = [self._entry_request(self._item(value), priority) for value in values]
        if not creates:
            return
        size = sum(len(create.data) + 64 for create in creates)
        if size > self.client.max_data_size:
            raise ValueError(f"put_all of {len(creates)} items is about {size} bytes, over the "
                             f"{self.client.max_data_size} one transaction may be: split it")
        yield from self._ensure()
        yield from self._commit(list(creates),
                                lambda made: self._unput(made.czxid, priority, len(creates)))

    def _count(self) -> "Helper[int]":
        yield from self._ensure()
        _, stat = yield Call(ops.get, self._entries, retry=True)
        count: int = stat.numChildren
        return count

    def _untrack_if_idle(self) -> None:
        """Stop following the client's state once nothing waits or holds."""
        with self._guard:
            idle = self._waiters == 0 and not self.holding
        if idle:
            self._untrack()

    def _wait_for_change(self, generation: int, until: Optional[float], what: str
                         ) -> "Helper[bool]":
        """Wait for a watch (or a state change, or cancel) after `generation`:
        False at `until`."""
        with self._guard:
            self._waiters += 1
        self._track()
        try:
            fired: bool = yield WaitForEvent(self._wake, until, after=generation)
        finally:
            with self._guard:
                self._waiters -= 1
            self._untrack_if_idle()
        self._check_cancelled(what)
        self._check_session(None, what)
        return fired


class QueueBase(BaseQueue):
    """What both Queue fronts share: takes that delete the item."""

    def __init__(self, client: HelperClient, path: str) -> None:
        super().__init__(client, path, path, f"{path}.receipts", (path,))
        self._names: List[str] = []  # the items seen at the last listing, in order

    def _get(self, block: bool = False, timeout: Optional[float] = None
             ) -> "Helper[Optional[bytes]]":
        until = deadline(timeout, block)
        what = f"the get from {self.path}"
        self._cancelled = False
        yield from self._ensure()
        while True:
            self._check_cancelled(what)
            try:
                name = self._names.pop(0)
            except IndexError:
                pass
            else:
                data = yield from self._take(name)
                if data is not None:
                    return data
                continue
            generation = self._wake.generation
            children: List[str] = yield Call(ops.get_children, self.path,
                                             self._wake if block else None, retry=True)
            self._names = sorted(children)
            if self._names:
                continue
            if not block or (until is not None and time.monotonic() >= until):
                return None
            if not (yield from self._wait_for_change(generation, until, what)):
                return None

    def _take(self, name: str) -> "Helper[Optional[bytes]]":
        entry = f"{self.path}/{name}"
        try:
            data, stat = yield Call(ops.get, entry, retry=True)
        except NoNodeException:
            return None  # (taken by another consumer)
        match = _PRIORITY.match(name)
        priority = int(match.group(1)) if match else 100

        def put_back(_: Stat) -> "Helper[None]":
            yield from self._commit([self._entry_request(data, priority)])

        try:
            yield from self._commit([rq.Delete(entry, stat.version)], put_back)
        except (NoNodeException, BadVersionException):
            return None  # (another consumer took it first)
        taken: bytes = data
        return taken


class Queue(QueueBase):
    """A queue whose get removes the item (kazoo's Queue). See the module
    docstring. Safe to share between threads; each call is one or a few
    round trips, retried across connection losses."""

    def put(self, value: bytes, priority: int = 100) -> None:
        """Add `value` (bytes) with `priority` (0 first .. 999; 100 by default):
        exactly once, even when a reply is lost and the put retried. Raises
        TypeError or ValueError for a bad value or priority, before sending."""
        self._run_sync(self._put(value, priority))

    def put_all(self, values: List[bytes], priority: int = 100) -> None:
        """Add every value of `values` in one transaction (all or none), in
        order, with `priority`. Raises as put() does, before sending."""
        self._run_sync(self._put_all(values, priority))

    def get(self, block: bool = False, timeout: Optional[float] = None) -> Optional[bytes]:
        """Take the next item (lowest priority number, then oldest) and
        return it; None if there is none (kazoo's behaviour), or with
        `block` after waiting `timeout` seconds (None: no limit) for one.
        Raises CancelledError after cancel(), ClientClosedException if the
        client closes during a wait."""
        return self._run_sync(self._get(block, timeout))

    def count(self) -> int:
        """How many items there are."""
        return self._run_sync(self._count())

    def __len__(self) -> int:
        return self._run_sync(self._count())


class LockingQueueBase(BaseQueue):
    """What both LockingQueue fronts share: leases on items, consume and release."""

    def __init__(self, client: HelperClient, path: str) -> None:
        super().__init__(client, path, f"{path}/entries", f"{path}/receipts",
                         (f"{path}/entries", f"{path}/taken"))
        self._taken = f"{path}/taken"
        self.id = uuid.uuid4().hex.encode()  # the lease's data: which consumer holds it
        self.processing_element: Optional[Tuple[str, bytes]] = None  # (entry name, item)

    def _hold_lost(self) -> None:
        self.processing_element = None  # (the lease went with the session)

    def _get(self, timeout: Optional[float] = None) -> "Helper[Optional[bytes]]":
        if self.processing_element is not None:
            return self.processing_element[1]
        until = deadline(timeout)
        what = f"the get from {self.path}"
        self._cancelled = False
        yield from self._ensure()
        while True:
            self._check_cancelled(what)
            generation = self._wake.generation
            entries = yield Call(ops.get_children, self._entries, self._wake, retry=True)
            taken = set((yield Call(ops.get_children, self._taken, self._wake, retry=True)))
            for name in sorted(set(entries) - taken):
                data = yield from self._lease(name)
                if data is not None:
                    self.processing_element = (name, data)
                    self._take_hold()
                    return data
            if until is not None and time.monotonic() >= until:
                return None
            if not (yield from self._wait_for_change(generation, until, what)):
                return None

    def _lease(self, name: str) -> "Helper[Optional[bytes]]":
        lease = f"{self._taken}/{name}"
        try:
            yield Call(ops.create, lease, self.id, None, int(CreateFlags.EPHEMERAL),
                       retry=True)
        except NodeExistsException:
            return None  # (another consumer holds it)
        except Exception:
            raise
        except BaseException:
            yield from self._let_go(lease)  # (cancelled: the create may have applied)
            raise
        try:
            data: bytes
            data, _ = yield Call(ops.get, f"{self._entries}/{name}", retry=True)
        except NoNodeException:
            yield from self._let_go(lease)  # (consumed between our listing and our lease)
            return None
        except BaseException:
            yield from self._let_go(lease)
            raise
        return data

    def _let_go(self, lease: str) -> "Helper[None]":
        """Delete `lease` if this consumer holds it."""
        try:
            data, stat = yield Call(ops.get, lease, retry=True)
            if data == self.id and stat.ephemeralOwner == self.client.session_id:
                yield Call(ops.delete, lease, stat.version, retry=True)
        except NoNodeException:
            pass

    def _holds_lock(self) -> "Helper[bool]":
        element = self.processing_element
        if element is None:
            return False
        lease = f"{self._taken}/{element[0]}"
        yield Call(ops.sync, lease, retry=True)
        try:
            data, _ = yield Call(ops.get, lease, retry=True)
        except NoNodeException:
            return False
        return bool(data == self.id)

    def _done(self, consume: bool) -> "Helper[bool]":
        element = self.processing_element
        if element is None or not (yield from self._holds_lock()):
            return False
        name = element[0]
        requests: List[rq.Request] = [rq.Delete(f"{self._taken}/{name}")]
        if consume:
            requests.insert(0, rq.Delete(f"{self._entries}/{name}"))
        try:
            yield Call(ops.commit, requests, retry=True)
        except NoNodeException:
            pass  # (a retry after our first try applied: only we could delete them)
        self.processing_element = None
        self._drop_hold()
        self._untrack_if_idle()
        return True


class LockingQueue(LockingQueueBase):
    """A queue whose get leases the item until consume() or release()
    (kazoo's LockingQueue). See the module docstring. Safe to share between
    threads, one item at a time per object (use one object per worker);
    each call is one or a few round trips, retried across connection
    losses."""

    def put(self, value: bytes, priority: int = 100) -> None:
        """Add `value` (bytes) with `priority` (0 first .. 999; 100 by default):
        exactly once, even when a reply is lost and the put retried. Raises
        TypeError or ValueError for a bad value or priority, before sending."""
        self._run_sync(self._put(value, priority))

    def put_all(self, values: List[bytes], priority: int = 100) -> None:
        """Add every value of `values` in one transaction (all or none), in
        order, with `priority`. Raises as put() does, before sending."""
        self._run_sync(self._put_all(values, priority))

    def get(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """The next item, leased to this object (the one it holds already if
        not consumed or released): blocks until there is one, or `timeout`
        seconds (None: no limit), then None. Raises CancelledError after
        cancel(), ClientClosedException if the client closes meanwhile."""
        return self._run_sync(self._get(timeout))

    def holds_lock(self) -> bool:
        """True if this object still holds the lease of its item (a sync and a read)."""
        return self._run_sync(self._holds_lock())

    def consume(self) -> bool:
        """Remove the leased item from the queue: True, or False if this
        object holds no lease (none taken, or lost with its session)."""
        return self._run_sync(self._done(consume=True))

    def release(self) -> bool:
        """Give the leased item back for another consumer: True, or False if
        this object holds no lease."""
        return self._run_sync(self._done(consume=False))

    def count(self) -> int:
        """How many items there are, leased ones included."""
        return self._run_sync(self._count())

    def __len__(self) -> int:
        return self._run_sync(self._count())
