"""`Semaphore`: at most `max_leases` holders at a time.

    semaphore = client.Semaphore("/app/db-slots", identifier="host-3", max_leases=4)
    with semaphore:
        ...

kazoo's layout, so kazoo and pykeeper holders share the leases: the path
holds `max_leases` as text; a holder's lease is an ephemeral child
`<uuid>` holding its identifier; newcomers queue on the Lock at
`<path>-__lock__` and the one at its head takes a free lease (watching the
lease children until one is). Every client must agree on `max_leases`: one
that disagrees with the number stored raises ValueError naming both,
instead of overbooking.
"""

from __future__ import annotations

import time
import uuid
from typing import List, Optional

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient, WaitForEvent
from ..protocol.errors import BadVersionException, NoNodeException
from ..protocol.records import CreateFlags
from .base import (
    Recipe, children_of, create_owned, deadline, delete_if_there, ensure_path, identifiers,
)
from .lock import LockBase

__all__ = ["SemaphoreBase", "Semaphore"]


class SemaphoreBase(Recipe):
    """What both Semaphore fronts share: the check, the queue and the lease."""

    def __init__(self, client: HelperClient, path: str, identifier: Optional[str] = None,
                 max_leases: int = 1) -> None:
        super().__init__(client, path)
        if isinstance(max_leases, bool) or not isinstance(max_leases, int) or max_leases < 1:
            raise ValueError(f"max_leases must be an int >= 1, not {max_leases!r}")
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        self.identifier = identifier
        self.data = (identifier or "").encode("utf-8")
        self.max_leases = max_leases
        self.lease_path = f"{path}/{uuid.uuid4().hex}"
        self._queue = LockBase(client, f"{path}-__lock__", identifier)
        self.is_acquired = False

    def cancel(self) -> None:
        """End a waiting acquire (it raises CancelledError). From any thread
        or task; never blocks."""
        self._queue.cancel()
        self._cancel()

    def _hold_lost(self) -> None:
        self.is_acquired = False

    def _check_max_leases(self) -> "Helper[None]":
        yield from ensure_path(self.path)
        while True:
            data, stat = yield Call(ops.get, self.path, retry=True)
            if data:
                try:
                    stored = int(data.decode("utf-8"))
                except ValueError:
                    raise ValueError(f"{self.path} does not hold a number of leases: "
                                     f"{data[:40]!r}") from None
                if stored != self.max_leases:
                    raise ValueError(f"inconsistent max_leases on {self.path}: {stored} "
                                     f"stored there, {self.max_leases} asked here")
                return
            try:
                yield Call(ops.set_data, self.path, str(self.max_leases).encode(), stat.version,
                           retry=True)
                return
            except BadVersionException:
                continue  # another client set it first: compare with theirs

    def _acquire(self, blocking: bool, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout, blocking)
        self._cancelled = False
        yield from self._check_max_leases()
        if (yield Call(ops.exists, self.lease_path, retry=True)) is not None:
            self.is_acquired = True
            return True
        left = None if until is None else max(0.0, until - time.monotonic())
        if not (yield from self._queue._acquire(blocking, left, True)):
            return False
        self._track()
        try:
            session = self.client.session_id
            while True:
                generation = self._wake.generation
                self._check_cancelled(f"the acquire of {self.path}")
                try:
                    leases = yield Call(ops.get_children, self.path, self._wake, retry=True)
                    if len(leases) < self.max_leases:
                        yield from create_owned(self.lease_path, self.data,
                                                int(CreateFlags.EPHEMERAL))
                except NoNodeException:
                    # (an admin deleted the semaphore: make it again, and look again)
                    yield from self._check_max_leases()
                    continue
                if len(leases) < self.max_leases:
                    self.is_acquired = True
                    self._take_hold()
                    return True
                if until is not None and time.monotonic() >= until:
                    return False
                fired = yield WaitForEvent(self._wake, until, after=generation)
                self._check_cancelled(f"the acquire of {self.path}")
                self._check_session(session, f"the acquire of {self.path}")
                if not fired:
                    return False
        finally:
            if not self.is_acquired:
                self._untrack()
            try:
                yield from self._queue._release()
            except GeneratorExit:
                raise
            except BaseException:
                # (Cancelled, say, after the lease was made: the caller, who gets
                # the exception, must not be left holding it.)
                yield from self._release()
                raise

    def _release(self) -> "Helper[bool]":
        if not self.is_acquired:
            return False
        self.is_acquired = False
        self._drop_hold()
        self._untrack()
        yield from delete_if_there(self.lease_path)
        return True

    def _lease_holders(self) -> "Helper[List[str]]":
        children = yield from children_of(self.path)
        return (yield from identifiers(self.path, sorted(children)))


class Semaphore(SemaphoreBase):
    """A counting semaphore across clients. See the module docstring."""

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Take a lease: True once held (at once if this object holds one);
        False if `blocking` is False and none is free, or after `timeout`
        seconds. Raises ValueError (max_leases disagrees with the stored
        number), CancelledError, SessionExpiredException, ClientClosedException."""
        return self._run_sync(self._acquire(blocking, timeout))

    def release(self) -> bool:
        """Give the lease back: True if one was held."""
        return self._run_sync(self._release())

    def lease_holders(self) -> List[str]:
        """The identifiers of the lease holders. A round trip per holder."""
        return self._run_sync(self._lease_holders())

    def __enter__(self) -> "Semaphore":
        self._run_sync(self._acquire(True, None))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._run_sync(self._release())
