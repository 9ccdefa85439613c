"""Chaos: 10,000 operations from 4 threads while the proxy drops every
connection at random intervals of a few hundred milliseconds."""

from __future__ import annotations

import random
import threading
import time

import pykeeper

OPS_PER_THREAD = 2500
THREADS = 4
# What a call made without retries may raise when its connection is dropped
# under it (the session itself outlives every drop: see the checks below).
ALLOWED = (pykeeper.ConnectionLossException, pykeeper.TimeoutException)
# Proof that chaos happened: at least this many connections dropped (one
# every 0.1-0.4 s for the test's whole run, which takes several seconds).
MIN_DROPS = 10


def test_chaos_every_call_returns_and_retried_writes_apply_once(zk_proxy, make_client) -> None:
    client = make_client(zk_proxy.hosts, session_timeout=10.0)
    session = client.session_id
    checker = make_client(zk_proxy.target[0] + ":" + str(zk_proxy.target[1]))
    root = "/chaos-" + str(random.randrange(1 << 30))
    checker.create(root, b"root-data")
    for folder in ("seq", "plain", "unretried"):
        checker.create(f"{root}/{folder}")
    stop = threading.Event()
    dropped = []  # how many connections each drop_all() closed
    results = {i: {"plain": [], "seq": [], "errors": [], "unexpected": [],
                   "created": [], "maybe": [], "read": 0}
               for i in range(THREADS)}

    def chaos() -> None:
        rng = random.Random(7)
        while not stop.wait(rng.uniform(0.1, 0.4)):
            dropped.append(zk_proxy.drop_all())

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine = results[n]
        for i in range(OPS_PER_THREAD):
            roll = rng.random()
            try:
                if roll < 0.15:
                    path = f"{root}/plain/w{n}-{i}"
                    assert client.retry(client.create, path, b"x") == path
                    mine["plain"].append(path)
                elif roll < 0.30:
                    made = client.retry(client.create, f"{root}/seq/w{n}-", b"", sequence=True)
                    mine["seq"].append(made)
                elif roll < 0.60:
                    client.retry(client.get_children, root)
                elif roll < 0.70:
                    # Unretried write: it returned (then the node exists), or
                    # raised an allowed error (then it may or may not have applied).
                    path = f"{root}/unretried/w{n}-{i}"
                    try:
                        assert client.create(path, b"u") == path
                        mine["created"].append(path)
                    except ALLOWED as exc:
                        mine["errors"].append(type(exc))
                        mine["maybe"].append(path)
                else:
                    # Unretried read: it returned the node's data, or raised
                    # an allowed error.
                    try:
                        data, stat = client.get(root)
                        assert data == b"root-data" and stat.dataLength == len(data), (data, stat)
                        mine["read"] += 1
                    except ALLOWED as exc:
                        mine["errors"].append(type(exc))
            except Exception as exc:  # recorded: the test fails naming it
                mine["unexpected"].append(repr(exc))

    dropper = threading.Thread(target=chaos, daemon=True)
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    dropper.start()
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join(240)
    stop.set()
    dropper.join(5)
    elapsed = time.monotonic() - started
    assert not any(w.is_alive() for w in workers), "a call hung"
    unexpected = [u for r in results.values() for u in r["unexpected"]]
    assert unexpected == []

    # Chaos happened: connections were dropped under the client, which
    # noticed each time and came back, in the same session throughout.
    assert not dropper.is_alive()
    assert sum(dropped) >= MIN_DROPS, f"only {sum(dropped)} connections dropped in {elapsed:.1f}s"
    client.wait_until_connected(20)
    states = list(client.log.states)
    # (Counted after the first connect's "connected", which may reach the
    # listener after connect() returned.)
    reconnects = states[states.index("connected") + 1:].count("connected")
    assert reconnects >= MIN_DROPS, f"{reconnects} reconnects for {sum(dropped)} drops: {states}"
    # Every drop closed the client's one connection (the checker is direct),
    # and every reconnect followed a drop.
    assert max(dropped) <= 1 and reconnects <= sum(dropped), (reconnects, sum(dropped))
    assert "expired_session" not in states and client.session_id == session

    plain = sorted(p for r in results.values() for p in r["plain"])
    seq = sorted(p for r in results.values() for p in r["seq"])
    created = {p for r in results.values() for p in r["created"]}
    maybe = {p for r in results.values() for p in r["maybe"]}
    checker.sync(root)
    on_server_plain = sorted(f"{root}/plain/{c}" for c in checker.get_children(root + "/plain"))
    on_server_seq = sorted(f"{root}/seq/{c}" for c in checker.get_children(root + "/seq"))
    on_server_unretried = {f"{root}/unretried/{c}"
                           for c in checker.get_children(root + "/unretried")}
    assert on_server_plain == plain
    # Exactly once: every sequential create made one node, and the names
    # the calls returned are the nodes that exist.
    assert on_server_seq == seq
    assert len(set(seq)) == len(seq)
    # Unretried creates: each that returned made its node; one that raised
    # may or may not have; no node appeared that no call asked for.
    assert created <= on_server_unretried, sorted(created - on_server_unretried)[:5]
    assert on_server_unretried <= created | maybe, sorted(on_server_unretried - created - maybe)[:5]
    # Most unretried calls still succeed: a drop fails only what is in flight.
    reads = sum(r["read"] for r in results.values())
    errors = sum(len(r["errors"]) for r in results.values())
    assert len(created) + reads > errors, (len(created), reads, errors)
    checker.delete_recursive(root)
    print(f"chaos: {THREADS * OPS_PER_THREAD} ops in {elapsed:.1f}s, {sum(dropped)} connections "
          f"dropped, {reconnects} reconnects, {errors} unretried calls lost their connection "
          f"({len(maybe)} creates of unknown outcome, "
          f"{len(maybe & on_server_unretried)} of them applied)")
