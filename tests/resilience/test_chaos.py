"""Chaos: 10,000 operations from 4 threads while the proxy drops every
connection at random intervals of a few hundred milliseconds."""

from __future__ import annotations

import random
import threading
import time

import pykeeper

OPS_PER_THREAD = 2500
THREADS = 4
ALLOWED = (pykeeper.ConnectionLossException, pykeeper.SessionExpiredException,
           pykeeper.TimeoutException)


def test_chaos_every_call_returns_and_retried_writes_apply_once(zk_proxy, make_client) -> None:
    client = make_client(zk_proxy.hosts, session_timeout=10.0)
    checker = make_client(zk_proxy.target[0] + ":" + str(zk_proxy.target[1]))
    root = "/chaos-" + str(random.randrange(1 << 30))
    checker.create(root)
    checker.create(root + "/seq")
    checker.create(root + "/plain")
    stop = threading.Event()
    results = {i: {"plain": [], "seq": [], "errors": [], "unexpected": []} for i in range(THREADS)}

    def chaos() -> None:
        rng = random.Random(7)
        while not stop.wait(rng.uniform(0.1, 0.4)):
            zk_proxy.drop_all()

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
                elif roll < 0.65:
                    client.retry(client.get_children, root)
                else:
                    try:
                        client.get(root)
                    except ALLOWED as exc:
                        mine["errors"].append(type(exc))
            except ALLOWED as exc:
                mine["unexpected"].append(repr(exc))
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
    assert not any(w.is_alive() for w in workers), "a call hung"
    unexpected = [u for r in results.values() for u in r["unexpected"]]
    assert unexpected == []

    plain = sorted(p for r in results.values() for p in r["plain"])
    seq = sorted(p for r in results.values() for p in r["seq"])
    checker.sync(root)
    on_server_plain = sorted(f"{root}/plain/{c}" for c in checker.get_children(root + "/plain"))
    on_server_seq = sorted(f"{root}/seq/{c}" for c in checker.get_children(root + "/seq"))
    assert on_server_plain == plain
    # Exactly once: every sequential create made one node, and the names
    # the calls returned are the nodes that exist.
    assert on_server_seq == seq
    assert len(set(seq)) == len(seq)
    checker.delete_recursive(root)
    print(f"chaos: {THREADS * OPS_PER_THREAD} ops in {time.monotonic() - started:.1f}s, "
          f"{sum(len(r['errors']) for r in results.values())} unretried calls lost their connection")
