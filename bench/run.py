"""`make bench`: pykeeper against kazoo and a raw-socket ceiling, measured
in one run against one local ZooKeeper server (pykeeper.testing): after a
warm-up round, several rounds in which each workload is run by the clients
back to back, in an order that rotates from round to round; medians are
reported, and ratios are the median of each round's own ratio.

Prints one table and writes it, with the command, to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from concurrent.futures import Future

import pykeeper
import pykeeper.aio
from pykeeper.protocol.client_protocol import ClientProtocol
from pykeeper.protocol.requests import GetData
from pykeeper.testing import ZooKeeperServer

ROUNDS = 6  # even: every client goes first equally often
SLICES = 10  # of a sequential workload, the clients taking turns
SEQUENTIAL = 3000
PIPELINED = 20000
CHILDREN = 1000
CACHE_HITS = 1_000_000
CYCLES = 200
PATH = "/bench/node"
TREE = "/bench/tree"
TREE_NODES = 10_000
DATA = b"x" * 100
CONTENDERS = 8  # threads on one Lock, each with a client of its own
CONTENDED = 40  # acquire+release cycles per contender

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


Step = Callable[[], None]  # one operation


def rate(n: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


# -- the raw-socket ceiling: frames getData requests, counts replies ------------

def _raw_session(hosts: str) -> socket.socket:
    host, port = hosts.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # (30 s, the server's longest: these sessions never ping.)
    body = struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16 + b"\0"
    sock.sendall(struct.pack(">i", len(body)) + body)
    _read_frames(sock, 1, bytearray())
    return sock


def _read_frames(sock: socket.socket, count: int, buf: bytearray) -> None:
    while count:
        while len(buf) < 4 or len(buf) < 4 + struct.unpack_from(">i", buf)[0]:
            data = sock.recv(65536)
            if not data:
                raise ConnectionResetError("the server closed the raw session")
            buf += data
        length = struct.unpack_from(">i", buf)[0]
        del buf[:4 + length]
        count -= 1


def _get_frame(xid: int) -> bytes:
    path = PATH.encode()
    body = struct.pack(">ii", xid, 4) + struct.pack(">i", len(path)) + path + b"\0"
    return struct.pack(">i", len(body)) + body


def raw_get_step(sock: socket.socket) -> Step:
    """One sequential getData over a raw session: frame, send, read the reply."""
    buf = bytearray()
    xids = iter(range(1, 1 << 31))

    def step() -> None:
        sock.sendall(_get_frame(next(xids)))
        _read_frames(sock, 1, buf)
    return step


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


def inline_session(hosts: str) -> Tuple[socket.socket, Step]:
    """Sequential gets through pykeeper's protocol core driven inline by
    the calling thread (no I/O thread): what the client would do without
    its thread hand-off. Not a client (no pings, no reconnects, no argument
    checks); it shows where the sequential rate goes."""
    host, port = hosts.rsplit(":", 1)
    protocol = ClientProtocol(30000, "", False)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(protocol.connect_frame())
    while not protocol.connected:
        protocol.receive(sock.recv(65536))

    def step() -> None:
        reply: Future = Future()
        sock.sendall(protocol.send(GetData(PATH, None), reply))
        while not reply.done():
            data = sock.recv(65536)
            if not data:
                raise ConnectionResetError("the server closed the inline session")
            events, _ = protocol.receive(data)
            for event in events:
                event.context.set_result(event.result)
    return sock, step


def interleaved(steps: Dict[str, Step], n: int, first: int) -> Dict[str, float]:
    """Each client's rate of `n` sequential operations (`steps[client]()`),
    run in SLICES slices taken in turn, the order rotating, so that every
    client meets the same moments of a noisy machine."""
    clients = list(steps)
    spent = dict.fromkeys(clients, 0.0)
    per_slice = n // SLICES
    for number in range(SLICES):
        shift = (first + number) % len(clients)
        for client in clients[shift:] + clients[:shift]:
            step = steps[client]
            start = time.perf_counter()
            for _ in range(per_slice):
                step()
            spent[client] += time.perf_counter() - start
    return {client: per_slice * SLICES / spent[client] for client in clients}


# -- the clients --------------------------------------------------------------------

Workload = Callable[[], float]  # runs once, returns its rate


def sequential_steps(zk: Any) -> Dict[str, Tuple[int, Step]]:
    """The one-call-at-a-time workloads kazoo and pykeeper both offer: how
    many operations, and one operation."""
    def create_delete() -> None:
        zk.create("/bench/cd", b"")
        zk.delete("/bench/cd")

    # The recipes kazoo has too, uncontended: the same calls on both clients.
    lock = zk.Lock("/bench/lock")
    counter = zk.Counter("/bench/counter")
    queue = zk.Queue("/bench/queue") if hasattr(pykeeper.ZooKeeper, "Queue") else None

    def lock_cycle() -> None:
        lock.acquire()
        lock.release()

    def queue_cycle() -> None:
        assert queue is not None
        queue.put(b"item")
        queue.get()

    steps = {
        "sequential get": (SEQUENTIAL, lambda: zk.get(PATH)),
        "set": (SEQUENTIAL, lambda: zk.set(PATH, DATA)),
        "create+delete": (SEQUENTIAL // 2, create_delete),
        "get_children(1000)": (300, lambda: zk.get_children("/bench/kids")),
        "Lock acquire+release": (SEQUENTIAL // 4, lock_cycle),
        "Counter += 1": (SEQUENTIAL // 3, lambda: counter.__add__(1)),
    }
    if queue is not None:
        steps["Queue put+get"] = (SEQUENTIAL // 4, queue_cycle)
    return steps


def pipelined(zk: Any, wait: Callable[[Any], Any]) -> Workload:
    """20,000 get_async in flight (`wait` turns one of the client's futures
    into its result)."""
    return lambda: rate(
        PIPELINED, lambda: [wait(f) for f in [zk.get_async(PATH) for _ in range(PIPELINED)]])


def contended_lock(clients: List[Any]) -> float:
    """Acquire+release cycles per second, all threads together: one thread
    per client, all on one Lock path (each acquisition waits for the
    release before it: a delete, the next waiter's watch, its
    get_children). Only the contention is timed, not the connects."""
    locks = [client.Lock("/bench/contended") for client in clients]
    start = threading.Barrier(len(locks) + 1)
    errors: List[BaseException] = []

    def contend(lock: Any) -> None:
        start.wait()
        try:
            for _ in range(CONTENDED):
                lock.acquire()
                lock.release()
        except BaseException as exc:  # (raised again below)
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return len(locks) * CONTENDED / elapsed


def pykeeper_contended(hosts: str) -> float:
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(pykeeper.ZooKeeper(hosts)) for _ in range(CONTENDERS)]
        return contended_lock(clients)


def kazoo_contended(hosts: str) -> float:
    clients = []
    try:
        for _ in range(CONTENDERS):
            clients.append(kazoo.client.KazooClient(hosts))
            clients[-1].start()
        return contended_lock(clients)
    finally:
        for client in clients:
            client.stop()
            client.close()


def pykeeper_cycle(hosts: str) -> None:
    client = pykeeper.ZooKeeper(hosts)
    client.connect()
    client.close()


def kazoo_cycle(hosts: str) -> None:
    client = kazoo.client.KazooClient(hosts)
    client.start()
    client.stop()
    client.close()


LOCK_CONTENDED = f"Lock with {CONTENDERS} contenders (a client each)"


def pk_workloads(hosts: str, zk: pykeeper.ZooKeeper) -> Dict[str, Workload]:
    def cached_gets() -> float:
        zk.cached_get(PATH)
        return rate(CACHE_HITS, lambda: [zk.cached_get(PATH) for _ in range(CACHE_HITS)])

    async def gather() -> float:
        async with pykeeper.aio.ZooKeeper(hosts) as client:
            start = time.perf_counter()
            await asyncio.gather(*(client.get(PATH) for _ in range(PIPELINED)))
            return PIPELINED / (time.perf_counter() - start)

    def build_tree() -> None:
        with pykeeper.ZooKeeper(hosts) as client:
            client.tree_cache(TREE, timeout=120).close()

    return {
        "pipelined get (futures)": pipelined(zk, lambda future: future.result()),
        "cached_get hits": cached_gets,
        "pipelined get (asyncio)": lambda: asyncio.run(gather()),
        "connect+close": lambda: rate(
            CYCLES, lambda: [pykeeper_cycle(hosts) for _ in range(CYCLES)]),
        "TreeCache build, nodes/s": lambda: rate(TREE_NODES, build_tree),
        LOCK_CONTENDED: lambda: pykeeper_contended(hosts),
    }


def kazoo_workloads(hosts: str, zk: Any) -> Dict[str, Workload]:
    return {
        "pipelined get (futures)": pipelined(zk, lambda result: result.get()),
        "connect+close": lambda: rate(CYCLES, lambda: [kazoo_cycle(hosts) for _ in range(CYCLES)]),
        LOCK_CONTENDED: lambda: kazoo_contended(hosts),
    }


def raw_workloads(hosts: str) -> Dict[str, Workload]:
    return {"pipelined get (futures)": lambda: raw_pipelined(hosts),
            "pipelined get (asyncio)": lambda: raw_pipelined(hosts)}


INLINE = "sequential get, protocol core inline (no I/O thread)"


def run_round(hosts: str, number: int) -> Dict[str, Dict[str, float]]:
    """Every workload once, the clients that run it back to back (so that
    each ratio compares runs made under the same load of the machine and
    the same warmth of the server's JIT), in an order that rotates from
    round to round; the sequential ones in interleaved slices. Returns
    workload -> client -> rate."""
    results: Dict[str, Dict[str, float]] = {}
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(_raw_session(hosts))
        inline_sock, inline_step = inline_session(hosts)
        stack.enter_context(inline_sock)
        pk = stack.enter_context(pykeeper.ZooKeeper(hosts))
        kz = None
        if kazoo is not None:
            kz = kazoo.client.KazooClient(hosts)
            kz.start()
            stack.callback(kz.close)
            stack.callback(kz.stop)
        sequential: Dict[str, Dict[str, Step]] = {}
        counts: Dict[str, int] = {}
        for client, workloads in (("pykeeper", sequential_steps(pk)),
                                  ("kazoo", sequential_steps(kz) if kz else {})):
            for workload, (count, step) in workloads.items():
                sequential.setdefault(workload, {})[client] = step
                counts[workload] = count
        raw_step = raw_get_step(raw)
        sequential["sequential get"]["raw socket"] = raw_step
        sequential[INLINE] = {"pykeeper": inline_step, "raw socket": raw_step}
        counts[INLINE] = SEQUENTIAL
        # (The inline row right after the client's: the bare sessions
        # never ping, so they are used before they could idle out.)
        for workload in ["sequential get", INLINE] + [
                w for w in sequential if w not in ("sequential get", INLINE)]:
            results[workload] = interleaved(sequential[workload], counts[workload], number)

        whole: Dict[str, Dict[str, Workload]] = {}
        for client, runs in (("pykeeper", pk_workloads(hosts, pk)),
                             ("kazoo", kazoo_workloads(hosts, kz) if kz else {}),
                             ("raw socket", raw_workloads(hosts))):
            for workload, run in runs.items():
                whole.setdefault(workload, {})[client] = run
        for workload, runs in whole.items():
            clients = list(runs)
            shift = number % len(clients)
            for client in clients[shift:] + clients[:shift]:
                results.setdefault(workload, {})[client] = runs[client]()
    return results


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
        # Round 0 only warms the server up (its JIT compiles the request
        # paths during the first seconds of load) and is not recorded.
        for round_ in range(ROUNDS + 1):
            print(f"round {round_} of {ROUNDS}" + (" (warm-up)" if not round_ else ""),
                  file=sys.stderr)
            results = run_round(server.hosts, round_)
            if round_:
                for workload, by_client in results.items():
                    for client, value in by_client.items():
                        record(client, {workload: value})
                record("pykeeper", memory(server.hosts))

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
        f"one local ZooKeeper server, a warm-up round then {ROUNDS} rounds, each workload's "
        "clients run back to back in an order rotating by round (the sequential "
        f"workloads in {SLICES} interleaved slices); medians (ratios: the "
        "median of each round's own ratio); rates are "
        "operations per second (connect+close: cycles per second; TreeCache: nodes "
        "mirrored per second); RSS rows are KiB, lower is better.\n\n" + table + "\n")
    import chart  # (bench/chart.py: the same table as a picture, for the docs)
    return chart.main()


if __name__ == "__main__":
    sys.exit(main())
