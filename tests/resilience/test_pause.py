"""A paused client is not a dead server: a process stopped for 5 s
(SIGSTOP/SIGCONT) or an asyncio loop blocked for 5 s comes back to the
same connection and session, with no failed call, although for all that
time it sent no ping (session timeout 10 s, read timeout 6.67 s).

Each pause starts 1.8-3.2 s after the client last heard from the server,
so that the last reply is older than the read timeout when it resumes:
the case the client once took for a dead server."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.testing import ZooKeeperServer

PAUSES = 4
PAUSE = 5.0
CHILD = pathlib.Path(__file__).with_name("pause_child.py")
LINE_WAIT = 30.0


class Child:
    """The pause_child.py process, with its stdout lines in a queue."""

    def __init__(self, kind: str, hosts: str) -> None:
        root = str(pathlib.Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, str(CHILD), kind, hosts],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)
        self.lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("EOF")

    def expect(self, prefix: str) -> str:
        """The next line starting with `prefix` (others are skipped)."""
        deadline = time.monotonic() + LINE_WAIT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line from the child in {LINE_WAIT} s")
            if line == "EOF":
                raise AssertionError(f"the child ended before a {prefix!r} line "
                                     f"(exit code {self.proc.wait(5)})")
            if line.startswith(prefix):
                return line

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> Dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        result: Dict[str, Any] = json.loads(self.expect("DONE ")[5:])
        self.proc.wait(10)
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(5)


@pytest.mark.parametrize("kind", ["sync", "asyncio"])
def test_stopped_process_keeps_its_connection(zk_server: ZooKeeperServer, kind: str) -> None:
    child = Child(kind, zk_server.hosts)
    try:
        session = int(child.expect("READY ").split()[1])
        for _ in range(PAUSES):
            child.drain()
            child.expect("OK ")  # (it heard from the server just now)
            time.sleep(random.uniform(1.8, 3.2))  # a random moment of its idling
            os.kill(child.proc.pid, signal.SIGSTOP)
            time.sleep(PAUSE)  # the pause under test
            os.kill(child.proc.pid, signal.SIGCONT)
        child.drain()
        child.expect("OK ")  # calls after the last pause
        child.expect("OK ")
        result = child.stop()
    finally:
        child.kill()
    assert result["failures"] == []
    assert result["session"] == session
    # connecting and associating once, at the start; never again
    assert result["states"].count("connecting") == 1, result["states"]
    assert result["states"][-1] == "connected", result["states"]


def test_blocked_event_loop_keeps_its_connection(zk_server: ZooKeeperServer) -> None:
    states: List[str] = []
    failures: List[BaseException] = []

    async def run() -> None:
        client = pykeeper.aio.ZooKeeper(zk_server.hosts, session_timeout=10.0)
        client.add_listener(lambda state: states.append(state.value))
        await client.connect()
        session = client.session_id
        node = "/pause-blocked-loop"
        if await client.exists(node) is None:
            await client.create(node, b"")
        replied = asyncio.Event()
        stop = asyncio.Event()

        async def worker() -> None:
            count = 0
            while not stop.is_set():
                try:
                    await client.get(node)
                    await client.set(node, str(count).encode())
                except pykeeper.ZooKeeperException as exc:
                    failures.append(exc)
                count += 1
                replied.set()
                try:
                    await asyncio.wait_for(stop.wait(), 3.5)
                except asyncio.TimeoutError:
                    pass

        task = asyncio.get_running_loop().create_task(worker())
        for _ in range(PAUSES):
            replied.clear()
            await asyncio.wait_for(replied.wait(), LINE_WAIT)
            await asyncio.sleep(random.uniform(1.8, 3.2))  # a random moment of idling
            time.sleep(PAUSE)  # the loop blocked: the pause under test
        for _ in range(2):
            replied.clear()
            await asyncio.wait_for(replied.wait(), LINE_WAIT)
        stop.set()
        await task
        assert client.session_id == session
        await client.close()

    asyncio.run(run())
    assert failures == []
    assert states.count("connecting") == 1, states
    assert states[:3] == ["connecting", "associating", "connected"], states
