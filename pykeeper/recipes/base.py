"""What every recipe is: a client, a path, one wake-up signal, hold
listeners, and the two ways its steps are driven.

A recipe's logic is written once, as helper generators (see
pykeeper.core.steps) on a shared class (`LockBase`, ...). The sync front in
this package calls each one through `_run_sync` (blocking the caller) or
`_start_sync` (background); the asyncio front, `pykeeper.aio.recipes`, is
written from the sync front by tools/gen_recipes.py with `await
self._run_async(...)` in their place.

Everything that can end a wait fires `_wake`: the watch a waiter set, a
`cancel()`, and every change of the client's state. A waiter re-checks its
condition after each fire (`after=` generations make a fire between the
check and the wait count).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import uuid
from enum import Enum
from typing import Any, Callable, List, Optional, Pattern, TypeVar, cast

from ..core.paths import validate_path
from ..core import operations as ops
from ..protocol.records import CreateFlags
from ..core.steps import (
    AsyncHelperClient, AsyncioDriver, Call, Detach, Helper, HelperClient, Relay, Signal,
    SyncHelperClient, ThreadDriver, WaitForEvent,
)
from ..protocol.errors import (
    BadVersionException, ClientClosedException, NodeExistsException, NoNodeException,
    SessionExpiredException, ZooKeeperException,
)

log = logging.getLogger("pykeeper")
T = TypeVar("T")

__all__ = [
    "HoldEvent", "KeptRecipe", "Recipe", "CancelledError", "by_sequence", "children_of",
    "create_owned", "create_under", "deadline", "delete_if_made", "delete_if_there",
    "ensure_path",
    "identifiers", "owner",
]

_DISCONNECTED = ("connecting", "associating")
_CONNECTED = ("connected", "connected_readonly")


class HoldEvent(str, Enum):
    """What a recipe's listeners are told about something it holds."""

    SUSPENDED = "suspended"      # the connection is gone: the hold is uncertain
    RECONNECTED = "reconnected"  # the same session is back: the hold is intact
    LOST = "lost"                # the session ended (or the client closed): the hold is gone

    def __str__(self) -> str:
        return self.value


class CancelledError(Exception):
    """A wait of a recipe was ended by its `cancel()`."""


class Recipe:
    """The base of every recipe. Not thread-confined: a recipe object may be
    shared by threads; each call says what it does when called twice."""

    def __init__(self, client: HelperClient, path: str) -> None:
        validate_path(path)
        self.client = client
        self.path = path
        self._wake = Signal()
        self._listeners: List[Callable[[HoldEvent], Any]] = []
        self._relay: Optional[Relay] = None
        self._hold_session: Optional[int] = None  # the session a hold was taken in
        self._suspended = False
        self._guard = threading.Lock()
        self._background: Optional[AsyncioDriver] = None  # holds the recipe's tasks
        self._cancelled = False  # set by cancel(); a wait starting clears it

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r}>"

    # -- hold listeners ------------------------------------------------------------

    def add_listener(self, listener: Callable[[HoldEvent], Any]) -> None:
        """Call `listener(event)` with HoldEvent.SUSPENDED, RECONNECTED or
        LOST (each a str) as the hold of this recipe changes; it runs
        where the client runs listeners (its event thread, or its loop; a
        coroutine function's result is scheduled there). Never blocks."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, not {listener!r}")
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[HoldEvent], Any]) -> None:
        """Stop calling `listener`; ValueError if it was not added."""
        self._listeners.remove(listener)

    @property
    def holding(self) -> bool:
        """True while this recipe holds what it takes (in a live or
        suspended session)."""
        return self._hold_session is not None

    def _track(self) -> None:
        """Follow the client's state (fire `_wake` at each change) from now on."""
        with self._guard:
            if self._relay is None:
                self._relay = Relay(self._on_state)
                self.client.add_listener(self._relay)

    def _untrack(self) -> None:
        """Stop following the client's state (when nothing waits or holds)."""
        with self._guard:
            relay, self._relay = self._relay, None
        if relay is not None:
            relay.release()
            try:
                self.client.remove_listener(relay)
            except ValueError:
                pass

    def _take_hold(self) -> None:
        """Note that this recipe now holds something, in the current session."""
        self._track()
        self._suspended = False
        self._hold_session = self.client.session_id

    def _drop_hold(self) -> None:
        """Note that the hold was given up (by the recipe itself)."""
        self._hold_session = None
        self._suspended = False

    def _hold_lost(self) -> None:
        """Called (on the event thread or loop) when the hold's session ended;
        a recipe resets its own state here."""

    def _on_state(self, state: Any) -> None:
        held = self._hold_session
        if held is not None:
            if state in _DISCONNECTED:
                if not self._suspended:
                    self._suspended = True
                    self._tell(HoldEvent.SUSPENDED)
            elif state in _CONNECTED:
                if self.client.session_id == held:
                    if self._suspended:
                        self._suspended = False
                        self._tell(HoldEvent.RECONNECTED)
                else:
                    self._lose()
            elif state in ("expired_session", "closed", "auth_failed"):
                self._lose()
        self._wake.fire()

    def _lose(self) -> None:
        self._hold_session = None
        self._suspended = False
        try:
            self._hold_lost()
        except Exception:
            log.exception("%r: resetting after a lost hold failed", self)
        self._tell(HoldEvent.LOST)

    def _tell(self, event: HoldEvent) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except Exception:
                log.exception("%r: listener %r failed on %s", self, listener, event)

    # -- checks a waiter makes after each wake ------------------------------------------

    def _cancel(self) -> None:
        """End this recipe's waits: each raises CancelledError at its next check."""
        self._cancelled = True
        self._wake.fire()

    def _check_cancelled(self, what: str) -> None:
        if self._cancelled:
            raise CancelledError(f"{what} was cancelled")

    def _check_session(self, session: Optional[int], what: str) -> None:
        """Raise if the client closed, or if `session` (the one the waiter's
        node was made in) has ended: the wait can never succeed then."""
        if self.client.state == "closed":
            raise ClientClosedException(f"the client was closed during {what}")
        if session is not None and self.client.session_id not in (None, session):
            raise SessionExpiredException(
                f"the session ended during {what}; its nodes are gone")
        if self.client.state == "expired_session":
            raise SessionExpiredException(
                f"the session ended during {what}; its nodes are gone")

    # -- driving ---------------------------------------------------------------------

    def _run_sync(self, helper: "Helper[T]") -> T:
        return ThreadDriver(cast(SyncHelperClient, self.client)).run(helper)

    def _start_sync(self, helper: "Helper[Any]") -> None:
        ThreadDriver(cast(SyncHelperClient, self.client)).start(helper)

    async def _run_async(self, helper: "Helper[T]") -> T:
        return await AsyncioDriver(cast(AsyncHelperClient, self.client)).run(helper)

    async def _start_async(self, helper: "Helper[Any]") -> None:
        if self._background is None:
            self._background = AsyncioDriver(cast(AsyncHelperClient, self.client))
        # (A caller who gets CancelledError is to hold nothing: a start that
        # completed just as it was cancelled is undone.)
        await self._background.run_until_detached(helper, self._undo_start())

    def _undo_start(self) -> "Optional[Helper[Any]]":
        """What takes back a start that completed just as its caller was
        cancelled; None: nothing to take back."""
        return None


class KeptRecipe(Recipe):
    """A recipe that, once started, keeps something in place in the
    background until closed (LeaderLatch, PersistentEphemeralNode): `_first`
    runs in the caller, then `_check` after every wake while the client is
    connected. A check that meets a lost connection waits for the state
    change, which wakes it again."""

    def __init__(self, client: HelperClient, path: str) -> None:
        super().__init__(client, path)
        self._started = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    def _first(self) -> "Helper[None]":
        raise NotImplementedError
        yield  # (a generator)

    def _close(self) -> "Helper[None]":
        raise NotImplementedError
        yield  # (a generator)

    def _take_back(self) -> "Helper[None]":
        """Delete what `_first` made, for a start that did not complete."""
        raise NotImplementedError
        yield  # (a generator)

    def _undo_start(self) -> "Optional[Helper[Any]]":
        return self._close()

    def _abandon_start(self) -> "Helper[None]":
        """A start that failed, was cancelled or interrupted holds nothing
        (its node taken back, no hold noted) and may be tried again."""
        self._started = False
        self._drop_hold()
        self._untrack()
        yield from self._take_back()

    def _check(self) -> "Helper[None]":
        raise NotImplementedError
        yield  # (a generator)

    def _start(self) -> "Helper[None]":
        if self._started:
            raise RuntimeError(f"{self!r} was started already")
        self._started = True
        self._track()
        try:
            yield from self._first()
            yield Detach()
        except GeneratorExit:
            raise
        except BaseException:
            yield from self._abandon_start()
            raise
        while not self._closed:
            generation = self._wake.generation
            if self.client.connected:
                try:
                    yield from self._check()
                except ZooKeeperException:
                    pass  # (the connection went: the state change wakes us)
                except (Exception, GeneratorExit):
                    raise
                except BaseException:
                    # (An interrupt, in a sync start's first check: the start
                    # raises it, so it is taken back, as one before the Detach.)
                    yield from self._abandon_start()
                    raise
            if not self._closed:
                yield WaitForEvent(self._wake, None, after=generation)


# -- steps every recipe uses ---------------------------------------------------------------

def ensure_path(path: str) -> "Helper[None]":
    """Create `path` and its parents as empty persistent nodes where missing."""
    if path == "/":
        return
    try:
        yield Call(ops.create_recursive, path, b"", retry=True)
    except NodeExistsException:
        pass


def create_under(parent: str, name: str, data: bytes, flags: int) -> "Helper[str]":
    """Create `parent/name` (with `flags`), making `parent` first if it is
    missing; returns the path created. A sequential node gets a protected
    name with a guid of its own ("_c_<guid>-<name>": a lost reply never
    leaves two), so a wait cancelled while the create is in flight deletes
    what it made."""
    guid = uuid.uuid4().hex if flags & CreateFlags.SEQUENTIAL else None
    path = f"{parent.rstrip('/')}/{name}"  # (under "/": "/name")
    for _ in range(3):
        try:
            if guid is None:
                plain: str = yield Call(ops.create, path, data, None, flags, retry=True)
                return plain
            marked: str = yield Call(ops.create_marked, path, data, None, flags, guid,
                                     retry=True)
            return marked
        except NoNodeException:
            yield from ensure_path(parent)
        except (Exception, GeneratorExit):
            raise
        except BaseException:
            # (A cancelled task: its create may have applied, with the reply lost to us.
            # Our later read on the same session is answered after it.)
            if guid is not None:
                yield from _delete_named(parent, f"{ops.PROTECTION_PREFIX}{guid}-")
            raise
    raise NoNodeException(f"{parent} kept disappearing while creating {name} in it", parent)


def create_owned(path: str, data: bytes, flags: int, undo: bool = True) -> "Helper[None]":
    """Create the node `path`, of a name only this recipe object uses
    (NodeExistsException counts as made: a retried create, or a second
    call). With `undo`, a wait cancelled while the create is in flight
    deletes the node, so the cancelled caller is left holding nothing."""
    try:
        yield Call(ops.create, path, data, None, flags, retry=True)
    except NodeExistsException:
        pass
    except (Exception, GeneratorExit):
        raise
    except BaseException:
        # (Cancelled: the create may have applied, its reply lost to us; our
        # later delete on the same session is answered after it.)
        if undo:
            yield from delete_if_there(path)
        raise


def delete_if_made(path: str, since_zxid: int,
                   session_id: Optional[int] = None) -> "Helper[None]":
    """(A plain create cancelled in flight.) Delete `path`, at the version
    seen, if it was created after `since_zxid` (the client's last zxid
    before the create was sent) and, given `session_id`, is an ephemeral
    node of that session: the node the create made, not another's."""
    stat = yield Call(ops.exists, path, retry=True)
    if stat is None or stat.czxid <= since_zxid:
        return
    if session_id is not None and stat.ephemeralOwner != session_id:
        return
    try:
        yield Call(ops.delete, path, stat.version, retry=True)
    except (BadVersionException, NoNodeException):
        pass


def delete_if_there(path: str) -> "Helper[bool]":
    """Delete `path`; False if there was no such node."""
    try:
        yield Call(ops.delete, path, retry=True)
    except NoNodeException:
        return False
    return True


def _delete_named(parent: str, name: str) -> "Helper[None]":
    for child in (yield from children_of(parent)):
        if name in child:
            try:
                yield Call(ops.delete, f"{parent.rstrip('/')}/{child}", retry=True)
            except NoNodeException:
                pass


def children_of(path: str) -> "Helper[List[str]]":
    """The names of `path`'s children; [] if there is no such node."""
    try:
        children: List[str] = yield Call(ops.get_children, path, retry=True)
    except NoNodeException:
        return []
    return children


def by_sequence(children: List[str], pattern: Pattern[str]) -> List[str]:
    """The children `pattern` matches, ordered by the number its first group
    captures (the sequence suffix)."""
    numbered = [(int(m.group(1)), child) for child in children
                for m in [pattern.search(child)] if m is not None]
    return [child for _, child in sorted(numbered)]


def identifiers(parent: str, names: List[str]) -> "Helper[List[str]]":
    """The data of each `parent/name`, in order, as text (what contenders,
    members and holders store); a node gone meanwhile is left out."""
    found = []
    for name in names:
        try:
            data, _ = yield Call(ops.get, f"{parent}/{name}", retry=True)
        except NoNodeException:
            continue
        found.append(data.decode("utf-8", "replace"))
    return found


def deadline(timeout: Optional[float], blocking: bool = True) -> Optional[float]:
    """The monotonic time a wait of `timeout` seconds ends (None: never;
    now if not `blocking`); ValueError for a negative or non-number timeout."""
    if timeout is not None and (isinstance(timeout, bool)
                                or not isinstance(timeout, (int, float)) or timeout < 0):
        raise ValueError(f"timeout must be None or seconds >= 0, not {timeout!r}")
    if not blocking:
        return time.monotonic()
    return None if timeout is None else time.monotonic() + timeout


def owner() -> object:
    """Who is calling: the running asyncio task, else the thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    return task if task is not None else threading.get_ident()
