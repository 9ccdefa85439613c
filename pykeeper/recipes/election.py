"""`Election`: run a function as the one leader among contenders.

    election = client.Election("/app/leader", identifier="host-3")
    election.run(lead)        # blocks until leader, runs lead(), then gives up

kazoo's Election: a Lock on the path whose identifier names the
contender, so kazoo and pykeeper contenders share one election and see
each other in `contenders()`.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from ..core.steps import Callback, Helper, HelperClient
from .base import HoldEvent, Recipe
from .lock import LockBase

__all__ = ["ElectionBase", "Election"]


class ElectionBase(Recipe):
    """What both Election fronts share: the lock and the leader's run."""

    def __init__(self, client: HelperClient, path: str, identifier: Optional[str] = None
                 ) -> None:
        super().__init__(client, path)
        self.lock = LockBase(client, path, identifier)

    @property
    def is_leader(self) -> bool:
        """True while this contender leads (its function runs)."""
        return self.lock.is_acquired

    def cancel(self) -> None:
        """End a `run` still waiting to lead (it raises CancelledError); a
        function already running is not stopped. From any thread or task;
        never blocks."""
        self.lock.cancel()

    def add_listener(self, listener: Callable[[HoldEvent], Any]) -> None:
        """Tell `listener` "suspended", "reconnected" or "lost" about the
        leadership while the function runs (see Recipe.add_listener)."""
        self.lock.add_listener(listener)

    def remove_listener(self, listener: Callable[[HoldEvent], Any]) -> None:
        """Stop telling `listener`; ValueError if it was not added."""
        self.lock.remove_listener(listener)

    def _run(self, func: Callable[..., Any], args: Any) -> "Helper[Any]":
        if not callable(func):
            raise TypeError(f"func must be callable, not {func!r}")
        yield from self.lock._acquire(True, None, True)
        try:
            result = yield Callback(func, *args)
        finally:
            yield from self.lock._release()
        return result


class Election(ElectionBase):
    """A leader election. See the module docstring."""

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Wait to lead (blocking, with no limit: `cancel()` ends the wait),
        then return what `func(*args)` returns (on asyncio, awaited if it is
        a coroutine function), giving leadership up when it returns or
        raises. Raises CancelledError, SessionExpiredException (the session
        ended while waiting), ClientClosedException, or what func raises."""
        return self._run_sync(self._run(func, args))

    def contenders(self) -> List[str]:
        """The contenders' identifiers, the leader first, in order (kazoo's
        too). A round trip per contender."""
        return self._run_sync(self.lock._contenders())
