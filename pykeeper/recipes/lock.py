"""`Lock`, `ReadLock` and `WriteLock`: fair locks on a ZooKeeper path.

    lock = client.Lock("/app/jobs/nightly", identifier="worker-3")
    with lock:                      # blocks until this client holds it
        ...
    if lock.acquire(timeout=5):     # False after 5 s
        try: ...
        finally: lock.release()

Each contender makes an ephemeral sequential child of the lock's path,
`<uuid>__lock__<sequence>` (`__rlock__` for readers), holding its
identifier: kazoo's layout, so kazoo and pykeeper clients exclude each
other and list each other as contenders. The lowest sequence blocking a
contender's kind holds the lock; every other contender watches the one
just before it, so a release wakes exactly one waiter (no herd). A reader
is blocked only by writers before it, a writer by everyone before it:
writers queue in order with readers and are never starved.

A create whose reply was lost is found again by its protected name (see
pykeeper.core.operations), so no orphan node blocks the lock. A waiter
re-checks after every change of its client's state: its session ending
raises SessionExpiredException, the client closing ClientClosedException,
`cancel()` CancelledError; a predecessor an admin deleted is a release.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any, Iterable, List, Optional, Pattern, Tuple

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient, WaitForEvent
from ..protocol.errors import NoNodeException
from ..protocol.records import CreateFlags
from .base import (
    Recipe, by_sequence, children_of, create_under, deadline, delete_if_there, identifiers, owner,
)

__all__ = ["LockBase", "Lock", "ReadLock", "WriteLock"]

_EPHEMERAL_SEQUENTIAL = CreateFlags.EPHEMERAL | CreateFlags.SEQUENTIAL


class LockBase(Recipe):
    """What the lock fronts share: the contender node and the wait."""

    _NODE_NAME = "__lock__"
    _EXCLUDE_NAMES: Tuple[str, ...] = ("__lock__",)  # the node kinds that block this one

    def __init__(self, client: HelperClient, path: str, identifier: Optional[str] = None,
                 extra_lock_patterns: Iterable[str] = ()) -> None:
        super().__init__(client, path)
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        self.identifier = identifier
        self.data = (identifier or "").encode("utf-8")
        blocking = sorted(set(self._EXCLUDE_NAMES) | set(extra_lock_patterns))
        self._blocking_re = self._pattern(blocking)
        self._contenders_re = self._pattern(sorted(set(blocking) | {self._NODE_NAME}))
        self.prefix = uuid.uuid4().hex + self._NODE_NAME
        self.node: Optional[str] = None  # our contender node's name, while we have one
        self.is_acquired = False
        self._holder: Optional[object] = None  # the thread or task holding (or acquiring)
        self._count = 0  # re-entrant acquires by the holder
        self._local = threading.Lock()

    @staticmethod
    def _pattern(names: List[str]) -> Pattern[str]:
        return re.compile(r"(?:%s)(-?\d{10})$" % "|".join(re.escape(n) for n in names))

    def cancel(self) -> None:
        """End a waiting acquire (from any thread or task): it raises
        CancelledError. Never blocks."""
        self._cancel()

    def _hold_lost(self) -> None:
        self.is_acquired = False
        self.node = None
        self._count = 0
        self._holder = None

    # -- helpers -----------------------------------------------------------------------

    def _acquire(self, blocking: bool = True, timeout: Optional[float] = None,
                 ephemeral: bool = True) -> "Helper[bool]":
        until = deadline(timeout, blocking)
        me = owner()
        self._cancelled = False
        # One holder per lock object (re-entrant for it); others on this object
        # wait here for it, without a node of their own.
        while True:
            with self._local:
                if self._holder is None:
                    self._holder = me
                    break
                if self._holder == me and self.is_acquired:
                    self._count += 1
                    return True
                generation = self._wake.generation
            self._check_cancelled(f"the acquire of {self.path}")
            if until is not None and time.monotonic() >= until:
                return False
            self._track()
            yield WaitForEvent(self._wake, until, after=generation)
            self._check_cancelled(f"the acquire of {self.path}")
            self._check_session(None, f"the acquire of {self.path}")
        try:
            acquired = yield from self._contend(until, ephemeral)
        except BaseException:
            yield from self._give_up()
            raise
        if not acquired:
            yield from self._give_up()
        return acquired

    def _contend(self, deadline: Optional[float], ephemeral: bool) -> "Helper[bool]":
        self._track()
        flags = _EPHEMERAL_SEQUENTIAL if ephemeral else CreateFlags.SEQUENTIAL
        created = yield from create_under(self.path, self.prefix, self.data, flags)
        self.node = created.rsplit("/", 1)[1]
        session = self.client.session_id
        what = f"the acquire of {self.path}"
        while True:
            generation = self._wake.generation
            # (A cancel() that fired before this generation was read wakes no wait below.)
            self._check_cancelled(f"the acquire of {self.path}")
            children = yield Call(ops.get_children, self.path, retry=True)
            if self.node not in children:
                # Deleted by someone else (or with a session that ended): start over.
                self._check_session(session if ephemeral else None, what)
                created = yield from create_under(self.path, self.prefix, self.data,
                                                  flags)
                self.node = created.rsplit("/", 1)[1]
                session = self.client.session_id
                continue
            predecessor = self._predecessor(children, self.node)
            if predecessor is None:
                self.is_acquired = True
                self._count = 1
                if ephemeral:
                    self._take_hold()
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            stat = yield Call(ops.exists, f"{self.path}/{predecessor}", self._wake, retry=True)
            if stat is not None:
                fired = yield WaitForEvent(self._wake, deadline, after=generation)
                self._check_cancelled(f"the acquire of {self.path}")
                self._check_session(session if ephemeral else None, what)
                if not fired:
                    return False

    def _predecessor(self, children: List[str], node: str) -> Optional[str]:
        """The blocking contender just before `node`, or None if none is."""
        ours = self._contenders_re.search(node)
        if ours is None:
            raise ValueError(f"not a contender node: {node!r}")
        sequence = int(ours.group(1))
        best: Optional[Tuple[int, str]] = None
        for child in children:
            match = self._blocking_re.search(child)
            if match is not None and child != node:
                number = int(match.group(1))
                if number < sequence and (best is None or number > best[0]):
                    best = (number, child)
        return None if best is None else best[1]

    def _give_up(self) -> "Helper[None]":
        """Delete our node (if any) and free the lock object."""
        node, self.node = self.node, None
        self.is_acquired = False
        self._count = 0
        self._drop_hold()
        try:
            if node is not None:
                try:
                    yield Call(ops.delete, f"{self.path}/{node}", retry=True)
                except NoNodeException:
                    pass
                except (Exception, GeneratorExit):
                    raise
                except BaseException:
                    # (Cancelled while the delete waited, for a reconnection say: left,
                    # the node would block every later taker while the session lives.)
                    yield from delete_if_there(f"{self.path}/{node}")
                    raise
        finally:
            with self._local:
                self._holder = None
            self._untrack()
            self._wake.fire()  # (another owner on this object waits for it)

    def _release(self) -> "Helper[bool]":
        if not self.is_acquired:
            return False
        if self._count > 1:
            self._count -= 1
            return True
        yield from self._give_up()
        return True

    def _contenders(self) -> "Helper[List[str]]":
        children = yield from children_of(self.path)
        return (yield from identifiers(self.path, by_sequence(children, self._contenders_re)))


class Lock(LockBase):
    """A fair, re-entrant lock: contenders get it in the order they asked.
    See the module docstring. A Lock object may be shared by threads (or
    tasks): one of them holds it at a time; the holder may acquire again
    and must release as often."""

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None,
                ephemeral: bool = True) -> bool:
        """Take the lock: True once held; False if `blocking` is False and it
        is held elsewhere, or after `timeout` seconds (None: no limit).
        Waits for that long at most, plus the round
        trips. Raises CancelledError after cancel(), SessionExpiredException
        if the session ended meanwhile, ClientClosedException."""
        return self._run_sync(self._acquire(blocking, timeout, ephemeral))

    def release(self) -> bool:
        """Give the lock up (once per acquire): True if it was held, False if
        not. One round trip (retried across connection losses)."""
        return self._run_sync(self._release())

    def contenders(self) -> List[str]:
        """The identifiers of the contenders, the holder first, in order
        (pykeeper's and kazoo's). A round trip per contender."""
        return self._run_sync(self._contenders())

    def __enter__(self) -> "Lock":
        self._run_sync(self._acquire(True, None, True))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._run_sync(self._release())


class WriteLock(Lock):
    """The exclusive side of a shared/exclusive lock on a path: held alone,
    after every reader and writer that asked before it."""

    _NODE_NAME = "__lock__"
    _EXCLUDE_NAMES = ("__lock__", "__rlock__")


class ReadLock(Lock):
    """The shared side of a shared/exclusive lock on a path: held with other
    readers, after every writer that asked before it."""

    _NODE_NAME = "__rlock__"
    _EXCLUDE_NAMES = ("__lock__",)
