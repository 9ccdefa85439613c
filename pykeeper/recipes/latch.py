"""`LeaderLatch`: be told when this process leads, until closed.

    latch = client.LeaderLatch("/app/leader", identifier="host-3")
    latch.add_leadership_listener(lambda leading: print("leader" if leading else "follower"))
    latch.start()                # returns at once; the latch runs in the background
    latch.wait_for_leadership(timeout=30)
    latch.is_leader
    latch.close()                # gives leadership up

Curator's LeaderLatch: each participant is an ephemeral sequential child
`_c_<guid>-latch-<sequence>` (Curator's protected name) holding its
identifier; the lowest leads, every other watches the one just before it.
After a session expiry the latch has lost leadership (listeners: False, and
the hold listeners "lost") and joins again with a new node, until closed.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, List, Optional

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient, Signal, WaitForEvent
from ..protocol.errors import NoNodeException
from ..protocol.records import CreateFlags
from .base import (
    KeptRecipe, by_sequence, children_of, create_under, deadline, delete_if_there, identifiers,
)

log = logging.getLogger("pykeeper")

__all__ = ["LeaderLatchBase", "LeaderLatch"]

_SEQUENCE = re.compile(r"latch-(\d{10})$")


class LeaderLatchBase(KeptRecipe):
    """What both LeaderLatch fronts share: the participant and its keeper."""

    def __init__(self, client: HelperClient, path: str, identifier: Optional[str] = None
                 ) -> None:
        super().__init__(client, path)
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        self.identifier = identifier
        self.data = (identifier or "").encode("utf-8")
        self.node: Optional[str] = None
        self.is_leader = False
        self._changed = Signal()  # fired when leadership is gained or lost
        self._leadership_listeners: List[Callable[[bool], Any]] = []

    def add_leadership_listener(self, listener: Callable[[bool], Any]) -> None:
        """Call `listener(True)` when this latch becomes leader and
        `listener(False)` when it stops (on the client's event thread or
        loop). Never blocks."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, not {listener!r}")
        self._leadership_listeners.append(listener)

    def remove_leadership_listener(self, listener: Callable[[bool], Any]) -> None:
        """Stop calling `listener`; ValueError if it was not added."""
        self._leadership_listeners.remove(listener)

    def _set_leader(self, leading: bool) -> None:
        if leading == self.is_leader:
            return
        self.is_leader = leading
        if leading:
            self._take_hold()
        self._changed.fire()
        for listener in list(self._leadership_listeners):
            try:
                listener(leading)
            except Exception:
                log.exception("%r: leadership listener %r failed", self, listener)

    def _hold_lost(self) -> None:
        self.node = None
        self._set_leader(False)

    def _join(self) -> "Helper[None]":
        flags = int(CreateFlags.EPHEMERAL) | int(CreateFlags.SEQUENTIAL)
        created = yield from create_under(self.path, "latch-", self.data, flags)
        self.node = created.rsplit("/", 1)[1]

    def _first(self) -> "Helper[None]":
        yield from self._join()

    def _take_back(self) -> "Helper[None]":
        node, self.node = self.node, None
        if node is not None:
            yield from delete_if_there(f"{self.path}/{node}")

    def _check(self) -> "Helper[None]":
        try:
            children = yield Call(ops.get_children, self.path)
        except NoNodeException:
            children = []  # (an admin deleted the path: _join makes it again)
        if self.node not in children:
            # (deleted by an admin, or the path with it: join again at the end)
            self._set_leader(False)
            if self._closed:
                return
            yield from self._join()
            if self._closed:  # (closed while it joined: the new node is not kept)
                yield from self._take_back()
                return
            children = yield Call(ops.get_children, self.path)
        names = by_sequence(children, _SEQUENCE)
        if self.node not in names:
            return
        # Watch our own node too: a leader whose node an admin deleted stops
        # leading (as the next participant starts: no order across clients).
        mine = yield Call(ops.exists, f"{self.path}/{self.node}", self._wake)
        if mine is None:
            self._set_leader(False)
            self._wake.fire()
            return
        position = names.index(self.node)
        if position == 0:
            self._set_leader(True)
            return
        self._set_leader(False)
        before = yield Call(ops.exists, f"{self.path}/{names[position - 1]}", self._wake)
        if before is None:
            self._wake.fire()  # gone since the listing: look again (its watch never fires)

    def _wait_for_leadership(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        while True:
            generation = self._changed.generation
            if self.is_leader:
                return True
            if self._closed:
                return False
            if not (yield WaitForEvent(self._changed, until, after=generation)):
                return self.is_leader

    def _participants(self) -> "Helper[List[str]]":
        children = yield from children_of(self.path)
        return (yield from identifiers(self.path, by_sequence(children, _SEQUENCE)))

    def _close(self) -> "Helper[None]":
        self._closed = True
        self._wake.fire()
        self._changed.fire()
        node, self.node = self.node, None
        self._set_leader(False)
        self._drop_hold()
        self._untrack()
        if node is not None:
            try:
                yield Call(ops.delete, f"{self.path}/{node}", retry=True)
            except NoNodeException:
                pass


class LeaderLatch(LeaderLatchBase):
    """A leader latch. See the module docstring."""

    def start(self) -> None:
        """Join (one or two round trips) and run in the background. RuntimeError if
        started twice."""
        self._start_sync(self._start())

    def wait_for_leadership(self, timeout: Optional[float] = None) -> bool:
        """True once this latch leads; False after `timeout` seconds or
        once closed. Blocks up to `timeout` (None: until then). ValueError
        for a negative or non-number timeout."""
        return self._run_sync(self._wait_for_leadership(timeout))

    def participants(self) -> List[str]:
        """The participants' identifiers, the leader first. A round trip per participant."""
        return self._run_sync(self._participants())

    def close(self) -> None:
        """Give leadership up and leave (deletes this latch's node)."""
        self._run_sync(self._close())
