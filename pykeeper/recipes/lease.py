"""`NonBlockingLease` and `MultiNonBlockingLease`: a lease for a period,
taken at once or refused, never waited for (only the lease's lock is:
each taker holds it for a few round trips while it looks; one that holds
it for a whole session timeout is stuck, and the answer is then False).

    lease = client.NonBlockingLease("/app/leases/nightly", timedelta(minutes=70),
                                    identifier="nightly cleanup on host-3")
    if lease:                       # (asyncio: `if await lease.obtain():`)
        run_the_nightly_cleanup()

For a job that should run on one host (or on at most `count` hosts) per
period, with another host taking over when that one stops asking. Unlike a
Lock, a lease is not tied to a session: it ends at the time written in it,
whatever becomes of its holder. Asking again with the same identifier
before it ends renews it; another identifier gets it only after it ends.
The times are the clients' clocks, in UTC: they must roughly agree.

kazoo's layout, so kazoo and pykeeper processes share leases: a taker holds
the Lock at the lease's path (kazoo's lock layout) while it reads and
replaces the child `lease_holder`, whose data is the JSON
`{"version": 1, "holder": identifier, "end": "YYYY-MM-DDTHH:MM:SS"}` (the
end rounded up to the second). The write is one multi that also checks
the taker's lock node, so a taker whose session ended while it looked
(its lock gone, perhaps to another taker) writes nothing. An obtain
cancelled (asyncio) after it wrote a new lease takes it back; a cancelled
renewal keeps the lease, old or renewed. A
MultiNonBlockingLease of `count` tries `<path>/0` to `<path>/<count - 1>`
in turn and takes the first it can.
"""

from __future__ import annotations

import datetime
import json
import socket
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Union

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient
from ..protocol import requests as rq
from ..protocol.errors import (
    BadVersionException, NodeExistsException, NoNodeException,
)
from .base import Recipe, ensure_path
from .lock import LockBase

__all__ = ["LeaseBase", "MultiLeaseBase", "MultiNonBlockingLease", "NonBlockingLease"]

Clock = Callable[[], datetime.datetime]
Duration = Union[datetime.timedelta, int, float]

_VERSION = 1  # (kazoo's storage format version: a holder of another is left alone)
_END_FORMAT = "%Y-%m-%dT%H:%M:%S"
_HOLDER = "lease_holder"
_LONGEST = datetime.timedelta(days=36525)  # (an end past year 9999 cannot be written)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _checked_duration(duration: Any) -> datetime.timedelta:
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        try:
            duration = datetime.timedelta(seconds=duration)
        except (OverflowError, ValueError):  # (inf, nan, or beyond a timedelta)
            raise ValueError(f"duration must be positive and at most 100 years, "
                             f"not {duration!r}") from None
    if not isinstance(duration, datetime.timedelta):
        raise TypeError(f"duration must be a datetime.timedelta or a number of seconds, "
                        f"not {duration!r}")
    if not datetime.timedelta(0) < duration <= _LONGEST:
        raise ValueError(f"duration must be positive and at most 100 years, not {duration}")
    return duration


class LeaseBase(Recipe):
    """What the lease fronts share: asking for the lease at each of its
    paths, under the path's lock."""

    def __init__(self, client: HelperClient, path: str, duration: Duration,
                 identifier: Optional[str] = None, utcnow: Optional[Clock] = None) -> None:
        super().__init__(client, path)
        self.duration = _checked_duration(duration)
        if identifier is not None and not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str or None, not {identifier!r}")
        if utcnow is not None and not callable(utcnow):
            raise TypeError(f"utcnow must be a function returning a datetime, not {utcnow!r}")
        self.identifier = identifier or socket.gethostname()
        self._utcnow = utcnow or _utc_now
        self.obtained = False
        self._asked = False

    def __bool__(self) -> bool:
        """Whether the last obtain() got the lease."""
        if not self._asked:
            raise TypeError(f"{self!r} has not been asked for yet: `await lease.obtain()`")
        return self.obtained

    def _paths(self) -> List[str]:
        return [self.path]

    def _now(self) -> datetime.datetime:
        now = self._utcnow()
        if not isinstance(now, datetime.datetime):
            raise TypeError(f"utcnow() must return a datetime, not {now!r}")
        if now.tzinfo is not None:
            now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return now

    def _obtain(self) -> "Helper[bool]":
        self.obtained = False
        try:
            for path in self._paths():
                if (yield from self._obtain_at(path)):
                    self.obtained = True
                    break
        finally:
            self._asked = True
        return self.obtained

    def _obtain_at(self, path: str) -> "Helper[bool]":
        yield from ensure_path(path)
        holder = f"{path}/{_HOLDER}"
        lock = LockBase(self.client, path, self.identifier)
        # (Each taker holds the lock for a few round trips: one holding it for
        # longer than a session timeout is stuck, and the lease is not to be had.)
        if not (yield from lock._acquire(True, self.client.session_timeout)):
            return False
        taken: Optional[_Taken] = None
        try:
            taken = yield from self._take(holder, f"{path}/{lock.node}")
        finally:
            try:
                yield from lock._release()
            except GeneratorExit:
                raise
            except BaseException:
                # (Cancelled, say, once the lease was written: a caller who gets the
                # exception must not be left with a lease it did not hold before.)
                if taken is not None and not taken.renewal:
                    yield from self._withdraw(holder, taken.data)
                raise
        return taken is not None

    def _take(self, holder: str, lock_node: str) -> "Helper[Optional[_Taken]]":
        """(Under the lock, whose node is `lock_node`.) Write this holder's
        lease into `holder` unless another's is still running."""
        now = self._now()
        try:
            raw, stat = yield Call(ops.get, holder, retry=True)
        except NoNodeException:
            raw, stat = None, None
        renewal = False
        if raw is not None:
            lease = _decoded(holder, raw)
            if lease.get("version") != _VERSION:
                return None  # (another format: its writer decides)
            if not isinstance(lease.get("holder"), str):
                raise ValueError(f"{holder} does not hold a lease: {raw[:60]!r}")
            renewal = lease["holder"] == self.identifier
            if not renewal and now < _parsed_end(holder, lease):
                return None
        mine = json.dumps({"version": _VERSION, "holder": self.identifier,
                           "end": _end_after(now, self.duration)}).encode("utf-8")
        # One multi, with our lock node checked in it: a taker whose session
        # (and so its lock) ended while it looked writes nothing.
        steps: List[rq.Request] = [rq.Check(lock_node, -1)]
        if stat is not None:
            steps.append(rq.Delete(holder, stat.version))
        steps.append(ops.create_request(self.client, holder, mine, None, 0, False, False, False,
                                        None))
        try:
            yield Call(ops.commit, steps, retry=True)
        except (BadVersionException, NodeExistsException, NoNodeException):
            # (The lock was lost, or this is the retry of a multi that applied and
            # whose reply was lost: the lease is ours if it holds our data.)
            return _Taken(mine, renewal) if (yield from self._holds(holder, mine)) else None
        except (Exception, GeneratorExit):
            raise
        except BaseException:
            if not renewal:  # (cancelled with the write in flight: as in _obtain_at)
                yield from self._withdraw(holder, mine)
            raise
        return _Taken(mine, renewal)

    def _holds(self, holder: str, mine: bytes) -> "Helper[bool]":
        try:
            raw, _ = yield Call(ops.get, holder, retry=True)
        except NoNodeException:
            return False
        held: bool = raw == mine
        return held

    def _withdraw(self, holder: str, mine: bytes) -> "Helper[None]":
        """Delete `holder` if it still holds the lease `mine`."""
        try:
            raw, stat = yield Call(ops.get, holder, retry=True)
        except NoNodeException:
            return
        if raw == mine:
            try:
                yield Call(ops.delete, holder, stat.version, retry=True)
            except (BadVersionException, NoNodeException):
                pass


class MultiLeaseBase(LeaseBase):
    """A lease of `count` places: `<path>/0` ... `<path>/<count - 1>`."""

    def __init__(self, client: HelperClient, count: int, path: str, duration: Duration,
                 identifier: Optional[str] = None, utcnow: Optional[Clock] = None) -> None:
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"count must be an int, not {count!r}")
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        LeaseBase.__init__(self, client, path, duration, identifier, utcnow)
        self.count = count

    def _paths(self) -> List[str]:
        return [f"{self.path}/{n}" for n in range(self.count)]


class _Taken(NamedTuple):
    data: bytes  # the lease written
    renewal: bool  # (the lease was this identifier's already)


def _end_after(now: datetime.datetime, duration: datetime.timedelta) -> str:
    """`now + duration`, rounded up to the second the stored form counts in."""
    end = now + duration
    if end.microsecond:
        end = end.replace(microsecond=0) + datetime.timedelta(seconds=1)
    return end.strftime(_END_FORMAT)


def _decoded(holder: str, raw: bytes) -> Dict[str, Any]:
    try:
        lease = json.loads(raw.decode("utf-8"))
    except ValueError:
        lease = None
    if not isinstance(lease, dict):
        raise ValueError(f"{holder} does not hold a lease: {raw[:60]!r}")
    return lease


def _parsed_end(holder: str, lease: Dict[str, Any]) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(str(lease.get("end")), _END_FORMAT)
    except ValueError:
        raise ValueError(f"{holder}: the lease's end is not a time: "
                         f"{lease.get('end')!r}") from None


class NonBlockingLease(LeaseBase):
    """An exclusive lease for `duration` (a timedelta, or seconds), asked
    for once: true if this `identifier` (default: the host's name) holds
    it. See the module docstring.

    On the sync client, making one asks at once, as kazoo's does: it
    blocks for a few round trips (and while another taker holds the
    lease's lock: at most the session timeout), and raises what obtain()
    raises. On the asyncio client, `await lease.obtain()`."""

    def __init__(self, client: HelperClient, path: str, duration: Duration,
                 identifier: Optional[str] = None, utcnow: Optional[Clock] = None) -> None:
        super().__init__(client, path, duration, identifier, utcnow)
        self._run_sync(self._obtain())

    def obtain(self) -> bool:
        """Ask for the lease again (renewing it, if held): True if this
        identifier holds it now, until `duration` from now. Raises
        ValueError if the node holds no lease kazoo's way, and the client's
        errors (SessionExpiredException, ClientClosedException)."""
        return self._run_sync(self._obtain())


class MultiNonBlockingLease(MultiLeaseBase, NonBlockingLease):
    """One of `count` leases for `duration`, asked for once: true if this
    `identifier` holds one. See the module docstring."""

    def __init__(self, client: HelperClient, count: int, path: str, duration: Duration,
                 identifier: Optional[str] = None, utcnow: Optional[Clock] = None) -> None:
        MultiLeaseBase.__init__(self, client, count, path, duration, identifier, utcnow)
        self._run_sync(self._obtain())
