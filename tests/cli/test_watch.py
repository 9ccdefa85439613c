"""`pykeeper watch` as a subprocess: a line (or JSON object) per change,
below the path with -R; through a server restart; --count; Ctrl-C ends it
with exit code 130 and no traceback."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from typing import IO, Any, List

import pykeeper

from ..support import WAIT
from .conftest import COMMAND


class Lines:
    """The lines a stream gives, read on a thread, waited for with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: "queue.Queue[str]" = queue.Queue()
        self.seen: List[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def all(self) -> str:
        """Every line, once the stream has ended (the process exited)."""
        self.thread.join(WAIT)
        while not self.queue.empty():
            self.seen.append(self.queue.get())
        return "\n".join(self.seen)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))

    def next(self, timeout: float = WAIT) -> str:
        line = self.queue.get(timeout=timeout)
        self.seen.append(line)
        return line

    def until(self, text: str, timeout: float = WAIT) -> str:
        while True:
            line = self.next(timeout)
            if text in line:
                return line


def start_watch(hosts: str, *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen([COMMAND, "--hosts", hosts, "watch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def test_watch_prints_each_change_until_ctrl_c(zk_server: Any, client: pykeeper.ZooKeeper,
                                               base: str) -> None:
    process = start_watch(zk_server.hosts, "-R", base)
    out, err = Lines(process.stdout), Lines(process.stderr)  # type: ignore[arg-type]
    try:
        assert "watching" in err.next()
        client.create(base + "/a", b"1")
        client.set(base + "/a", b"2")
        client.delete(base + "/a")
        lines = [out.next() for _ in range(3)]
        assert [line.split()[1:] for line in lines] == [
            ["created", base + "/a"], ["changed", base + "/a"], ["deleted", base + "/a"]]
        assert lines[0][:2] == "20" and lines[0][10] == "T"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(WAIT)
    assert process.returncode == 130
    assert "Traceback" not in err.all() and "interrupted" in err.all()


def test_watch_json_and_count(zk_server: Any, client: pykeeper.ZooKeeper, base: str) -> None:
    process = start_watch(zk_server.hosts, base, "--json", "--count", "2")
    out, err = Lines(process.stdout), Lines(process.stderr)  # type: ignore[arg-type]
    assert "watching" in err.next()
    client.set(base, b"x")
    client.create(base + "/kid")
    events = [json.loads(out.next()) for _ in range(2)]
    assert process.wait(WAIT) == 0
    assert [(e["event"], e["path"]) for e in events] == [("changed", base), ("child", base)]


def test_watch_keeps_going_through_a_server_restart(zk_fresh_server: Any) -> None:
    hosts = zk_fresh_server.hosts
    with pykeeper.ZooKeeper(hosts) as client:
        client.create("/watched")
    process = start_watch(hosts, "-R", "/watched")
    out, err = Lines(process.stdout), Lines(process.stderr)  # type: ignore[arg-type]
    try:
        assert "watching" in err.next()
        zk_fresh_server.restart()
        assert "connection lost" in err.until("connection lost")
        assert "connected" in err.until("# connected")
        # (the watch is re-armed as the connection comes back: change until it is seen)
        with pykeeper.ZooKeeper(hosts) as client:
            client.create("/watched/after", b"restart")
            for attempt in range(int(WAIT * 2)):
                try:
                    line = out.next(timeout=0.5)
                    break
                except queue.Empty:
                    client.set("/watched/after", str(attempt).encode())
            else:
                raise AssertionError("no change was reported after the restart")
        assert line.split()[1] in ("created", "changed") and line.split()[2] == "/watched/after"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(WAIT)
    assert process.returncode == 130
