"""`make bench`: pykeeper against kazoo and a raw-socket ceiling, measured
in one run against one local ZooKeeper server (pykeeper.testing), the
clients alternating over several rounds; medians are reported.

Prints one table and writes it, with the command, to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import pathlib
import socket
import statistics
import struct
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from concurrent.futures import Future

import pykeeper
import pykeeper.aio
from pykeeper.protocol.connection import ClientProtocol
from pykeeper.protocol.requests import GetData
from pykeeper.testing import ZooKeeperServer

ROUNDS = 5
SEQUENTIAL = 3000
PIPELINED = 20000
CHILDREN = 1000
CACHE_HITS = 1_000_000
CYCLES = 200
PATH = "/bench/node"
TREE = "/bench/tree"
TREE_NODES = 10_000
DATA = b"x" * 100

try:
    import kazoo.client  # type: ignore
except ImportError:  # the bench extra is not installed
    kazoo = None


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rate(n: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


# -- the raw-socket ceiling: frames getData requests, counts replies ------------

def _raw_session(hosts: str) -> socket.socket:
    host, port = hosts.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = struct.pack(">iqiqi", 0, 0, 10000, 0, 16) + b"\0" * 16 + b"\0"
    sock.sendall(struct.pack(">i", len(body)) + body)
    _read_frames(sock, 1, bytearray())
    return sock


def _read_frames(sock: socket.socket, count: int, buf: bytearray) -> None:
    while count:
        while len(buf) < 4 or len(buf) < 4 + struct.unpack_from(">i", buf)[0]:
            buf += sock.recv(1 << 20)
        length = struct.unpack_from(">i", buf)[0]
        del buf[:4 + length]
        count -= 1


def _get_frame(xid: int) -> bytes:
    path = PATH.encode()
    body = struct.pack(">ii", xid, 4) + struct.pack(">i", len(path)) + path + b"\0"
    return struct.pack(">i", len(body)) + body


def raw_sequential(hosts: str) -> float:
    sock = _raw_session(hosts)
    buf = bytearray()

    def run() -> None:
        for xid in range(1, SEQUENTIAL + 1):
            sock.sendall(_get_frame(xid))
            _read_frames(sock, 1, buf)

    try:
        return rate(SEQUENTIAL, run)
    finally:
        sock.close()


def raw_pipelined(hosts: str) -> float:
    sock = _raw_session(hosts)
    buf = bytearray()

    def run() -> None:
        window = 1000
        sent = done = 0
        while done < PIPELINED:
            batch = min(window - (sent - done), PIPELINED - sent)
            if batch:
                sock.sendall(b"".join(_get_frame(sent + i + 1) for i in range(batch)))
                sent += batch
            _read_frames(sock, min(100, sent - done), buf)
            done += min(100, sent - done)

    try:
        return rate(PIPELINED, run)
    finally:
        sock.close()


def inline_sequential(hosts: str) -> float:
    """Sequential gets through pykeeper's protocol core driven inline by
    the calling thread (no I/O thread): what the client would do without
    its thread hand-off. Not a client (no pings, no reconnects); it shows
    where the sequential rate goes."""
    host, port = hosts.rsplit(":", 1)
    protocol = ClientProtocol(10000, "", False)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(protocol.connect_frame())
    while not protocol.connected:
        protocol.receive(sock.recv(65536))

    def run() -> None:
        for _ in range(SEQUENTIAL):
            reply: Future = Future()
            sock.sendall(protocol.send(GetData(PATH, None), reply))
            while not reply.done():
                events, _ = protocol.receive(sock.recv(1 << 18))
                for event in events:
                    event.context.set_result(event.result)

    try:
        return rate(SEQUENTIAL, run)
    finally:
        sock.close()


# -- the clients --------------------------------------------------------------------

def shared_workloads(zk: Any, wait: Callable[[Any], Any]) -> Dict[str, float]:
    """The workloads kazoo and pykeeper both offer, run the same way on each
    (`wait` turns one of the client's futures into its result)."""
    out = {}
    out["sequential get"] = rate(SEQUENTIAL, lambda: [zk.get(PATH) for _ in range(SEQUENTIAL)])
    out["set"] = rate(SEQUENTIAL, lambda: [zk.set(PATH, DATA) for _ in range(SEQUENTIAL)])

    def create_delete() -> None:
        for _ in range(SEQUENTIAL // 2):
            zk.create("/bench/cd", b"")
            zk.delete("/bench/cd")
    out["create+delete"] = rate(SEQUENTIAL // 2, create_delete)
    out["get_children(1000)"] = rate(
        300, lambda: [zk.get_children("/bench/kids") for _ in range(300)])
    out["pipelined get (futures)"] = rate(
        PIPELINED, lambda: [wait(f) for f in [zk.get_async(PATH) for _ in range(PIPELINED)]])
    return out


def pykeeper_cycle(hosts: str) -> None:
    client = pykeeper.ZooKeeper(hosts)
    client.connect()
    client.close()


def kazoo_cycle(hosts: str) -> None:
    client = kazoo.client.KazooClient(hosts)
    client.start()
    client.stop()
    client.close()


def pk_workloads(hosts: str) -> Dict[str, float]:
    with pykeeper.ZooKeeper(hosts) as zk:
        out = shared_workloads(zk, lambda future: future.result())
        zk.cached_get(PATH)
        out["cached_get hits"] = rate(CACHE_HITS, lambda: [zk.cached_get(PATH)
                                                          for _ in range(CACHE_HITS)])

    async def gather() -> float:
        async with pykeeper.aio.ZooKeeper(hosts) as client:
            start = time.perf_counter()
            await asyncio.gather(*(client.get(PATH) for _ in range(PIPELINED)))
            return PIPELINED / (time.perf_counter() - start)

    out["pipelined get (asyncio)"] = asyncio.run(gather())
    out["connect+close"] = rate(CYCLES, lambda: [pykeeper_cycle(hosts) for _ in range(CYCLES)])

    def build_tree() -> None:
        with pykeeper.ZooKeeper(hosts) as zk:
            zk.tree_cache(TREE, timeout=120).close()
    out["TreeCache build, nodes/s"] = rate(TREE_NODES, build_tree)
    return out


def kazoo_workloads(hosts: str) -> Dict[str, float]:
    zk = kazoo.client.KazooClient(hosts)
    zk.start()
    try:
        out = shared_workloads(zk, lambda result: result.get())
    finally:
        zk.stop()
        zk.close()
    out["connect+close"] = rate(CYCLES, lambda: [kazoo_cycle(hosts) for _ in range(CYCLES)])
    return out


def memory(hosts: str) -> Dict[str, float]:
    """RSS of one idle connected client, and RSS growth over 1,000 connect/close
    cycles (both in KiB)."""
    # The idle client in a fresh interpreter: in this one, memory freed by
    # the earlier workloads would hide what a client costs.
    script = ("import sys; sys.path.insert(0, %r); import bench.run as b, pykeeper; "
              "before = b.rss_kib(); c = pykeeper.ZooKeeper(%r); c.connect(); "
              "print(b.rss_kib() - before); c.close()"
              % (str(pathlib.Path(__file__).resolve().parent.parent), hosts))
    one = float(subprocess.run([sys.executable, "-c", script], check=True,
                               capture_output=True, text=True).stdout.split()[-1])
    for _ in range(50):  # warm-up: allocator pools, imports, caches
        pykeeper_cycle(hosts)
    start = rss_kib()
    for _ in range(1000):
        pykeeper_cycle(hosts)
    growth = rss_kib() - start
    return {"RSS of an idle client, KiB": one, "RSS growth, 1,000 cycles, KiB": growth}


def main() -> int:
    rows: Dict[str, Dict[str, List[float]]] = {}

    def record(client: str, results: Dict[str, float]) -> None:
        for workload, value in results.items():
            rows.setdefault(workload, {}).setdefault(client, []).append(value)

    with ZooKeeperServer() as server:
        with pykeeper.ZooKeeper(server.hosts) as setup:
            setup.create_recursive(PATH, DATA)
            setup.create("/bench/kids")
            futures = [setup.create_async(f"/bench/kids/c{i:04d}", b"")
                       for i in range(CHILDREN)]
            for f in futures:
                f.result()
            setup.create(TREE)
            for level in range(0, TREE_NODES, 100):
                parent = setup.create(f"{TREE}/d{level // 100:03d}")
                futures = [setup.create_async(f"{parent}/n{i:02d}", b"v" * 20)
                           for i in range(99)]
                for f in futures:
                    f.result()
        for round_ in range(ROUNDS):
            print(f"round {round_ + 1} of {ROUNDS}", file=sys.stderr)
            record("pykeeper", pk_workloads(server.hosts))
            if kazoo is not None:
                record("kazoo", kazoo_workloads(server.hosts))
            record("pykeeper", memory(server.hosts))
            record("pykeeper", {"sequential get, protocol core inline (no I/O thread)":
                                inline_sequential(server.hosts)})
            record("raw socket", {"sequential get": raw_sequential(server.hosts),
                                  "sequential get, protocol core inline (no I/O thread)":
                                  raw_sequential(server.hosts),
                                  "pipelined get (futures)": raw_pipelined(server.hosts),
                                  "pipelined get (asyncio)": raw_pipelined(server.hosts)})

    def median(workload: str, client: str) -> Optional[float]:
        values = rows.get(workload, {}).get(client)
        return statistics.median(values) if values else None

    lines = ["| workload | pykeeper /s | kazoo /s | ceiling /s | x kazoo | x ceiling |",
             "|---|---:|---:|---:|---:|---:|"]
    for workload in rows:
        pk, kz, raw = (median(workload, c) for c in ("pykeeper", "kazoo", "raw socket"))

        def fmt(v: Optional[float]) -> str:
            return f"{v:,.0f}" if v is not None else "-"

        def ratio(other: str) -> str:
            # The median of the rounds' own ratios: each compares two runs
            # made a few seconds apart, so the machine's drift over the
            # whole run (seen: the ceiling moving 4.3k-6.9k/s) cancels out.
            ours = rows.get(workload, {}).get("pykeeper") or []
            theirs = rows.get(workload, {}).get(other) or []
            pairs = [a / b for a, b in zip(ours, theirs) if a and b]
            return f"{statistics.median(pairs):.2f}" if pairs else "-"

        lines.append(f"| {workload} | {fmt(pk)} | {fmt(kz)} | {fmt(raw)} | "
                     f"{ratio('kazoo')} | {ratio('raw socket')} |")
    table = "\n".join(lines)
    print(table)
    results = pathlib.Path(__file__).with_name("RESULTS.md")
    results.write_text(
        "# Benchmark results\n\nMeasured with `make bench` (`.venv/bin/python bench/run.py`): "
        f"one local ZooKeeper server, {ROUNDS} alternating rounds, medians (ratios: the "
        "median of each round's own ratio); rates are "
        "operations per second (connect+close: cycles per second; TreeCache: nodes "
        "mirrored per second); RSS rows are KiB, lower is better.\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
