"""Watchers on get / exists / get_children against a real server: each
fires exactly once per event, with a WatchedEvent(type, state, path), on
the client's event thread, and may call the client.

"Exactly once" is checked without sleeping: after the first event a second
watcher is armed and a second change made; events are delivered in order,
so once the second watcher has fired, any repeat of the first would have
been delivered already."""

from __future__ import annotations

import threading

import pytest

import pykeeper
from pykeeper import EventType, KeeperState, WatchedEvent

from ..support import WAIT, Recorder


def event(kind: int, path: str) -> WatchedEvent:
    return WatchedEvent(kind, KeeperState.SYNC_CONNECTED, path)


def test_get_watcher_fires_once_on_change(client, base):
    path = client.create(base + "/w", b"0")
    first = Recorder()
    data, stat = client.get(path, watcher=first)
    assert data == b"0"
    client.set(path, b"1")
    assert first.wait_for(1)
    assert first.calls == [event(EventType.CHANGED, path)]
    assert first.calls[0].type_name == "changed" and first.calls[0].state_name == "connected"

    barrier = Recorder()
    client.get(path, watcher=barrier)
    client.set(path, b"2")
    assert barrier.wait_for(1)
    assert barrier.calls == [event(EventType.CHANGED, path)]
    assert len(first.calls) == 1  # one-shot: the second change did not fire it


def test_get_watcher_fires_on_delete(client, base):
    path = client.create(base + "/w")
    watcher = Recorder()
    client.get(path, watcher=watcher)
    client.delete(path)
    assert watcher.wait_for(1)
    assert watcher.calls == [event(EventType.DELETED, path)]


def test_exists_watcher_on_a_missing_node_fires_on_create(client, base):
    path = base + "/later"
    created = Recorder()
    assert client.exists(path, watcher=created) is None
    client.create(path)
    assert created.wait_for(1)
    assert created.calls == [event(EventType.CREATED, path)]

    barrier = Recorder()
    assert client.exists(path, watcher=barrier) is not None
    client.delete(path)
    assert barrier.wait_for(1)
    assert barrier.calls == [event(EventType.DELETED, path)]
    assert len(created.calls) == 1


def test_exists_watcher_on_an_existing_node(client, base):
    path = client.create(base + "/x")
    changed = Recorder()
    client.exists(path, watcher=changed)
    client.set(path, b"new")
    assert changed.wait_for(1)
    assert changed.calls == [event(EventType.CHANGED, path)]


def test_children_watcher_fires_once_per_change(client, base):
    children = Recorder()
    assert client.get_children(base, watcher=children) == []
    client.create(base + "/c1")
    assert children.wait_for(1)
    assert children.calls == [event(EventType.CHILD, base)]
    assert children.calls[0].type_name == "child"

    barrier = Recorder()
    names, stat = client.get_children(base, watcher=barrier, include_stat=True)
    assert names == ["c1"] and stat.numChildren == 1
    client.delete(base + "/c1")
    assert barrier.wait_for(1)
    assert barrier.calls == [event(EventType.CHILD, base)]
    assert len(children.calls) == 1

    # a data change of the parent is not a child event
    data_only = Recorder()
    client.get_children(base, watcher=data_only)
    client.set(base, b"parent data")
    late = Recorder()
    client.get(base, watcher=late)
    client.set(base, b"again")
    assert late.wait_for(1)
    assert data_only.calls == []
    client.create(base + "/c2")
    assert data_only.wait_for(1)
    assert data_only.calls == [event(EventType.CHILD, base)]


def test_children_watcher_fires_on_parent_delete(client, base):
    path = client.create(base + "/parent")
    watcher = Recorder()
    client.get_children(path, watcher=watcher)
    client.delete(path)
    assert watcher.wait_for(1)
    assert watcher.calls == [event(EventType.DELETED, path)]


def test_one_watcher_on_several_reads_fires_once_per_event(client, base):
    path = client.create(base + "/multi")
    watcher = Recorder()
    client.get(path, watcher=watcher)
    client.exists(path, watcher=watcher)
    client.get(path, watcher=watcher)
    client.get_children(path, watcher=watcher)
    client.set(path, b"x")            # data event: the data watch fires once
    barrier = Recorder()
    client.get(path, watcher=barrier)
    client.set(path, b"y")
    assert barrier.wait_for(1)
    assert watcher.calls == [event(EventType.CHANGED, path)]
    client.create(path + "/kid")      # the child watch is still armed, and fires
    assert watcher.wait_for(2)
    assert watcher.calls[1] == event(EventType.CHILD, path)


def test_different_watchers_on_one_node_each_fire_once(client, base):
    path = client.create(base + "/shared")
    watchers = [Recorder() for _ in range(5)]
    for w in watchers:
        client.get(path, watcher=w)
    client.set(path, b"1")
    for w in watchers:
        assert w.wait_for(1)
    barrier = Recorder()
    client.exists(path, watcher=barrier)
    client.set(path, b"2")
    assert barrier.wait_for(1)
    assert all(w.calls == [event(EventType.CHANGED, path)] for w in watchers)


def test_watcher_of_another_clients_change(client, base, make_client):
    other = make_client()
    path = client.create(base + "/remote", b"a")
    watcher = Recorder()
    client.get(path, watcher=watcher)
    other.set(path, b"b")
    assert watcher.wait_for(1)
    assert watcher.calls == [event(EventType.CHANGED, path)]


def test_watcher_runs_on_the_event_thread_and_may_call_the_client(client, base):
    path = client.create(base + "/reentrant", b"v0")
    seen = []
    done = threading.Event()

    def watcher(evt):
        # blocking calls from inside the callback: must not deadlock
        data, stat = client.get(evt.path, watcher=second)
        children = client.get_children(base)
        created = client.create(base + "/from-watcher", data)
        seen.append((evt, data, stat.version, children, created,
                     threading.current_thread()))
        done.set()

    second = Recorder()
    client.get(path, watcher=watcher)
    client.set(path, b"v1")
    assert done.wait(WAIT), "the watcher did not finish: deadlock?"
    evt, data, version, children, created, thread = seen[0]
    assert evt == event(EventType.CHANGED, path)
    assert data == b"v1" and version == 1
    assert children == ["reentrant"]
    assert created == base + "/from-watcher"
    assert thread is not threading.current_thread()
    assert thread.name == "pykeeper-events"
    # the watch re-armed from inside the callback works
    client.set(path, b"v2")
    assert second.wait_for(1)
    assert second.calls == [event(EventType.CHANGED, path)]


def test_listener_may_call_the_client(zk_server, base, client):
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    results = []
    done = threading.Event()

    def listener(state):
        if state == "connected":
            results.append(zk.create(base + "/from-listener", b"l", ephemeral=True))
            results.append(zk.get(base + "/from-listener")[0])
            done.set()

    zk.add_listener(listener)
    zk.connect()
    try:
        assert done.wait(WAIT), "the listener did not finish: deadlock?"
        assert results == [base + "/from-listener", b"l"]
    finally:
        zk.close()


def test_a_raising_watcher_does_not_break_delivery(client, base):
    path = client.create(base + "/raise")

    def bad(evt):
        raise RuntimeError("watcher failure")

    good = Recorder()
    client.get(path, watcher=bad)
    client.get(path, watcher=good)
    client.set(path, b"x")
    assert good.wait_for(1)
    assert good.calls == [event(EventType.CHANGED, path)]
    assert client.get(path)[0] == b"x"


def test_on_event_hook_sees_watch_events(client, base):
    path = client.create(base + "/hooked")
    hooked = Recorder()
    client.on_event += hooked
    try:
        watcher = Recorder()
        client.get(path, watcher=watcher)
        client.set(path, b"x")
        assert watcher.wait_for(1)
        assert hooked.wait_until(lambda calls: event(EventType.CHANGED, path) in calls)
        assert hooked.calls.count(event(EventType.CHANGED, path)) == 1
    finally:
        client.on_event -= hooked


def test_no_watch_no_event(client, base):
    path = client.create(base + "/quiet")
    hooked = Recorder()
    client.on_event += hooked
    try:
        client.get(path)
        client.exists(path)
        client.get_children(path)
        client.set(path, b"x")
        barrier = Recorder()
        client.get(path, watcher=barrier)
        client.set(path, b"y")
        assert barrier.wait_for(1)
        # only the barrier's own event reached the hook
        assert hooked.wait_for(1)
        assert hooked.calls == [event(EventType.CHANGED, path)]
    finally:
        client.on_event -= hooked


@pytest.mark.parametrize("method", ["get", "exists", "get_children"])
def test_watcher_must_be_callable(client, base, method):
    with pytest.raises(TypeError, match="callable"):
        getattr(client, method)(base, watcher="not callable")
