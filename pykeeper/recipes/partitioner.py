"""`SetPartitioner`: divide a set of items among the members of a party.

    partitioner = client.SetPartitioner("/app/queues", set=["q1", "q2", "q3"],
                                        identifier="host-3", time_boundary=5)
    while True:
        if partitioner.failed:
            raise SystemExit("lost the partition")      # make a new SetPartitioner
        elif partitioner.release:
            partitioner.release_set()                   # the members changed
        elif partitioner.acquired:
            for item in partitioner:                    # this member's share
                work_on(item)
        elif partitioner.allocating:
            partitioner.wait_for_acquire()              # takes this member's share

kazoo's layout and semantics, so kazoo and pykeeper members on one path
split one set: the members are a ShallowParty under `path/party`
(`<uuid>-<identifier>`), and each item a member takes is a Lock at
`path/locks/<item>`. Once the membership has been stable for
`time_boundary` seconds, each member computes its share with
`partition_func(identifier, members, items)` (by default the sorted items
dealt round-robin over the sorted identifiers, as kazoo's) and locks its
items, trying each lock for `max_reaction_time` seconds at a time and
starting over when the membership changes meanwhile.

States (`state`, a PartitionState; and the booleans): "allocating" ->
"acquired" -> (a member came or went) "release" -> release_set() ->
"allocating"; "failure" after finish() or when the session ended (the
partition is a hold: listeners hear "suspended", "reconnected", "lost"),
for good: make a new partitioner then. Unlike kazoo, the allocation runs in
the caller of wait_for_acquire() (or start()), not in a background thread;
a connection loss alone does not move "acquired" to "release" (the hold
listeners say "suspended"; the locks are still held if "reconnected"
follows).
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from enum import Enum
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple

from ..core import operations as ops
from ..core.paths import validate_path
from ..core.steps import Call, Helper, HelperClient, Relay, WaitForEvent
from ..protocol.errors import (
    ClientClosedException, NoNodeException, SessionExpiredException, ZooKeeperException,
)
from ..protocol.records import EventType
from .base import CancelledError, Recipe, deadline, ensure_path, owner
from .lock import LockBase
from .party import PartyBase

__all__ = ["PartitionState", "SetPartitionerBase", "SetPartitioner"]

PartitionFunc = Callable[[str, List[str], List[Any]], Iterable[Any]]


class PartitionState(str, Enum):
    """The states of a SetPartitioner (each a str)."""

    ALLOCATING = "allocating"  # the share is being worked out and locked
    ACQUIRED = "acquired"      # this member holds its share
    RELEASE = "release"        # the members changed: call release_set()
    FAILURE = "failure"        # finished, or the session ended: make a new one

    def __str__(self) -> str:
        return self.value


class _Members(PartyBase):
    """The partitioner's party: kazoo's ShallowParty layout."""

    _SHALLOW = True


def default_partition(identifier: str, members: List[str], items: List[Any]) -> List[Any]:
    """kazoo's partition: the sorted items, every len(members)-th from this
    member's index among the sorted identifiers."""
    workers = sorted(members)
    return sorted(items)[workers.index(identifier)::len(workers)]


def _seconds(value: Any, name: str, zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        wanted = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be seconds {wanted}, not {value!r}")
    return float(value)


class SetPartitionerBase(Recipe):
    """What both SetPartitioner fronts share: the state, the allocation and
    the release, as helpers."""

    def __init__(self, client: HelperClient, path: str, set: Iterable[Any],
                 partition_func: Optional[Callable[[str, List[str], List[Any]],
                                                   Iterable[Any]]] = None,
                 identifier: Optional[str] = None, time_boundary: float = 30,
                 max_reaction_time: float = 1,
                 state_change_event: Optional[Any] = None) -> None:
        super().__init__(client, path)
        if isinstance(set, (str, bytes)) or not isinstance(set, Iterable):
            raise TypeError(f"set must be an iterable of items (not a str), not {set!r}")
        items = list(set)
        if partition_func is not None and not callable(partition_func):
            raise TypeError(f"partition_func must be callable or None, not {partition_func!r}")
        if partition_func is None:
            try:
                sorted(items)
            except TypeError as exc:
                raise TypeError(f"the default partition_func sorts the set: its items must "
                                f"be comparable ({exc})") from None
        if identifier is None or identifier == "":
            # kazoo's host-pid, made unique: two members with one identifier get one share.
            identifier = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.time_boundary = _seconds(time_boundary, "time_boundary", True)
        self.max_reaction_time = _seconds(max_reaction_time, "max_reaction_time", False)
        if state_change_event is not None and not callable(getattr(state_change_event, "set",
                                                                   None)):
            raise TypeError(f"state_change_event must have a set() method (an Event), not "
                            f"{state_change_event!r}")
        self._party = _Members(client, f"{path}/party", identifier)
        self.identifier: str = identifier
        self._lock_path = f"{path}/locks"
        names = [str(item) for item in items]
        for name in names:
            if not name or "/" in name:
                raise ValueError(f"each item is a lock node's name: no '/' and not empty, "
                                 f"not {name!r}")
            validate_path(f"{self._lock_path}/{name}", "an item's lock node")
        if len(frozenset(names)) != len(names):
            raise ValueError(f"two items of the set have one name (one lock node): {names}")
        self._set = items
        self._partition_func: PartitionFunc = partition_func or default_partition
        self.state_change_event = state_change_event
        self.state_id = 0  # counts the state changes (kazoo's)
        self._state = PartitionState.ALLOCATING
        self._partition: List[Any] = []
        self._locks: List[LockBase] = []  # the locks held (or being released)
        self._members_version = 0  # bumped by every change of the party's children
        self._watch = Relay(self._on_members)  # (what the client's watch table holds)
        self._allocator: Optional[object] = None  # the thread or task allocating
        self._contending: Optional[LockBase] = None  # the lock it is trying
        self._cancelled = False
        self._lock = threading.RLock()

    # -- state, read from memory ------------------------------------------------------------

    @property
    def state(self) -> PartitionState:
        """The current PartitionState (a str: "allocating", "acquired", ...)."""
        return self._state

    @property
    def allocating(self) -> bool:
        """True in the "allocating" state: call wait_for_acquire()."""
        return self._state is PartitionState.ALLOCATING

    @property
    def acquired(self) -> bool:
        """True in the "acquired" state: iterate over this member's share."""
        return self._state is PartitionState.ACQUIRED

    @property
    def release(self) -> bool:
        """True in the "release" state: the members changed, call release_set()."""
        return self._state is PartitionState.RELEASE

    @property
    def failed(self) -> bool:
        """True in the "failure" state (finished, or the session ended): for good."""
        return self._state is PartitionState.FAILURE

    def __iter__(self) -> Iterator[Any]:
        """This member's share (empty unless "acquired" or "release")."""
        return iter(list(self._partition))

    def __len__(self) -> int:
        return len(self._partition)

    def cancel(self) -> None:
        """End a waiting wait_for_acquire() (from any thread or task): it
        raises CancelledError, holding nothing. Never blocks."""
        with self._lock:
            self._cancelled = True
            contending = self._contending
        if contending is not None:
            contending.cancel()
        self._wake.fire()

    def _set_state(self, state: PartitionState) -> None:
        """(With self._lock held.)"""
        if self._state is state or self._state is PartitionState.FAILURE:
            return
        self._state = state
        self.state_id += 1
        if state in (PartitionState.ALLOCATING, PartitionState.FAILURE):
            self._partition = []
        if self.state_change_event is not None:
            self.state_change_event.set()
        self._wake.fire()

    def _on_members(self, event: Any) -> None:
        if getattr(event, "type", None) == EventType.NONE:
            return  # (the session's news: the state listener handles it)
        with self._lock:
            self._members_version += 1
            if self._state is PartitionState.ACQUIRED:
                self._set_state(PartitionState.RELEASE)
            contending = self._contending
        if contending is not None:
            contending.cancel()  # (its wait ends now, not after max_reaction_time)
        self._wake.fire()

    def _hold_lost(self) -> None:
        with self._lock:
            locks, self._locks = self._locks, []
            self._set_state(PartitionState.FAILURE)
        for lock in locks:
            lock._untrack()  # (their nodes went with the session)
        self._party.participating = False
        self._party._untrack()

    # -- helpers ----------------------------------------------------------------------------

    def _join(self) -> "Helper[None]":
        yield from ensure_path(self._lock_path)
        yield from self._party._join()
        self._take_hold()

    def _start(self) -> "Helper[None]":
        if self._state is PartitionState.FAILURE:
            raise RuntimeError(f"{self!r} has failed (or finished): make a new one")
        if not self._party.participating:
            yield from self._join()

    def _check(self, session: Optional[int]) -> None:
        """Raise if a waiting allocation must end (cancel, session, client)."""
        if self._cancelled:
            raise CancelledError(f"the allocation of {self.path} was cancelled")
        try:
            self._check_session(session, f"the allocation of {self.path}")
        except (SessionExpiredException, ClientClosedException):
            with self._lock:
                self._set_state(PartitionState.FAILURE)
            raise

    def _wait_for_acquire(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        me = owner()
        with self._lock:
            self._cancelled = False
        # One allocation at a time per partitioner; other callers wait for its outcome.
        while True:
            generation = self._wake.generation
            with self._lock:
                if self._state is PartitionState.ACQUIRED:
                    return True
                if self._state is not PartitionState.ALLOCATING:
                    return False
                if self._allocator is None:
                    self._allocator = me
                    break
            self._track()
            self._check(None)
            if until is not None and time.monotonic() >= until:
                return False
            yield WaitForEvent(self._wake, until, after=generation)
        try:
            return (yield from self._allocate(until))
        finally:
            with self._lock:
                self._allocator = None
            self._wake.fire()

    def _allocate(self, until: Optional[float]) -> "Helper[bool]":
        done = False
        try:
            if self._locks:
                yield from self._release_locks()  # (left by an earlier call that failed)
            if not self._party.participating:
                yield from self._join()
            session = self._hold_session
            while True:
                settled = yield from self._settle(until, session)
                if settled is None:
                    return False
                members, version = settled
                share = list(self._partition_func(self.identifier, members, list(self._set)))
                locked = yield from self._lock_all(share, version, until, session)
                if locked is None:
                    return False
                if locked:
                    with self._lock:
                        if self._state is PartitionState.ALLOCATING and \
                                version == self._members_version:
                            self._partition = share
                            self._set_state(PartitionState.ACQUIRED)
                            done = True
                            return True
                self._check(session)
                if self._state is not PartitionState.ALLOCATING:
                    return False  # (finished meanwhile)
                yield from self._release_locks()  # (the party changed: settle again)
        finally:
            if not done:
                try:
                    yield from self._release_locks()
                except ZooKeeperException:
                    pass  # (what raised first, or the timeout, is what the caller hears)

    def _settle(self, until: Optional[float], session: Optional[int]
                ) -> "Helper[Optional[Tuple[List[str], int]]]":
        """The members once unchanged for time_boundary, and the version they
        are of; None at `until` or when the allocation was ended."""
        while True:
            version = self._members_version
            try:
                children = yield Call(ops.get_children, self._party.path, self._watch,
                                      retry=True)
            except NoNodeException:
                children = []
            if self._party.node not in children:
                # (Not a member yet, or an admin deleted our node or the party.)
                yield from self._join()
                continue
            stable = time.monotonic() + self.time_boundary
            while version == self._members_version:
                generation = self._wake.generation
                self._check(session)
                if self._state is not PartitionState.ALLOCATING:
                    return None
                now = time.monotonic()
                if now >= stable:
                    members = yield from self._party._members()
                    if self.identifier in members and version == self._members_version:
                        return members, version
                    break
                if until is not None and now >= until:
                    return None
                if version != self._members_version:
                    break
                yield WaitForEvent(self._wake, stable if until is None else min(stable, until),
                                   after=generation)

    def _lock_all(self, share: List[Any], version: int, until: Optional[float],
                  session: Optional[int]) -> "Helper[Optional[bool]]":
        """Lock each item of `share`: True when all are held; False when the
        party changed (or the allocation was ended); None at `until`."""
        for item in share:
            lock = LockBase(self.client, f"{self._lock_path}/{item}", self.identifier)
            while True:
                self._check(session)
                if version != self._members_version or \
                        self._state is not PartitionState.ALLOCATING:
                    return False
                now = time.monotonic()
                if until is not None and now >= until:
                    return None
                # A bounded try, so a party change is seen even if no watch fires for it.
                wait = self.max_reaction_time if until is None else \
                    min(self.max_reaction_time, until - now)
                with self._lock:
                    self._contending = lock
                try:
                    got = yield from lock._acquire(True, wait)
                except CancelledError:
                    if self._cancelled:
                        raise
                    got = False  # (the party changed, or finish(): seen above)
                finally:
                    with self._lock:
                        self._contending = None
                if got:
                    break
            with self._lock:
                self._locks.append(lock)
        return version == self._members_version

    def _release_locks(self) -> "Helper[None]":
        """Release every lock held; the first error after trying them all."""
        failed: List[LockBase] = []
        error: Optional[ZooKeeperException] = None
        while True:
            with self._lock:
                if not self._locks:
                    break
                lock = self._locks.pop()
            try:
                yield from lock._release()
            except ZooKeeperException as exc:
                failed.append(lock)
                error = error or exc
        if failed:
            with self._lock:
                self._locks.extend(failed)
        if error is not None:
            raise error

    def _release_set(self) -> "Helper[None]":
        with self._lock:
            if self._state is PartitionState.FAILURE or self._allocator is not None:
                return  # (an allocation running gives up its own locks)
        yield from self._release_locks()
        with self._lock:
            self._set_state(PartitionState.ALLOCATING)

    def _finish(self) -> "Helper[None]":
        with self._lock:
            self._set_state(PartitionState.FAILURE)
            contending = self._contending
        if contending is not None:
            contending.cancel()
        self._wake.fire()
        try:
            yield from self._release_locks()
        finally:
            self._watch.release()
            self._drop_hold()
            self._untrack()
            if self._party.participating:
                yield from self._party._leave()


class SetPartitioner(SetPartitionerBase):
    """A set partitioned among a party's members. See the module docstring.
    A partitioner may be shared by threads (or tasks): one allocation runs
    at a time; the state and the share are read from memory."""

    def start(self) -> None:
        """Join the party now (making the nodes under `path` as needed), so
        the others count this member; wait_for_acquire() joins if this was
        not called. A few round trips. RuntimeError after "failure"."""
        self._run_sync(self._start())

    def wait_for_acquire(self, timeout: Optional[float] = 30) -> bool:
        """Allocate (join if needed, wait until the party has been stable
        for time_boundary, lock this member's share): True once "acquired";
        False after `timeout` seconds (None: no limit; the locks taken are
        given back, the state stays "allocating"), or at once in "release"
        (call release_set() first) and "failure". Blocks up to `timeout`
        plus the round trips giving back what it took. Raises CancelledError after cancel(),
        SessionExpiredException if the session ended (the state is then
        "failure"), ClientClosedException."""
        return self._run_sync(self._wait_for_acquire(timeout))

    def release_set(self) -> None:
        """Release this member's share (its locks) and go back to
        "allocating"; nothing in "failure" or while an allocation runs.
        A round trip per item held."""
        self._run_sync(self._release_set())

    def finish(self) -> None:
        """Release the share and leave the party, for good (state "failure";
        a waiting wait_for_acquire() returns False). A round trip per item
        held, and one more."""
        self._run_sync(self._finish())
