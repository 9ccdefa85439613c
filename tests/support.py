"""Helpers shared by the tests of every folder (no mocks: they only record
what real callbacks receive, drive real clients, and read the real
server's counters). Fixtures live in the conftest files; everything they
and the tests share lives here."""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from typing import Any, Callable, Iterator, List, Optional

import pykeeper
import pykeeper.aio

# Seconds any test waits for something that should happen at once (or for
# a reconnect): only a failing test waits this long.
WAIT = 20.0


class Recorder:
    """A callable that records its calls, thread-safely, and lets a test
    wait (with a timeout, never a sleep) until enough calls arrived.

    Called with one argument it records that argument, else the tuple.
    `action`, if given, is run on every call (on the calling thread).
    """

    def __init__(self, action: Optional[Callable[..., Any]] = None) -> None:
        self.calls: List[Any] = []
        self.threads: List[threading.Thread] = []
        self.action = action
        self._cond = threading.Condition()

    def __call__(self, *args: Any) -> None:
        if self.action is not None:
            self.action(*args)
        with self._cond:
            self.calls.append(args[0] if len(args) == 1 else args)
            self.threads.append(threading.current_thread())
            self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = WAIT) -> bool:
        """True once at least `count` calls were recorded; False on timeout."""
        return self.wait_until(lambda calls: len(calls) >= count, timeout)

    def wait_until(self, predicate: Callable[[List[Any]], bool], timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.calls), timeout)

    def __len__(self) -> int:
        with self._cond:
            return len(self.calls)


_CONS_LINE = re.compile(r"recved=(\d+),sent=(\d+),sid=0x([0-9a-f]+)")


def packets_received(server: Any, session_id: int) -> int:
    """How many packets the server has received on the connection of
    `session_id` (the ``recved`` counter of its ``cons`` line)."""
    text = server.four_letter("cons")
    for match in _CONS_LINE.finditer(text):
        if int(match.group(3), 16) == session_id:
            return int(match.group(1))
    raise AssertionError(f"session 0x{session_id:x} not in the server's cons output:\n{text}")


def server_sessions(server: Any) -> List[int]:
    """The session ids of the server's current client connections."""
    return [int(m.group(3), 16) for m in _CONS_LINE.finditer(server.four_letter("cons"))]


# The names of the threads a client runs (pykeeper.testing's own threads
# also start with "pykeeper-", so match these exactly).
CLIENT_THREADS = ("pykeeper-io", "pykeeper-events")


def pykeeper_threads() -> List[threading.Thread]:
    """The live I/O and event threads of every client."""
    return [t for t in threading.enumerate() if t.name in CLIENT_THREADS]



class StateLog:
    """A listener recording every state change, with waits on them."""

    def __init__(self) -> None:
        self.states: List[str] = []
        self._cond = threading.Condition()

    def __call__(self, state: pykeeper.State) -> None:
        with self._cond:
            self.states.append(state.value)
            self._cond.notify_all()

    def wait_for(self, state: str, after: int = 0, timeout: float = WAIT) -> int:
        """Wait until `state` was recorded at index >= `after`; returns its index."""
        def found() -> bool:
            return state in self.states[after:]
        with self._cond:
            if not self._cond.wait_for(found, timeout):
                raise AssertionError(f"no {state!r} within {timeout} s; saw {self.states}")
            return self.states.index(state, after)

    def mark(self) -> int:
        with self._cond:
            return len(self.states)


class Blocking:
    """An object of the asyncio client (a TreeCache) with each coroutine
    method callable (blocking) from the test's thread."""

    def __init__(self, target: Any, run: Callable[[Any], Any]) -> None:
        self._target = target
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._run(attr(*args, **kwargs))

        return call

    def __len__(self) -> int:
        return len(self._target)

    def __iter__(self) -> Any:
        return iter(self._target)

    def __contains__(self, path: object) -> bool:
        return path in self._target

    def __enter__(self) -> "Blocking":
        self._run(self._target.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._run(self._target.__aexit__(*exc))


class AsyncioFacade:
    """A pykeeper.aio.ZooKeeper on an event loop of its own thread, with
    each coroutine method callable (blocking) from the test's thread, and
    the helpers it makes (TreeCache, DataWatch, ChildrenWatch) started on
    the loop."""

    # The thread callbacks run on (as "pykeeper-events" for the sync client).
    callback_thread = "asyncio-loop"

    def __init__(self, hosts: str, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=self.callback_thread)
        self._thread.start()
        self.aio = pykeeper.aio.ZooKeeper(hosts, **kwargs)

    def _run(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.aio, name)
        if name in ("data_watch", "children_watch") or name.endswith("_async"):
            make = attr  # (must run on the loop; *_async returns a thread-safe future)

            async def started(*args: Any, **kwargs: Any) -> Any:
                made = make(*args, **kwargs)
                return made if name.endswith("_async") else await made  # (the first call)
            attr = started
        elif not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._run(attr(*args, **kwargs))
            if isinstance(result, pykeeper.aio.TreeCache):
                return Blocking(result, self._run)
            return result

        call.coroutine_function = attr  # type: ignore[attr-defined]
        return call

    def call_on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args), run on the loop (calls made there follow each other
        with no loop iteration, so no reply, in between)."""
        async def call() -> Any:
            return fn(*args)
        return self._run(call())

    def retry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._run(self.aio.retry(fn.coroutine_function, *args, **kwargs))

    def close(self, timeout: float = 5.0) -> None:
        if self._loop.is_closed():
            return  # (closed already, as the sync client's close may be called twice)
        try:
            self._run(self.aio.close(timeout))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


def client_factory(kind: str, default_hosts: Optional[str] = None
                   ) -> Iterator[Callable[..., Any]]:
    """A generator fixture body: yields `make(hosts, **kwargs)`, which makes a
    connected client (kind "sync" or "asyncio", the latter an AsyncioFacade)
    of `hosts` (`default_hosts` if not given) with a `.log` StateLog
    listening; closes them all when resumed."""
    made: List[Any] = []

    def make(hosts: Optional[str] = None, **kwargs: Any) -> Any:
        hosts = hosts or default_hosts
        if hosts is None:
            raise TypeError("make() needs the hosts to connect to")
        kwargs.setdefault("connect_timeout", 1.0)
        if kind == "asyncio":
            client: Any = AsyncioFacade(hosts, **kwargs)
        else:
            client = pykeeper.ZooKeeper(hosts, **kwargs)
        client.log = StateLog()
        client.add_listener(client.log)
        made.append(client)
        client.connect()
        return client

    yield make
    for client in made:
        client.close(timeout=2.0)
