"""TreeCache against a real server: initial content, following changes in
server order (never an update after the delete, never a version going
back), exact under churn and at 10,000 nodes, served through outages and
revalidated (not reloaded) after them, rebuilt after session expiry; in
both modes (one persistent recursive watch, or per-node one-shot watches).

Every comparison is with a fresh full read of the tree by another client,
made after the writes stopped."""

from __future__ import annotations

import gc
import random
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Tuple

import pytest

import pykeeper
from pykeeper import TreeCache, TreeEvent

from .helpers import (
    WAIT, Monotonic, Recorder, TreeLog, callback_thread, churn, create_tree, delete_tree,
    full_read,
)
from .test_cached_reads import expire

MODES = [pytest.param(None, id="persistent"), pytest.param(False, id="one-shot")]


def mirror(tree: TreeCache) -> Dict[str, Any]:
    return tree.snapshot()


def assert_exact(tree: TreeCache, reader: pykeeper.ZooKeeper, root: str,
                 timeout: float = 0.0) -> None:
    """The mirror equals a fresh full read (data, full stat, children) —
    at once, or within `timeout` seconds."""
    fresh = full_read(reader, root)
    deadline = time.monotonic() + timeout
    while True:
        got = mirror(tree)
        if got == fresh:
            return
        if time.monotonic() >= deadline:
            diff = sorted(p for p in set(got) | set(fresh) if got.get(p) != fresh.get(p))
            detail = [(p, got.get(p), fresh.get(p)) for p in diff[:3]]
            raise AssertionError(f"{len(diff)} of {len(fresh)} nodes differ: {detail}")
        time.sleep(0.01)


@pytest.mark.parametrize("persistent", MODES)
def test_initial_content_and_events(persistent: Any, make_any_client: Any, writer: Any,
                                    base: Any) -> None:
    client = make_any_client()
    create_tree(writer, base, [3, 4])
    writer.set(base + "/n1/n2", b"changed once")
    log = TreeLog()
    tree = client.tree_cache(base, log, persistent=persistent)
    assert tree.persistent is (persistent is None)
    assert_exact(tree, writer, base)
    assert len(tree) == 1 + 3 + 12
    assert list(tree) == sorted(tree.snapshot())
    assert base + "/n0/n3" in tree and base + "/n0/n4" not in tree
    assert tree.get_children(base) == ["n0", "n1", "n2"]
    assert tree.get_data(base + "/n1/n2")[0] == b"changed once"
    assert tree.get_data(base + "/none") is None and tree.get_children(base + "/none") is None
    # Every node "added", then "initialized"; all on the event thread (loop).
    log.wait_type("initialized")
    assert sorted(e.path for e in log.events if e.type == "added") == sorted(tree)
    assert log.types()[-1] == "initialized"
    assert log.threads == {callback_thread(client)}
    assert log.violations == []
    tree.close()


@pytest.mark.parametrize("persistent", MODES)
def test_follows_each_change_in_order(persistent: Any, make_any_client: Any, writer: Any,
                                      base: Any) -> None:
    client = make_any_client()
    log = TreeLog()
    tree = client.tree_cache(base, log, persistent=persistent)
    steps: List[Tuple[Callable[[], Any], Tuple[str, str]]] = [
        (lambda: writer.create(base + "/a", b"0"), ("added", base + "/a")),
        (lambda: writer.set(base + "/a", b"1"), ("updated", base + "/a")),
        (lambda: writer.create(base + "/a/b", b"x"), ("added", base + "/a/b")),
        (lambda: writer.set(base + "/a/b", b"y"), ("updated", base + "/a/b")),
        (lambda: writer.delete(base + "/a/b"), ("removed", base + "/a/b")),
        (lambda: writer.delete(base + "/a"), ("removed", base + "/a")),
        (lambda: writer.create(base + "/a", b"again"), ("added", base + "/a")),
    ]
    for action, (kind, path) in steps:
        mark = log.mark()
        action()
        assert log.wait_for(lambda events: any((e.type, e.path) == (kind, path)
                                               for e in events[mark:]))
    assert [(e.type, e.path) for e in log.events[2:]] == [want for _, want in steps]
    assert [e.data for e in log.events[2:]] == [b"0", b"1", b"x", b"y", b"y", b"1", b"again"]
    assert tree.get_children(base) == ["a"]
    assert tree.get_children(base + "/a") == []
    assert_exact(tree, writer, base)
    tree.close()


@pytest.mark.parametrize("persistent", MODES)
def test_current_once_the_client_has_the_event(persistent: Any, client: Any, writer: Any,
                                               base: Any) -> None:
    """No polling: a watcher of the same client, armed before any of the
    tree's, reading the tree from inside its callback, finds it past the
    event (the tree took the event on the I/O thread, and get_data waits
    for the read the event started)."""
    path = writer.create(base + "/x", b"old")
    tree = client.tree_cache(base, persistent=persistent)
    inside = Recorder()

    def read_tree(event: Any) -> None:
        value = tree.get_data(event.path)
        inside((event.type_name, event.path, None if value is None else value[0],
                tree.get_children(base)))

    for i in range(10):
        client.exists(path, watcher=read_tree)
        writer.set(path, f"v{i}")
        assert inside.wait_for(i + 1)
        assert inside.calls[-1] == ("changed", path, f"v{i}".encode(), ["x"])
    # (A child watcher for a new node: with one-shot watches the tree learns
    # of it from its parent's child event, which the server sends after the
    # node's own "created".)
    inside.calls.clear()
    client.get_children(base, watcher=lambda event: read_tree(
        event._replace(path=base + "/new")))
    writer.create(base + "/new", b"n")
    assert inside.wait_for(1)
    assert inside.calls == [("child", base + "/new", b"n", ["new", "x"])]
    client.exists(path, watcher=read_tree)
    writer.delete(path)
    assert inside.wait_for(2)
    assert inside.calls[-1] == ("deleted", path, None, ["new"])
    assert path not in tree
    tree.close()


def test_subtree_delete_and_missing_root(make_any_client: Any, writer: Any, base: Any) -> None:
    client = make_any_client()
    root = base + "/root"
    log = TreeLog()
    tree = client.tree_cache(root, log)
    assert len(tree) == 0 and tree.get_data(root) is None
    writer.create(root, b"r")
    create_tree(writer, root, [2, 2])
    assert log.wait_for(lambda events: sum(e.type == "added" for e in events) == 7)
    assert_exact(tree, writer, root)
    writer.delete_recursive(root)
    assert log.wait_for(lambda events: sum(e.type == "removed" for e in events) == 7)
    assert len(tree) == 0
    removed = [e.path for e in log.events if e.type == "removed"]
    assert removed[-1] == root  # children first, as the server deletes them
    assert log.violations == []
    tree.close()


@pytest.mark.parametrize("persistent", MODES)
def test_coherence_under_churn(persistent: Any, make_any_client: Any, writer: Any,
                               base: Any) -> None:
    """A writer updates 50 nodes 200 times each in random order, deleting and
    re-creating some; a reader of the mirror never sees a version go back,
    the listener never gets an update after a delete, and within 1 s of the
    writer stopping the mirror equals a fresh full read."""
    dirs = [writer.create(f"{base}/d{i}") for i in range(5)]
    paths = [writer.create(f"{d}/n{j}", b"0") for d in dirs for j in range(10)]
    client = make_any_client()
    log = TreeLog()
    tree = client.tree_cache(base, log, persistent=persistent)
    stop = threading.Event()
    check = Monotonic()

    def read() -> None:
        while not stop.is_set():
            for path in paths:
                value = tree.get_data(path)
                check.see(path, None if value is None else value[1])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        outcome = churn(writer, paths, 200, paths[::5])
    finally:
        stop.set()
        reader.join(WAIT)
    assert outcome["set"] > 9000 and outcome["delete"] > 0, outcome
    assert_exact(tree, writer, base, timeout=1.0)
    assert check.violations == [], check.violations[:5]
    # (Many reads while it churned; the asyncio client's each cross threads.)
    assert check.reads > 200, check.reads
    assert log.violations == [], log.violations[:5]
    tree.close()


def test_ten_thousand_nodes(client: Any, writer: Any, base: Any) -> None:
    """Initializes with reads pipelined, and stays exact under churn."""
    paths = create_tree(writer, base, [10, 1000], data=lambda p: b"")
    started = time.monotonic()
    tree = client.tree_cache(base, timeout=60)
    took = time.monotonic() - started
    stats = tree.stats()
    assert stats["nodes"] == 10_011
    assert stats["peak_in_flight"] >= 100, stats  # pipelined, not one call at a time
    # One get per node, a listing only where there are children.
    assert stats["data"] == 10_011 and stats["children"] == 11, stats
    assert_exact(tree, writer, base)

    rng = random.Random(7)
    leaves = [p for p in paths if p.count("/") == base.count("/") + 2]
    doomed = rng.sample(leaves, 300)
    tx_paths = rng.sample(leaves, 2000)
    stop = threading.Event()
    check = Monotonic()
    watched = tx_paths[:200]

    def read() -> None:
        while not stop.is_set():
            for path in watched:
                value = tree.get_data(path)
                check.see(path, None if value is None else value[1])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        churn(writer, tx_paths, 2, [], threads=8)
        for start in range(0, 300, 100):
            with writer.transaction() as tx:
                for path in doomed[start:start + 100]:
                    tx.delete(path)
        with writer.transaction() as tx:
            for i in range(200):
                tx.create(f"{base}/n{i % 10}/new{i}", b"fresh")
        with writer.transaction() as tx:
            tx.create(base + "/deep")
            tx.create(base + "/deep/er", b"1")
            tx.create(base + "/deep/er/est", b"2")
    finally:
        stop.set()
        reader.join(WAIT)
    assert_exact(tree, writer, base, timeout=5.0)
    assert len(tree) == 10_011 - 300 + 200 + 3
    assert check.violations == []
    tree.close()
    assert took < 30, took
    delete_tree(writer, base)  # (faster than the fixture's one delete at a time)


@pytest.mark.parametrize("persistent", MODES)
@pytest.mark.parametrize("fault", ["refuse", "blackhole", "drop_all"])
def test_outage_then_revalidation_not_reload(fault: Any, persistent: Any, zk_proxy: Any,
                                             make_any_client: Any, writer: Any, base: Any) -> None:
    create_tree(writer, base, [5, 20])  # 1 + 5 + 100 nodes
    client = make_any_client(zk_proxy.hosts, session_timeout=3.0)
    session = client.session_id
    log = TreeLog()
    tree = client.tree_cache(base, log, persistent=persistent)
    before = tree.stats()
    mark = client.log.mark()
    if fault == "drop_all":
        zk_proxy.blackhole()  # (holds the reconnection back while changes are made)
        zk_proxy.drop_all()
    else:
        getattr(zk_proxy, fault)()
    client.log.wait_for("connecting", mark)
    # Changed while the client is away:
    writer.set(base + "/n0/n0", b"changed")
    writer.delete(base + "/n1/n1")
    writer.create(base + "/n2/new", b"new")
    writer.create(base + "/n2/new/deeper", b"deeper")
    writer.delete_recursive(base + "/n3")
    writer.create(base + "/n3", b"re-created")
    # Served meanwhile: the last known state.
    assert tree.get_data(base + "/n0/n0")[0] == (base + "/n0/n0").encode()
    assert base + "/n1/n1" in tree and base + "/n2/new" not in tree
    suspended = log.wait_type("suspended")
    zk_proxy.heal()
    client.wait_until_connected(WAIT)
    assert client.session_id == session
    log.wait_type("reconnected", suspended)
    # Revalidated: exact as soon as "reconnected" is announced...
    assert_exact(tree, writer, base)
    assert log.violations == []
    after = tree.stats()
    if persistent is None:
        # ...by one exists per node, and data reads only where something
        # changed (not a reload: that would be ~106 gets again).
        assert after["check"] - before["check"] <= 106
        assert after["data"] - before["data"] <= 6, (before, after)
    else:
        # One-shot watches: the server re-fires the missed events itself.
        assert after["data"] - before["data"] <= 10, (before, after)
    # And it keeps following.
    writer.set(base + "/n4/n4", b"later")
    assert log.wait_for(lambda events: bool(events) and events[-1].path == base + "/n4/n4")
    tree.close()


@pytest.mark.parametrize("persistent", MODES)
def test_rebuilt_after_session_expiry(persistent: Any, zk_proxy: Any, make_any_client: Any,
                                      writer: Any, base: Any) -> None:
    create_tree(writer, base, [3, 3])
    client = make_any_client(zk_proxy.hosts, session_timeout=1.0)
    log = TreeLog()
    tree = client.tree_cache(base, log, persistent=persistent)
    old = client.session_id

    def change() -> None:
        writer.set(base + "/n0/n0", b"changed")
        writer.delete(base + "/n1/n1")
        writer.create(base + "/n2/new", b"new")
        assert tree.get_data(base + "/n1/n1") is not None  # served meanwhile

    expire(zk_proxy, client, writer, change)
    assert client.session_id != old
    index = log.wait_type("suspended")
    log.wait_type("reconnected", index)
    assert_exact(tree, writer, base)
    # The new session's watch follows later changes.
    mark = log.mark()
    writer.set(base + "/n2/new", b"newer")
    assert log.wait_for(lambda events: any(e.type == "updated" and e.data == b"newer"
                                           for e in events[mark:]))
    assert_exact(tree, writer, base)
    assert log.violations == []
    tree.close()


def test_close_stops_and_lets_go(client: Any, writer: Any, base: Any) -> None:
    log = TreeLog()
    tree = TreeCache(client, base)
    tree.add_listener(log)
    with tree:
        assert tree.initialized
        writer.create(base + "/a", b"1")
        assert log.wait_for(lambda events: bool(events) and events[-1].path == base + "/a")
    assert tree.stats()["nodes"] == 2
    # The recursive watch was removed from the client...
    with pytest.raises(pykeeper.NoWatcherException):
        client.remove_watches(base, kind="recursive")
    count = len(log.events)
    writer.set(base + "/a", b"2")
    seen = Recorder()
    client.exists(base + "/a", watcher=seen)
    writer.set(base + "/a", b"3")
    assert seen.wait_for(1)
    assert len(log.events) == count  # ...and nothing more is delivered
    ref = weakref.ref(tree)
    del tree
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("persistent", MODES)
def test_removing_its_watch_closes_the_tree(persistent: Any, client: Any, writer: Any,
                                            base: Any) -> None:
    create_tree(writer, base, [2])
    tree = client.tree_cache(base, persistent=persistent)
    client.remove_watches(base + ("" if persistent is None else "/n1"), kind="any")
    assert tree.closed
    assert len(tree) == 3  # (the last content stays readable)


def test_one_shot_tree_lets_go_when_closed(client: Any, writer: Any, base: Any) -> None:
    create_tree(writer, base, [3])
    tree = client.tree_cache(base, persistent=False)
    tree.close()
    tree.close()
    ref = weakref.ref(tree)
    del tree
    gc.collect()
    assert ref() is None
    writer.set(base + "/n0", b"fires into nothing")
    seen = Recorder()
    client.exists(base + "/n0", watcher=seen)
    writer.set(base + "/n0", b"again")
    assert seen.wait_for(1)


def test_listener_may_call_the_client_and_the_tree(client: Any, writer: Any, base: Any) -> None:
    calls = []
    done = threading.Event()

    def listener(event: TreeEvent) -> None:
        if event.type == "added" and event.path == base + "/x":
            calls.append((client.get(event.path)[0], tree.get_data(event.path)[0]))
            done.set()

    tree = client.tree_cache(base, listener)
    writer.create(base + "/x", b"hi")
    assert done.wait(WAIT)
    assert calls == [(b"hi", b"hi")]
    tree.close()


def test_start_before_connect(make_client: Any, writer: Any, base: Any) -> None:
    """A tree started on a client that is not connected yet builds once it is."""
    create_tree(writer, base, [2])
    client = make_client()
    client.close()
    tree = TreeCache(client, base)
    log = TreeLog()
    tree.add_listener(log)
    tree.start()
    assert not tree.initialized
    client.connect()
    assert tree.wait_initialized(WAIT)
    assert_exact(tree, writer, base)
    tree.close()
