"""A client in a process of its own, for the pause tests: connects, then
makes a get and a set, prints "OK <n>", idles a few seconds, and again,
until a line "stop" arrives on stdin; then prints one "DONE" line with
its failures, the session it ended with and how often it was reconnecting.

    python pause_child.py sync|asyncio HOSTS
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any, List

import pykeeper
import pykeeper.aio

IDLE = 3.5  # longer than a ping interval of a 10 s session: pings go out while idle
NODE = "/pause-child"


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    kind, hosts = sys.argv[1], sys.argv[2]
    node = f"{NODE}-{kind}"
    states: List[str] = []
    failures: List[str] = []
    stop = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    threading.Thread(target=read_stdin, daemon=True).start()

    def done(session: Any, calls: int) -> None:
        report("DONE " + json.dumps({"failures": failures, "states": states,
                                      "session": session, "calls": calls}))

    if kind == "sync":
        client = pykeeper.ZooKeeper(hosts, session_timeout=10.0)
        client.add_listener(lambda state: states.append(state.value))
        client.connect()
        if client.exists(node) is None:
            client.create(node, b"0")
        report(f"READY {client.session_id}")
        calls = 0
        while not stop.is_set():
            try:
                client.get(node)
                client.set(node, str(calls).encode())
            except pykeeper.ZooKeeperException as exc:
                failures.append(repr(exc))
            calls += 1
            report(f"OK {calls}")
            stop.wait(IDLE)
        done(client.session_id, calls)
        client.close()
        return

    async def run() -> None:
        client = pykeeper.aio.ZooKeeper(hosts, session_timeout=10.0)
        client.add_listener(lambda state: states.append(state.value))
        await client.connect()
        if await client.exists(node) is None:
            await client.create(node, b"0")
        report(f"READY {client.session_id}")
        calls = 0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await client.get(node)
                await client.set(node, str(calls).encode())
            except pykeeper.ZooKeeperException as exc:
                failures.append(repr(exc))
            calls += 1
            report(f"OK {calls}")
            await loop.run_in_executor(None, stop.wait, IDLE)
        done(client.session_id, calls)
        await client.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
