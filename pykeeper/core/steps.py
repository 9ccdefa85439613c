"""Helpers and recipes written once, as generators of steps.

A helper (DataWatch, ChildrenWatch, a TreeCache's arming and waits; next,
the recipes) is a generator that yields *steps* and receives their
results (or has their exceptions thrown in):

- `Call(fn, *args, retry=False)`: the operation `fn(client, *args)` (see
  pykeeper.core.operations); its answer. With `retry`, under the client's retry
  policy (a fresh operation each try).
- `WaitForEvent(signal, deadline=None, after=None)`: True once `signal`
  fired (after generation `after`, if given: a fire since the helper
  looked counts), False at `deadline` (time.monotonic()).
- `Sleep(seconds)`: None, that much later.
- `Callback(fn, *args)`: what `fn(*args)` returns (awaited by the asyncio
  driver if it is awaitable): user code, run where the client runs its
  callbacks.
- `Detach()`: the part whoever started the helper waits for ends here;
  the rest runs in the background.

`ThreadDriver` drives them for the sync client (blocking the calling
thread; in the background, a parked helper resumes in the thread that
fires its signal: the event thread, for watchers and listeners), and
`AsyncioDriver` for the asyncio client (awaiting). A helper touches its
client only through `HelperClient` (and `retry`, which each driver calls).

A `Signal` is itself a watcher: `yield Call(ops.exists, path, signal)` then
`yield WaitForEvent(signal, deadline, after=generation)` waits for the
watch (how a recipe waits for its predecessor's node to go).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from concurrent.futures import Future
from typing import (
    Any, Awaitable, Callable, Generator, List, Optional, Protocol, Set, Tuple, TypeVar, Union,
)

from .futures import on_loop
from ..protocol import requests as rq
from ..protocol.records import ACL

log = logging.getLogger("pykeeper")

T = TypeVar("T")
Operation = Union[rq.Request, Generator[rq.Request, Any, Any]]

__all__ = [
    "Call", "WaitForEvent", "Sleep", "Callback", "Detach", "Step", "Helper", "Signal", "Relay",
    "HelperClient", "SyncHelperClient", "AsyncHelperClient", "ThreadDriver", "AsyncioDriver",
]


class HelperClient(Protocol):
    """What a helper may use of a client (both clients implement it)."""

    session_timeout: float
    max_data_size: int
    default_acl: Optional[List[ACL]]

    @property
    def session_id(self) -> Optional[int]: ...

    @property
    def connected(self) -> bool: ...

    @property
    def last_zxid(self) -> int: ...

    @property
    def state(self) -> str:
        """The client's state (a pykeeper.State: "connected", "closed", ...)."""
        ...

    def add_listener(self, listener: Callable[[Any], Any]) -> None: ...

    def remove_listener(self, listener: Callable[[Any], Any]) -> None: ...

    def start_operation(self, op: Operation,
                        future: Optional["Future[Any]"] = None) -> "Future[Any]":
        """Send `op`'s first request now (raises if it cannot be sent);
        returns a Future of its answer (`future`, if given, with its
        callbacks attached first), completed on the client's I/O thread or
        event loop, in reply order. Never blocks."""
        ...

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Queue `fn(*args)` where the client runs callbacks (the event
        thread, or the event loop); False if the client is closed. Never
        blocks."""
        ...

    def remove_watches(self, path: str, watcher: Any = None, kind: str = "any") -> Any:
        """Remove watchers from the client's table and the server: returns
        None (sync client, after a round trip) or an awaitable of None."""
        ...


class SyncHelperClient(HelperClient, Protocol):
    def retry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def run_operation(self, op: Operation) -> Any:
        """`op`'s answer, driven in the calling thread (blocking, no retry
        policy of the client's)."""
        ...


class AsyncHelperClient(HelperClient, Protocol):
    async def retry(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any: ...


# -- steps ---------------------------------------------------------------------------

class Step:
    """What a helper yields."""

    __slots__ = ()


class Call(Step):
    """Run the operation `fn(client, *args)`; the step's result is its answer."""

    __slots__ = ("fn", "args", "retry")

    def __init__(self, fn: Callable[..., Operation], *args: Any, retry: bool = False) -> None:
        self.fn = fn
        self.args = args
        self.retry = retry

    def operation(self, client: HelperClient) -> Operation:
        return self.fn(client, *self.args)

    def __repr__(self) -> str:
        return f"Call({getattr(self.fn, '__name__', self.fn)}, {self.args!r}, retry={self.retry})"


class WaitForEvent(Step):
    """Wait until `signal` fires (a fire after generation `after` counts,
    even one before the wait began), or until `deadline` (monotonic time;
    None: no limit). Result: True if it fired, False at the deadline."""

    __slots__ = ("signal", "deadline", "after")

    def __init__(self, signal: "Signal", deadline: Optional[float] = None,
                 after: Optional[int] = None) -> None:
        self.signal = signal
        self.deadline = deadline
        self.after = after


class Sleep(Step):
    """Resume after `seconds`; result None."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Callback(Step):
    """Run user code `fn(*args)` (awaited on the asyncio client if it
    returns an awaitable); the result is what it returns."""

    __slots__ = ("fn", "args")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.fn = fn
        self.args = args


class Detach(Step):
    """The starter's wait ends here; the helper goes on in the background."""

    __slots__ = ()


Helper = Generator[Step, Any, T]


class Signal:
    """Something helpers wait on, fired by a watcher or a listener (from
    any thread). Each fire bumps `generation` and wakes every waiter."""

    __slots__ = ("_lock", "generation", "_waiters", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self._waiters: List[Callable[[], None]] = []

    def fire(self, *_: Any) -> None:
        """Wake every waiter (in this thread: each waiter is short)."""
        with self._lock:
            self.generation += 1
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter()

    def __call__(self, *_: Any) -> None:
        """As a watcher (or listener): fire."""
        self.fire()

    def park(self, waiter: Callable[[], None], after: Optional[int]) -> bool:
        """Call `waiter()` at the next fire; False (and no call) if it has
        fired since generation `after` already."""
        with self._lock:
            if after is not None and self.generation != after:
                return False
            self._waiters.append(waiter)
            return True

    def unpark(self, waiter: Callable[[], None]) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class Relay:
    """A watcher (or listener) the client's tables hold for a helper: it
    calls `fn(event)` until released, and then holds nothing, so a watch
    still armed on the server keeps no stopped helper alive. `inline`: the
    client runs it as it decodes the event (it must only update memory)."""

    __slots__ = ("fn", "inline", "__weakref__")

    def __init__(self, fn: Callable[[Any], Any], inline: bool = False) -> None:
        self.fn: Optional[Callable[[Any], Any]] = fn
        self.inline = inline

    def __call__(self, event: Any) -> None:
        fn = self.fn
        if fn is not None:
            fn(event)

    def release(self) -> None:
        self.fn = None

    def __repr__(self) -> str:
        return f"<pykeeper relay to {self.fn!r}>"


# -- the sync client's driver -----------------------------------------------------------

class _Once:
    """Resumes a parked helper once, whichever of its wake-ups comes first."""

    __slots__ = ("_lock", "_fn", "timer")

    def __init__(self, fn: Callable[[Any], None]) -> None:
        self._lock = threading.Lock()
        self._fn: Optional[Callable[[Any], None]] = fn
        self.timer: Optional[threading.Timer] = None

    def __call__(self, value: Any = True) -> None:
        with self._lock:
            fn, self._fn = self._fn, None
            timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()
        if fn is not None:
            fn(value)


def _close_quietly(helper: "Helper[Any]") -> None:
    try:
        helper.close()
    except RuntimeError:
        pass  # (a `finally` of it that would still have yielded a step)


class ThreadDriver:
    """Drives helpers for the sync client. `run` blocks the calling thread
    to the end; `start` blocks it until the helper's `Detach` and leaves
    the rest in the background."""

    def __init__(self, client: SyncHelperClient) -> None:
        self.client = client

    def run(self, helper: "Helper[T]") -> T:
        """Drive `helper` to its end in this thread; returns what it
        returns, raises what it raises. Blocks for each call (a round trip,
        or the retry policy's limits), wait (to its deadline) and sleep.
        A KeyboardInterrupt (or SystemExit) raised in a step is thrown into
        the helper, as a cancel is on the asyncio client: its clean-up steps
        run, blocking (a clean-up call waits for a lost connection as long
        as the retry policy lets it), and then the interrupt is raised,
        whatever the clean-up raised. A second interrupt ends the clean-up."""
        return self._drive(helper, detaching=False)  # type: ignore[no-any-return]

    def start(self, helper: "Helper[Any]") -> None:
        """Drive `helper` in this thread (blocking, as `run`) up to its
        `Detach`, and on to its first wait, raising what it raises before
        then (an interrupt there is thrown in first, as in `run`); from its
        first wait on, in the background: waits and sleeps park it (nothing
        blocks), and it resumes in the thread that fires its signal (the
        event thread, for watchers and listeners) or, after a deadline or
        sleep, on the event thread."""
        self._drive(helper, detaching=True)

    def _drive(self, helper: "Helper[Any]", detaching: bool, value: Any = None,
               error: Optional[BaseException] = None, detached: bool = False) -> Any:
        """The one loop of `run`, `start` and `_resume`: from a `Detach` on
        (or `detached` from the start), a helper's error is logged and its
        first wait parks it."""
        interrupt: Optional[BaseException] = None
        while True:
            try:
                step = helper.send(value) if error is None else helper.throw(error)
            except StopIteration as stop:
                if interrupt is not None:
                    raise interrupt
                return stop.value
            except Exception:
                if interrupt is not None:
                    raise interrupt from None  # (whatever its clean-up raised)
                if detached:  # (in the background part, as _resume does)
                    log.exception("helper %r failed", helper)
                    return None
                raise
            except BaseException:
                if interrupt is not None:
                    raise interrupt from None
                raise
            if detaching and isinstance(step, Detach):
                detached = True
            if detached and isinstance(step, (WaitForEvent, Sleep)):
                self._park(helper, step)
                if interrupt is not None:
                    raise interrupt
                return None
            try:
                value, error = self._now(step)
            except BaseException as exc:  # (KeyboardInterrupt, SystemExit: Ctrl-C in a step)
                if interrupt is not None:
                    _close_quietly(helper)  # (a second one: no more clean-up)
                    raise
                interrupt = exc
                value, error = None, exc

    def _now(self, step: Step) -> Tuple[Any, Optional[BaseException]]:
        try:
            if isinstance(step, Call):
                return self._call(step), None
            if isinstance(step, WaitForEvent):
                return self._wait(step), None
            if isinstance(step, Sleep):
                threading.Event().wait(max(0.0, step.seconds))
                return None, None
            if isinstance(step, Callback):
                return step.fn(*step.args), None
            if isinstance(step, Detach):
                return None, None
            raise TypeError(f"not a helper step: {step!r}")
        except Exception as exc:
            return None, exc

    def _call(self, step: Call) -> Any:
        # A blocking call in this thread (it reads its own reply when it can:
        # no hand-off to the I/O thread and back), under the retry policy
        # only if the helper asked for it.
        def once() -> Any:
            return self.client.run_operation(step.operation(self.client))
        return self.client.retry(once) if step.retry else once()

    def _wait(self, step: WaitForEvent) -> bool:
        woken = threading.Event()
        if not step.signal.park(woken.set, step.after):
            return True
        remaining = None if step.deadline is None else step.deadline - time.monotonic()
        if woken.wait(remaining):
            return True
        step.signal.unpark(woken.set)
        return woken.is_set()

    def _resume(self, helper: "Helper[Any]", value: Any, error: Optional[BaseException]) -> None:
        """Background: run `helper` on in this thread until it parks or ends."""
        self._drive(helper, True, value, error, detached=True)

    def _park(self, helper: "Helper[Any]", step: Union[WaitForEvent, Sleep]) -> None:
        once = _Once(lambda value: self._resume(helper, value, None))
        if isinstance(step, Sleep):
            delay: Optional[float] = step.seconds
            late: Any = None
        else:
            if not step.signal.park(once, step.after):
                self._resume(helper, True, None)
                return
            delay = None if step.deadline is None else step.deadline - time.monotonic()
            late = False
        if delay is not None:
            def timed_out() -> None:
                if isinstance(step, WaitForEvent):
                    step.signal.unpark(once)
                if not self.client.call_soon(once, late):
                    once(late)
            once.timer = threading.Timer(max(0.0, delay), timed_out)
            once.timer.daemon = True
            once.timer.start()


# -- the asyncio client's driver ---------------------------------------------------------

class _Start:
    """A start awaited by run_until_detached: whether the helper takes
    itself back when cancelled at its Detach, and whether it got there."""

    __slots__ = ("take_back", "at_detach")

    def __init__(self, take_back: bool) -> None:
        self.take_back = take_back
        self.at_detach = False


class AsyncioDriver:
    """Drives helpers for the asyncio client, on its event loop."""

    def __init__(self, client: AsyncHelperClient) -> None:
        self.client = client
        self._tasks: Set["asyncio.Task[Any]"] = set()

    async def run(self, helper: "Helper[T]", detached: Optional["asyncio.Future[None]"] = None,
                  start: Optional["_Start"] = None) -> T:
        """Drive `helper` to its end, awaiting each step; returns what it
        returns, raises what it raises. A cancel of the task is thrown into
        the helper, whose clean-up steps are awaited before CancelledError
        is raised (a second cancel meanwhile stops that). `detached`, if given, is resolved
        at its `Detach` (or when it ends first, with its error if any)."""
        value: Any = None
        error: Optional[BaseException] = None
        cancelled: Optional[asyncio.CancelledError] = None
        try:
            while True:
                try:
                    step = helper.send(value) if error is None else helper.throw(error)
                except StopIteration as stop:
                    if cancelled is not None:
                        raise cancelled
                    return stop.value  # type: ignore[no-any-return]
                except BaseException:
                    if cancelled is not None:
                        raise cancelled  # (whatever its clean-up raised: the task was cancelled)
                    raise
                if isinstance(step, Detach) and detached is not None:
                    if start is not None:
                        start.at_detach = True
                        if detached.cancelled() and cancelled is None and start.take_back:
                            # (Its starter was cancelled on the way here: the helper
                            # takes itself back rather than go on in the background.)
                            cancelled = asyncio.CancelledError()
                            value, error = None, cancelled
                            continue
                    if not detached.done():
                        detached.set_result(None)
                try:
                    value, error = await self._now(step), None
                except Exception as exc:
                    value, error = None, exc
                except asyncio.CancelledError as exc:
                    # Thrown in, so the helper's clean-up (deleting its node) runs
                    # before the task ends cancelled; a second cancel ends it at once.
                    if cancelled is not None:
                        raise
                    cancelled = exc
                    value, error = None, exc
        except asyncio.CancelledError:
            if detached is not None and not detached.done():
                detached.cancel()
            raise
        except BaseException as exc:
            if detached is not None and not detached.done():
                detached.set_exception(exc)
                detached.exception()  # (retrieved: whoever awaits it gets it)
            raise
        finally:
            if detached is not None and not detached.done():
                detached.set_result(None)

    def start(self, helper: "Helper[Any]") -> "asyncio.Future[None]":
        """Run `helper` in a task (held until done); returns a future
        resolved at its `Detach` (with its error, if it raised before).
        Must be called on the loop."""
        detached = asyncio.get_running_loop().create_future()
        self._hold(asyncio.ensure_future(self.run(helper, detached)))
        return detached

    async def run_until_detached(self, helper: "Helper[Any]",
                                 undo: Optional["Helper[Any]"] = None) -> None:
        """Start `helper` and await its `Detach`, raising what it raises
        before. A cancel before then cancels the helper too, and its
        clean-up is awaited (a second cancel stops that) before
        CancelledError is raised: nothing of it goes on in the background.
        A cancel that lands once it detached, before this task resumed,
        runs `undo` (what takes the start back), if given; with `undo`, a
        cancel that reaches the helper at its `Detach` is thrown in there
        (the helper takes itself back)."""
        detached = asyncio.get_running_loop().create_future()
        start = _Start(take_back=undo is not None)
        task = self._hold(asyncio.ensure_future(self.run(helper, detached, start)))
        # (A caller cancelled while it awaits the Detach cancels the helper too:
        # its clean-up runs, and nothing goes on in the background.)
        detached.add_done_callback(
            lambda done: task.cancel() if done.cancelled() and not start.at_detach else None)
        try:
            await detached
        except asyncio.CancelledError:
            if detached.cancelled() and (start.take_back or not start.at_detach):
                await asyncio.wait([task])  # (its clean-up; one past its Detach goes on)
            elif undo is not None and detached.exception() is None:
                await self.run(undo)
            raise

    def _hold(self, task: "asyncio.Task[Any]") -> "asyncio.Task[Any]":
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    async def wait(self, timeout: Optional[float] = None) -> None:
        """Await the helpers this driver started (but the calling one), at
        most `timeout` seconds."""
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def _task_done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("helper task ended with %r", task.exception())

    async def _now(self, step: Step) -> Any:
        if isinstance(step, Call):
            return await self._call(step)
        if isinstance(step, WaitForEvent):
            return await self._wait(step)
        if isinstance(step, Sleep):
            await asyncio.sleep(max(0.0, step.seconds))
            return None
        if isinstance(step, Callback):
            result = step.fn(*step.args)
            if inspect.isawaitable(result):
                result = await result
            return result
        if isinstance(step, Detach):
            return None
        raise TypeError(f"not a helper step: {step!r}")

    async def _call(self, step: Call) -> Any:
        async def once() -> Any:
            return await on_loop(self.client.start_operation(step.operation(self.client)))
        return await (self.client.retry(once) if step.retry else once())

    async def _wait(self, step: WaitForEvent) -> bool:
        loop = asyncio.get_running_loop()
        woken: "asyncio.Future[None]" = loop.create_future()

        def settle() -> None:
            if not woken.done():
                woken.set_result(None)

        def wake() -> None:
            # A signal may fire in any thread (a recipe's cancel()); a future
            # is settled on its loop only.
            if asyncio._get_running_loop() is loop:
                settle()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(settle)

        if not step.signal.park(wake, step.after):
            return True
        remaining = None if step.deadline is None else step.deadline - time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(woken), remaining)
            return True
        except asyncio.TimeoutError:
            return woken.done()
        finally:
            step.signal.unpark(wake)
