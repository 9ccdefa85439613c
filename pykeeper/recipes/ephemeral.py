"""`PersistentEphemeralNode`: an ephemeral node that comes back.

    node = client.PersistentEphemeralNode("/app/members/host-3", b"10.0.0.3:8080")
    node.start()                 # made now (with its parents)
    ...                          # re-made, with its data, after a session expiry
    node.close()                 # deleted, and no longer re-made

Curator's PersistentNode in ephemeral mode. After `start()` a background
helper watches the node and the client's state (both fire `_wake`): when
the node is missing while the client is connected (the session expired,
or someone deleted it) it is made again with the latest data. A node of
another session in its place is waited out (its watch says when it goes).
A sequential node is made with a protected name, so a lost reply never
leaves two.
"""

from __future__ import annotations

from typing import Any, Optional

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient, WaitForEvent
from ..protocol.errors import NodeExistsException, NoNodeException
from ..protocol.records import CreateFlags
from .base import KeptRecipe, create_under, deadline, delete_if_made, delete_if_there

__all__ = ["PersistentEphemeralNodeBase", "PersistentEphemeralNode"]


class PersistentEphemeralNodeBase(KeptRecipe):
    """What both fronts share: the node and its keeper."""

    def __init__(self, client: HelperClient, path: str, data: bytes = b"",
                 sequential: bool = False) -> None:
        super().__init__(client, path)
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        self.data = data
        self.sequential = sequential
        self.actual_path: Optional[str] = None  # the node made (sequential: with its number)

    def _make(self) -> "Helper[None]":
        parent, _, name = self.path.rpartition("/")
        flags = int(CreateFlags.EPHEMERAL) | (int(CreateFlags.SEQUENTIAL) if self.sequential
                                              else 0)
        before = self.client.last_zxid
        try:
            self.actual_path = yield from create_under(parent or "/", name, self.data, flags)
        except NodeExistsException:
            stat = yield Call(ops.exists, self.path, self._wake, retry=True)
            if stat is None or stat.ephemeralOwner != self.client.session_id:
                return  # another session's node: its watch wakes the keeper when it goes
            self.actual_path = self.path
        except (Exception, GeneratorExit):
            raise
        except BaseException:
            # (A start cancelled with the create in flight: a plain node it made,
            # which no keeper would delete, is taken back; a sequential one, by its
            # guid, in create_under.)
            if not self.sequential:
                yield from delete_if_made(self.path, before, self.client.session_id)
            yield from self._take_back()
            raise
        self._take_hold()

    def _take_back(self) -> "Helper[None]":
        path, self.actual_path = self.actual_path, None
        if path is not None:
            yield from delete_if_there(path)

    def _first(self) -> "Helper[None]":
        yield from self._make()

    def _check(self) -> "Helper[None]":
        stat: Any = yield Call(ops.exists, self.actual_path or self.path, self._wake)
        if stat is None and not self._closed:
            yield from self._make()
            if self._closed:  # (closed while it was made again: neither kept nor held)
                yield from self._take_back()
                self._drop_hold()
                self._untrack()

    def _wait_for_creation(self, timeout: Optional[float]) -> "Helper[bool]":
        until = deadline(timeout)
        while True:
            generation = self._wake.generation
            if self.actual_path is not None:
                stat = yield Call(ops.exists, self.actual_path, self._wake, retry=True)
                if stat is not None and stat.ephemeralOwner == self.client.session_id:
                    return True
            if not (yield WaitForEvent(self._wake, until, after=generation)):
                return False

    def _set_data(self, data: bytes) -> "Helper[None]":
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        self.data = data
        if self.actual_path is not None:
            try:
                yield Call(ops.set_data, self.actual_path, data, -1, retry=True)
            except NoNodeException:
                self._wake.fire()  # (gone: the keeper makes it again, with this data)

    def _close(self) -> "Helper[None]":
        self._closed = True
        self._drop_hold()
        self._wake.fire()
        self._untrack()
        path, self.actual_path = self.actual_path, None
        if path is not None:
            try:
                yield Call(ops.delete, path, retry=True)
            except NoNodeException:
                pass


class PersistentEphemeralNode(PersistentEphemeralNodeBase):
    """An ephemeral node kept in place until closed. See the module docstring."""

    def start(self) -> None:
        """Make the node (and its parents) and keep it; returns once made
        the first time (a few round trips). RuntimeError if started twice."""
        self._start_sync(self._start())

    def wait_for_creation(self, timeout: Optional[float] = None) -> bool:
        """True once the node exists in this client's session; False after
        `timeout` seconds (blocks up to that; None: until then). ValueError
        for a negative or non-number timeout."""
        return self._run_sync(self._wait_for_creation(timeout))

    def set_data(self, data: bytes) -> None:
        """Set the node's data (and what it is made with from now on)."""
        self._run_sync(self._set_data(data))

    def close(self) -> None:
        """Delete the node and stop keeping it. One round trip."""
        self._run_sync(self._close())
