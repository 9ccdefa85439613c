"""Real clients against a hostile server: more than 10,000 malformed frames.

Each client's only host is a `HostileServer` (tests/security/fake_server.py)
that gives a real-looking session, then answers each request with a
malformed frame (mutated real replies: huge and negative length prefixes,
lengths over the client's limit, short headers, wrong xids, cut bodies,
trailing bytes, broken inner lengths, bad UTF-8, bad notifications,
framed garbage, a bad frame after good ones) or replaces the handshake
with a malformed one. The server never closes a connection first, so a
connection that ends is one the client reset. For every frame:

- the client resets the connection within `BOUND` seconds (no hang);
- the call waiting on it fails with ConnectionLossException, never a result,
  another exception, or no answer (no hang);
- the client's I/O thread (or asyncio task) is still running.

Then the fake server relays new connections to a real server, and the same
client object must reconnect (its fake session is refused as expired, so it
makes a new one) and create, read and delete a node. A separate test streams
far more than the client's frame limit behind an over-limit length prefix
and checks, with tracemalloc, that the client allocates none of it.

Frames are made from a seeded random generator, so a failure names a seed
and a frame that reproduce it. Reconnecting is fast because each bad reply
comes on an established session (which resets the back-off); the back-off
after a bad handshake is shrunk for the test.
"""

from __future__ import annotations

import asyncio
import collections
import random
import resource
import sys
import threading
import time
import tracemalloc
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Dict, List

import pytest

import pykeeper
import pykeeper.aio
import pykeeper.core.session
from pykeeper.protocol.client_protocol import DEFAULT_MAX_FRAME
from pykeeper.testing import wait_until

from .fake_server import SESSION_ID, HostileServer, Plan, ServerLoop, make_plans

# Seconds within which each bad frame must be refused (the session timeout
# is 30 s, so a read timeout would not hide a hang).
BOUND = 5.0
SESSION_TIMEOUT = 30.0
SEED = 20240817
# Clients run at once, each with its own hostile server: (sync, asyncio).
SYNC_CLIENTS = 2
ASYNC_CLIENTS = 2
FRAMES_PER_CLIENT = 2600  # 4 x 2,600 = 10,400 frames

ALL_KINDS = {
    "huge_length", "huge_length_flood", "short_header", "wrong_xid", "truncated",
    "trailing_bytes", "inner_length", "bad_utf8", "bad_notification", "framed_garbage",
    "after_good_frames", "handshake_truncated", "handshake_bad_bool", "handshake_bad_password",
    "handshake_huge_length", "handshake_refused", "handshake_garbage",
}

# One call per request type the fake server knows a real reply for.
CALLS: List[Callable[[Any], Future]] = [
    lambda c: c.exists_async("/golden"),
    lambda c: c.get_async("/golden"),
    lambda c: c.get_children_async("/golden", include_stat=True),
    lambda c: c.create_async("/golden", b"hello golden"),
    lambda c: c.set_async("/golden", b"changed"),
    lambda c: c.delete_async("/golden"),
    lambda c: c.sync_async("/golden"),
]


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # After a bad handshake the client backs off before the next attempt
    # (50 ms, doubling); a test with ~1,000 of them shrinks it.
    monkeypatch.setattr(pykeeper.core.session, "INITIAL_BACKOFF", 0.001)


@pytest.fixture(scope="module")
def server_loop():
    with ServerLoop() as loop:
        yield loop


class Tally:
    """What one client saw, checked after all clients are done (so one
    failing client does not leave the others running)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.losses = 0
        self.problems: List[str] = []
        self.worked_after = False
        self.seconds = 0.0

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(f"{self.name}: {text}")


def _reply_plans(plans: List[Plan]) -> int:
    return sum(1 for plan in plans if plan.handshake is None)


def _check_outcomes(server: HostileServer, plans: List[Plan], tally: Tally) -> None:
    # The server records a frame once it sees the client hang up, which
    # may be just after the client failed the call.
    try:
        wait_until(lambda: len(server.outcomes) >= len(plans), timeout=BOUND * 2,
                   interval=0.005)
    except TimeoutError:
        pass
    if len(server.outcomes) != len(plans):
        tally.problem(f"{len(server.outcomes)} of {len(plans)} bad frames were sent")
    for outcome in server.outcomes:
        if not outcome.rejected:
            tally.problem(f"{outcome.plan.kind} frame (request opcode {outcome.opcode}) not "
                          f"refused within {BOUND} s: {outcome.sent[:120].hex()}")


def _work_on_real_server_sync(client: pykeeper.ZooKeeper, tally: Tally) -> None:
    client.wait_until_connected(20)
    path = "/hostile-" + uuid.uuid4().hex
    assert client.session_id != SESSION_ID, "still on the fake session"
    assert client.create(path, b"real") == path
    assert client.get(path)[0] == b"real"
    client.delete(path)
    assert client.exists(path) is None
    tally.worked_after = True


def run_sync_client(server: HostileServer, plans: List[Plan], tally: Tally,
                    real: bool = True) -> None:
    client = pykeeper.ZooKeeper(server.hosts, session_timeout=SESSION_TIMEOUT)
    start = time.monotonic()
    try:
        client.connect(BOUND)
        thread = client._connection._thread
        served = 0
        while served < _reply_plans(plans):
            client.wait_until_connected(BOUND * 2)
            try:
                future = CALLS[served % len(CALLS)](client)
            except pykeeper.ConnectionLossException:
                # The connection was reset but the state not yet moved on:
                # nothing was sent; wait for the next connection.
                continue
            served += 1
            tally.calls += 1
            try:
                result = future.result(BOUND)
            except pykeeper.ConnectionLossException:
                tally.losses += 1
            except Exception as exc:  # a hang (TimeoutError) or a wrong exception
                tally.problem(f"call {served} raised {type(exc).__name__}: {exc}")
                if isinstance(exc, TimeoutError):
                    break
            else:
                tally.problem(f"call {served} got a result from a malformed reply: {result!r}")
                break
            if not thread.is_alive():
                tally.problem(f"the I/O thread died at call {served}")
                break
        tally.seconds = time.monotonic() - start
        _check_outcomes(server, plans, tally)
        if real:
            _work_on_real_server_sync(client, tally)
        if not thread.is_alive() or client._connection._thread is not thread:
            tally.problem("the I/O thread did not survive")
    except Exception as exc:
        tally.problem(f"{type(exc).__name__}: {exc}")
    finally:
        client.close(5)


async def _drive_async_client(server: HostileServer, plans: List[Plan], tally: Tally,
                              real: bool) -> None:
    client = pykeeper.aio.ZooKeeper(server.hosts, session_timeout=SESSION_TIMEOUT)
    start = time.monotonic()
    try:
        await client.connect(BOUND)
        task = client._connection._task
        served = 0
        while served < _reply_plans(plans):
            await client.wait_until_connected(BOUND * 2)
            try:
                future = CALLS[served % len(CALLS)](client)
            except pykeeper.ConnectionLossException:
                await asyncio.sleep(0)  # let the connection task move on
                continue
            served += 1
            tally.calls += 1
            try:
                result = await asyncio.wait_for(asyncio.wrap_future(future), BOUND)
            except pykeeper.ConnectionLossException:
                tally.losses += 1
            except Exception as exc:
                tally.problem(f"call {served} raised {type(exc).__name__}: {exc}")
                if isinstance(exc, asyncio.TimeoutError):
                    break
            else:
                tally.problem(f"call {served} got a result from a malformed reply: {result!r}")
                break
            if task.done():
                tally.problem(f"the connection task ended at call {served}")
                break
        tally.seconds = time.monotonic() - start
        _check_outcomes(server, plans, tally)
        if not real:
            return
        await client.wait_until_connected(20)
        path = "/hostile-aio-" + uuid.uuid4().hex
        assert client.session_id != SESSION_ID, "still on the fake session"
        assert await client.create(path, b"real") == path
        assert (await client.get(path))[0] == b"real"
        await client.delete(path)
        assert await client.exists(path) is None
        tally.worked_after = True
        if task.done() or client._connection._task is not task:
            tally.problem("the connection task did not survive")
    except Exception as exc:
        tally.problem(f"{type(exc).__name__}: {exc}")
    finally:
        await client.close(5)


def run_async_client(server: HostileServer, plans: List[Plan], tally: Tally,
                     real: bool = True) -> None:
    asyncio.run(_drive_async_client(server, plans, tally, real))


def _max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@pytest.mark.timeout(300)
def test_ten_thousand_malformed_frames_then_the_real_server(zk_server, server_loop,
                                                            fast_backoff) -> None:
    host, _, port = zk_server.hosts.rpartition(":")
    real = (host, int(port))
    rng = random.Random(SEED)
    runners = ([run_sync_client] * SYNC_CLIENTS) + ([run_async_client] * ASYNC_CLIENTS)
    jobs = []
    for index, runner in enumerate(runners):
        plans = make_plans(rng, FRAMES_PER_CLIENT, DEFAULT_MAX_FRAME)
        server = HostileServer(server_loop, plans, forward_to=real, bound=BOUND)
        tally = Tally(f"{'sync' if runner is run_sync_client else 'asyncio'} client {index}")
        jobs.append((runner, server, plans, tally))
    rss_before = _max_rss_mib()
    started = time.monotonic()
    threads = [threading.Thread(target=runner, args=(server, plans, tally), daemon=True)
               for runner, server, plans, tally in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    elapsed = time.monotonic() - started
    for _, server, _, _ in jobs:
        server.close()

    assert not any(thread.is_alive() for thread in threads), "a client run hung"
    problems = [p for _, _, _, tally in jobs for p in tally.problems]
    assert not problems, "\n".join(problems)
    outcomes = [o for _, server, _, _ in jobs for o in server.outcomes]
    kinds = collections.Counter(o.plan.kind for o in outcomes)
    assert len(outcomes) >= 10_000
    assert all(o.rejected for o in outcomes)
    assert set(kinds) == ALL_KINDS, f"kinds not covered: {ALL_KINDS - set(kinds)}"
    for _, server, plans, tally in jobs:
        assert tally.calls == tally.losses == _reply_plans(plans), tally.name
        assert tally.worked_after, tally.name
        assert server.relayed >= 1, tally.name
    slowest = max(o.seconds for o in outcomes)
    assert slowest < BOUND
    # Not one over-limit prefix made the client buffer its body: the
    # process grew by far less than one frame at the limit (16 MiB) per flood.
    assert _max_rss_mib() - rss_before < 64
    print(f"\n{len(outcomes)} malformed frames over {len(outcomes)} connections by "
          f"{len(jobs)} clients in {elapsed:.1f} s (slowest refusal {slowest * 1000:.1f} ms); "
          f"{dict(sorted(kinds.items()))}; per client: "
          + ", ".join(f"{tally.name} {tally.seconds:.1f} s" for _, _, _, tally in jobs))


def _flood_plans(count: int) -> List[Plan]:
    plans = make_plans(random.Random(SEED + 1), count, DEFAULT_MAX_FRAME, handshake_share=0,
                       flood_share=1.0)
    assert all(p.flood > DEFAULT_MAX_FRAME for p in plans)
    return plans


@pytest.mark.parametrize("kind", ["sync", "asyncio"])
def test_an_over_limit_length_prefix_is_refused_before_its_body(server_loop, fast_backoff,
                                                               kind: str) -> None:
    """Behind each prefix over the limit the server streams twice the
    client's frame limit; the client must hang up at the prefix, without
    buffering what follows (tracemalloc sees this process's allocations,
    the fake server's small write buffers included)."""
    plans = _flood_plans(20)
    server = HostileServer(server_loop, plans, bound=BOUND)
    tally = Tally(kind)
    runner = run_sync_client if kind == "sync" else run_async_client
    tracemalloc.start()
    try:
        client_thread = threading.Thread(target=runner, args=(server, plans, tally, False))
        client_thread.start()
        client_thread.join(120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        server.close()
    assert not client_thread.is_alive()
    assert not tally.problems, "\n".join(tally.problems)
    assert len(server.outcomes) == len(plans)
    assert all(o.rejected for o in server.outcomes)
    assert tally.losses == len(plans)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB of traced allocations"


def test_the_kinds_of_malformed_frames_are_all_made() -> None:
    plans = make_plans(random.Random(SEED), 3000, DEFAULT_MAX_FRAME)
    kinds: Dict[str, int] = collections.Counter(p.kind for p in plans)
    assert set(kinds) == ALL_KINDS
