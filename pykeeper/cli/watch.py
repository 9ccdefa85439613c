"""`watch`: every change at (or, with -R, below) a path, one line or one
JSON object each, until Ctrl-C or --count events; through reconnects (the
persistent watch is re-armed by the client) and session expiry (armed
again on the new session)."""

from __future__ import annotations

import argparse
import json
import queue
import time
from typing import Any, Optional, Tuple

from ..clients.base import State
from ..protocol.records import WatchedEvent
from .context import Context
from .output import timestamp

__all__ = ["cmd_watch"]


def cmd_watch(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    client = ctx.client()
    events: "queue.SimpleQueue[Tuple[str, Any]]" = queue.SimpleQueue()

    def on_event(event: WatchedEvent) -> None:
        events.put(("event", event))

    def on_state(state: State) -> None:
        events.put(("state", state))

    client.add_listener(on_state)
    try:
        client.add_watch(path, on_event, recursive=args.recursive)
        return _follow(ctx, args, path, client, events, on_event)
    finally:  # (a shell goes on: its client keeps no listener or watch of ours)
        client.remove_listener(on_state)
        try:
            client.remove_watches(path, on_event)
        except Exception:
            pass


def _follow(ctx: Context, args: argparse.Namespace, path: str, client: Any,
            events: "queue.SimpleQueue[Tuple[str, Any]]", on_event: Any) -> int:
    ctx.err.write(f"watching {path}{' and below' if args.recursive else ''}; Ctrl-C ends\n")
    ctx.err.flush()
    seen = 0
    expired = False
    while args.count is None or seen < args.count:
        kind, item = events.get()
        now = timestamp(int(time.time() * 1000))
        if kind == "state":
            if item == State.EXPIRED_SESSION:
                expired = True
            if item == State.CONNECTED and expired:
                expired = False
                client.add_watch(path, on_event, recursive=args.recursive)
            _show_state(ctx, now, item)
            continue
        seen += 1
        if ctx.json:
            ctx.out.write(json.dumps({"time": now, "event": item.type_name, "path": item.path})
                          + "\n")
        else:
            ctx.out.write(f"{now}  {item.type_name:<8} {item.path}\n")
        ctx.out.flush()
    return 0


def _show_state(ctx: Context, now: str, state: Optional[State]) -> None:
    words = {State.CONNECTING: "connection lost; reconnecting",
             State.CONNECTED: "connected", State.EXPIRED_SESSION: "session expired; starting a "
             "new one (changes made meanwhile are not shown)"}
    text = words.get(state) if state is not None else None
    if text:
        ctx.err.write(f"{now}  # {text}\n")
        ctx.err.flush()
