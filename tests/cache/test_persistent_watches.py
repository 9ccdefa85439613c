"""Persistent and persistent-recursive watches (add_watch / remove_watches)
against a real 3.6+ server: they keep firing, recursive ones see the whole
subtree (but no child-list events), removal tells each removed watcher
once, and they survive a dropped connection (re-armed by SetWatches2).

"Fires no more" is checked without sleeping: a later change is waited for
on another watcher; events arrive in order, so an extra event of the first
would have been delivered by then."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import pykeeper
from pykeeper import EventType, KeeperState, WatchedEvent

from .helpers import WAIT, Recorder


def ev(kind: int, path: str) -> WatchedEvent:
    return WatchedEvent(kind, KeeperState.SYNC_CONNECTED, path)


def settle(client: Any, writer: Any, path: str) -> None:
    """Wait until every event of changes made so far has been delivered."""
    seen = Recorder()
    client.exists(path, watcher=seen)
    if writer.exists(path) is None:
        writer.create(path)
    else:
        writer.set(path, b"settle")
    assert seen.wait_for(1)


def test_persistent_watch_keeps_firing(client: Any, writer: Any, base: Any) -> None:
    path = base + "/p"
    events = Recorder()
    client.add_watch(path, events)  # on a node that does not exist yet
    writer.create(path, b"0")
    writer.set(path, b"1")
    writer.set(path, b"2")
    writer.create(path + "/kid")
    writer.delete(path + "/kid")
    writer.set(path, b"3")
    assert events.wait_for(6)
    settle(client, writer, base + "/settle")
    assert events.calls == [
        ev(EventType.CREATED, path), ev(EventType.CHANGED, path), ev(EventType.CHANGED, path),
        ev(EventType.CHILD, path), ev(EventType.CHILD, path), ev(EventType.CHANGED, path),
    ]
    assert {t.name for t in events.threads} == {"pykeeper-events"}


def test_persistent_watch_event_sequence(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/p", b"0")
    events = Recorder()
    client.add_watch(path, events)
    writer.set(path, b"1")
    writer.create(path + "/kid")
    writer.set(path + "/kid", b"grandchild data is not watched")
    writer.delete(path + "/kid")
    writer.delete(path)
    writer.create(path)
    assert events.wait_for(5)
    settle(client, writer, base + "/settle")
    assert events.calls == [
        ev(EventType.CHANGED, path), ev(EventType.CHILD, path), ev(EventType.CHILD, path),
        ev(EventType.DELETED, path), ev(EventType.CREATED, path),
    ]


def test_recursive_watch_sees_the_subtree(client: Any, writer: Any, base: Any) -> None:
    root = writer.create(base + "/r")
    events = Recorder()
    client.add_watch(root, events, recursive=True)
    writer.create(root + "/a", b"")
    writer.create(root + "/a/b", b"")
    writer.set(root + "/a/b", b"x")
    writer.set(root, b"y")
    writer.delete(root + "/a/b")
    writer.create(base + "/outside")
    assert events.wait_for(5)
    settle(client, writer, base + "/settle")
    # created/changed/deleted at any depth; no child events; nothing outside.
    assert events.calls == [
        ev(EventType.CREATED, root + "/a"), ev(EventType.CREATED, root + "/a/b"),
        ev(EventType.CHANGED, root + "/a/b"), ev(EventType.CHANGED, root),
        ev(EventType.DELETED, root + "/a/b"),
    ]


def test_remove_persistent_watch_tells_the_watcher_once(client: Any, writer: Any,
                                                        base: Any) -> None:
    path = writer.create(base + "/p")
    events, other = Recorder(), Recorder()
    client.add_watch(path, events)
    client.add_watch(path, other)
    client.remove_watches(path, events, kind="persistent")
    assert events.wait_for(1)
    assert events.calls == [ev(EventType.PERSISTENT_WATCH_REMOVED, path)]
    writer.set(path, b"1")
    assert other.wait_for(1)  # the other watcher still fires...
    settle(client, writer, path)
    assert events.calls == [ev(EventType.PERSISTENT_WATCH_REMOVED, path)]  # ...this one not
    with pytest.raises(pykeeper.NoWatcherException):
        client.remove_watches(path, events, kind="persistent")


def test_remove_recursive_watch_stops_it(client: Any, writer: Any, base: Any) -> None:
    root = writer.create(base + "/r")
    events = Recorder()
    client.add_watch(root, events, recursive=True)
    writer.create(root + "/a")
    assert events.wait_for(1)
    client.remove_watches(root, kind="recursive")
    assert events.wait_for(2)
    assert events.calls[1] == ev(EventType.PERSISTENT_WATCH_REMOVED, root)
    writer.create(root + "/b")
    writer.delete(root + "/a")
    settle(client, writer, base + "/settle")
    assert len(events.calls) == 2


def test_remove_one_shot_watches(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/o")
    data, children = Recorder(), Recorder()
    client.get(path, watcher=data)
    client.get_children(path, watcher=children)
    client.remove_watches(path, data, kind="data")
    assert data.wait_for(1)
    assert data.calls == [ev(EventType.DATA_WATCH_REMOVED, path)]
    client.remove_watches(path, kind="child")
    assert children.wait_for(1)
    assert children.calls == [ev(EventType.CHILD_WATCH_REMOVED, path)]
    writer.set(path, b"1")
    writer.create(path + "/kid")
    settle(client, writer, path)
    assert len(data.calls) == 1 and len(children.calls) == 1
    with pytest.raises(pykeeper.NoWatcherException):
        client.remove_watches(path, kind="any")
    with pytest.raises(ValueError):
        client.remove_watches(path, kind="bogus")


@pytest.mark.parametrize("fault", ["drop_all", "refuse"])
def test_persistent_watches_survive_a_dropped_connection(fault: Any, zk_proxy: Any,
                                                         make_client: Any, writer: Any,
                                                         base: Any) -> None:
    path = writer.create(base + "/p")
    root = writer.create(base + "/r")
    client = make_client(zk_proxy.hosts, session_timeout=4.0)
    flat, deep = Recorder(), Recorder()
    client.add_watch(path, flat)
    client.add_watch(root, deep, recursive=True)
    mark = client.log.mark()
    if fault == "drop_all":
        zk_proxy.drop_all()
        index = client.log.wait_for("connecting", mark)
        client.log.wait_for("connected", index)
    else:
        zk_proxy.refuse()
        client.log.wait_for("connecting", mark)
        # Made while away: the server does NOT replay these to persistent
        # watches (only one-shot watches get missed events on SetWatches).
        writer.set(path, b"missed")
        writer.create(root + "/missed")
        zk_proxy.heal()
    client.wait_until_connected(WAIT)
    # The SetWatches re-arming them went out before any later request of
    # the client; once one is answered, the server has re-armed them (a
    # change made before that would be missed: no replay for these).
    client.sync("/")
    # Re-armed on the new connection: they keep firing.
    writer.set(path, b"after")
    writer.create(root + "/after")
    writer.set(root + "/after", b"x")
    assert flat.wait_until(lambda c: ev(EventType.CHANGED, path) in c)
    assert deep.wait_until(lambda c: ev(EventType.CHANGED, root + "/after") in c)
    settle(client, writer, base + "/settle")
    assert deep.calls == [ev(EventType.CREATED, root + "/after"),
                          ev(EventType.CHANGED, root + "/after")]
    assert flat.calls == [ev(EventType.CHANGED, path)]


def test_persistent_watchers_are_told_of_expiry(zk_proxy: Any, make_client: Any, writer: Any,
                                                base: Any) -> None:
    from .test_cached_reads import expire
    client = make_client(zk_proxy.hosts, session_timeout=1.0)
    events = Recorder()
    client.add_watch(base, events, recursive=True)
    expire(zk_proxy, client, writer)
    assert events.wait_until(
        lambda c: WatchedEvent(EventType.NONE, KeeperState.EXPIRED, None) in c)
    # Gone with the session: not re-armed on the new one.
    writer.create(base + "/after")
    settle(client, writer, base + "/settle")
    assert events.calls == [WatchedEvent(EventType.NONE, KeeperState.EXPIRED, None)]


def test_removing_a_watch_spares_one_a_read_in_flight_is_arming(zk_server: Any) -> None:
    """remove_watches must not delete on the server a watch that a read
    still waiting for its reply is about to arm for another watcher."""
    from pykeeper.testing import FaultProxy
    with FaultProxy(zk_server.hosts) as proxy, \
            pykeeper.ZooKeeper(proxy.hosts) as slow, pykeeper.ZooKeeper(zk_server.hosts) as fast:
        path = "/arming-" + uuid.uuid4().hex
        slow.create(path, b"0")
        first, second = Recorder(), Recorder()
        slow.get(path, watcher=first)
        proxy.set_latency(0.05)
        in_flight = slow.get_async(path, watcher=second)
        slow.remove_watches(path, first, kind="data")
        in_flight.result(WAIT)
        fast.set(path, b"1")
        assert second.wait_for(1), "the in-flight read's watcher never fired"
        assert [e.type_name for e in first.calls] == ["data_watch_removed"]
        proxy.set_latency(0)
        fast.delete(path)
