"""Awaiting the driver's concurrent.futures from the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any


def on_loop(reply: "Future[Any]", shared: bool = False) -> "asyncio.Future[Any]":
    """An asyncio future of `reply`. The driver completes replies on the
    loop's own thread, so this needs none of wrap_future's thread-safe
    (self-pipe) hand-off, which costs a system call per reply."""
    waiter = asyncio.get_running_loop().create_future()

    def copy(done: "Future[Any]") -> None:
        if waiter.done():
            return
        if done.cancelled():
            waiter.cancel()
            return
        error = done.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    def cancel(w: "asyncio.Future[Any]") -> None:
        if w.cancelled():
            reply.cancel()

    reply.add_done_callback(copy)
    if not shared:  # (a reply other callers wait on too must not be cancelled by one)
        waiter.add_done_callback(cancel)
    return waiter
