"""`Barrier` and `DoubleBarrier`: hold clients back until a condition.

    barrier = client.Barrier("/app/deploy-gate")
    barrier.create()             # the gate is closed
    barrier.wait(timeout=60)     # elsewhere: True once someone calls remove()

    double = client.DoubleBarrier("/app/round", num_clients=3)
    double.enter()               # blocks until 3 have entered
    ...
    double.leave()               # blocks until all 3 have left

kazoo's layouts: a Barrier is the node itself (waiters watch it go); a
DoubleBarrier's members are ephemeral children `<uuid>` holding their
identifiers, and the last to enter makes `ready`. Waits are on watches;
each also wakes on every change of the client's state, so a session that
ends or a client that closes ends the wait (raising), never hangs it.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import List, Optional

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient, WaitForEvent
from ..protocol.errors import NodeExistsException, NoNodeException
from ..protocol.records import CreateFlags, EventType, WatchedEvent
from .base import Recipe, create_owned, deadline, delete_if_there, ensure_path

__all__ = ["BarrierBase", "Barrier", "DoubleBarrierBase", "DoubleBarrier"]


class BarrierBase(Recipe):
    """What both Barrier fronts share."""

    def cancel(self) -> None:
        """End a waiting wait() (from any thread or task): it raises
        CancelledError. Never blocks."""
        self._cancel()

    def _create(self) -> "Helper[None]":
        yield from ensure_path(self.path)

    def _remove(self) -> "Helper[bool]":
        try:
            yield Call(ops.delete, self.path, retry=True)
        except NoNodeException:
            return False
        return True

    def _wait(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        self._cancelled = False
        what = f"the wait at the barrier {self.path}"
        self._track()
        try:
            while True:
                generation = self._wake.generation
                self._check_cancelled(what)
                stat = yield Call(ops.exists, self.path, self._wake, retry=True)
                if stat is None:
                    return True
                if not (yield WaitForEvent(self._wake, until, after=generation)):
                    return False
                self._check_cancelled(what)
                self._check_session(None, what)
        finally:
            self._untrack()


class Barrier(BarrierBase):
    """A gate: closed while its node exists. See the module docstring."""

    def create(self) -> None:
        """Close the gate (make the node, and its parents). One or a few round trips."""
        self._run_sync(self._create())

    def remove(self) -> bool:
        """Open the gate: True if it was closed (the node is deleted), False if open."""
        return self._run_sync(self._remove())

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until the gate is open (no node): True then, False after
        `timeout` seconds (None: no limit). Raises ClientClosedException if
        the client closes meanwhile, CancelledError after cancel()."""
        return self._run_sync(self._wait(timeout))


class DoubleBarrierBase(Recipe):
    """What both DoubleBarrier fronts share."""

    def __init__(self, client: HelperClient, path: str, num_clients: int,
                 identifier: Optional[str] = None) -> None:
        super().__init__(client, path)
        if isinstance(num_clients, bool) or not isinstance(num_clients, int) or num_clients < 1:
            raise ValueError(f"num_clients must be an int >= 1, not {num_clients!r}")
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        self.num_clients = num_clients
        self.identifier = identifier or f"{socket.getfqdn()}-{os.getpid()}"
        self.node_name = uuid.uuid4().hex
        self.participating = False

    def cancel(self) -> None:
        """End a waiting enter() or leave() (from any thread or task): it raises
        CancelledError. Never blocks."""
        self._cancel()

    def _members(self, children: List[str]) -> List[str]:
        return sorted(c for c in children if c != "ready")

    def _enter(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        self._cancelled = False
        yield from ensure_path(self.path)
        yield from create_owned(f"{self.path}/{self.node_name}", self.identifier.encode("utf-8"),
                                int(CreateFlags.EPHEMERAL), undo=not self.participating)
        session = self.client.session_id
        self.participating = True
        # `ready` seen made counts even if the first to leave has deleted it
        # again before this member looks (that member then waits for this one).
        made: List[WatchedEvent] = []

        def on_ready(event: WatchedEvent) -> None:
            if event.type == EventType.CREATED:
                made.append(event)
            self._wake.fire()

        self._track()
        try:
            while True:
                generation = self._wake.generation
                if made or (yield Call(ops.exists, f"{self.path}/ready", on_ready, retry=True)):
                    return True
                children = yield Call(ops.get_children, self.path, retry=True)
                if len(self._members(children)) >= self.num_clients:
                    try:
                        yield Call(ops.create, f"{self.path}/ready", b"", None, 0, retry=True)
                    except NodeExistsException:
                        pass
                    return True
                if not (yield WaitForEvent(self._wake, until, after=generation)):
                    if made:
                        return True
                    yield from self._leave_now()
                    return False
                self._check_cancelled(f"entering the barrier {self.path}")
                self._check_session(session, f"entering the barrier {self.path}")
        except BaseException:
            yield from self._leave_now()
            raise
        finally:
            self._untrack()

    def _leave_now(self) -> "Helper[None]":
        self.participating = False
        yield from delete_if_there(f"{self.path}/{self.node_name}")

    def _leave(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        self._cancelled = False
        try:
            yield Call(ops.delete, f"{self.path}/ready", retry=True)
        except NoNodeException:
            pass
        self._track()
        try:
            while True:
                generation = self._wake.generation
                members = self._members((yield Call(ops.get_children, self.path, retry=True)))
                if not members or members == [self.node_name]:
                    yield from self._leave_now()
                    return True
                # The lowest waits for the highest to go; the others leave
                # and wait for the lowest (kazoo's order, so they interoperate).
                watched = members[-1] if members[0] == self.node_name else members[0]
                if members[0] != self.node_name and self.node_name in members:
                    yield from self._leave_now()
                stat = yield Call(ops.exists, f"{self.path}/{watched}", self._wake, retry=True)
                if stat is None:
                    continue
                if not (yield WaitForEvent(self._wake, until, after=generation)):
                    return False
                self._check_cancelled(f"leaving the barrier {self.path}")
                self._check_session(None, f"leaving the barrier {self.path}")
        finally:
            self._untrack()


class DoubleBarrier(DoubleBarrierBase):
    """Members enter together and leave together. See the module docstring."""

    def enter(self, timeout: Optional[float] = None) -> bool:
        """Join and wait until `num_clients` have joined: True then; False
        after `timeout` seconds (None: no limit; this member then leaves).
        Raises SessionExpiredException / ClientClosedException if the
        session ends or the client closes meanwhile, CancelledError after
        cancel() (this member then leaves)."""
        return self._run_sync(self._enter(timeout))

    def leave(self, timeout: Optional[float] = None) -> bool:
        """Leave and wait until every member has left: True then, False
        after `timeout` seconds. CancelledError after cancel()."""
        return self._run_sync(self._leave(timeout))
