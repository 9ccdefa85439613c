"""Watchers against real servers: each watcher given to exists, get or
get_children (and their a* twins) is called once, (handle, type, state,
path), for the event it was set for; as in the C library, every
outstanding watcher and the session watcher also hear each session event
(SESSION_EVENT, state, "") -- a dropped connection (CONNECTING_STATE), its
return (CONNECTED_STATE), the session's end (EXPIRED_SESSION_STATE), after
which the handle is unrecoverable."""

from __future__ import annotations

import gc
import types
from typing import Any, Callable, Tuple

import pytest

from pykeeper import zookeeper
from pykeeper.testing import expire_session

from ..support import WAIT, Recorder
from .conftest import CONNECTED, OPEN_ACL, session_events, settle, wait_connected

CHANGED = zookeeper.CHANGED_EVENT
CONNECTED_STATE = zookeeper.CONNECTED_STATE


def expire(handle: int, hosts: str) -> None:
    session_id, password = zookeeper.client_id(handle)
    raw = password if isinstance(password, bytes) else password.encode("latin-1")
    expire_session(types.SimpleNamespace(client_id=(session_id, raw)), hosts)


def test_get_watcher_fires_once_for_a_change(zh: int, base: str) -> None:
    watcher = Recorder()
    zookeeper.get(zh, base, watcher)
    zookeeper.set(zh, base, "one")
    assert watcher.wait_for(1)
    zookeeper.set(zh, base, "two")
    settle(zh)
    assert watcher.calls == [(zh, CHANGED, CONNECTED_STATE, base)]


def test_each_read_sets_its_kind_of_watch(zh: int, base: str) -> None:
    created, deleted, child, changed = Recorder(), Recorder(), Recorder(), Recorder()
    path = base + "/w"
    assert zookeeper.exists(zh, path, created) is None
    zookeeper.get_children(zh, base, child)
    zookeeper.create(zh, path, "", OPEN_ACL)
    zookeeper.exists(zh, path, deleted)
    zookeeper.get_children2(zh, path, changed)
    zookeeper.create(zh, path + "/c", "", OPEN_ACL)
    zookeeper.delete(zh, path + "/c")
    zookeeper.delete(zh, path)
    for recorder in (created, deleted, child, changed):
        assert recorder.wait_for(1)
    assert created.calls == [(zh, zookeeper.CREATED_EVENT, CONNECTED_STATE, path)]
    assert deleted.calls == [(zh, zookeeper.DELETED_EVENT, CONNECTED_STATE, path)]
    assert child.calls == [(zh, zookeeper.CHILD_EVENT, CONNECTED_STATE, base)]
    assert changed.calls == [(zh, zookeeper.CHILD_EVENT, CONNECTED_STATE, path)]


def test_the_async_reads_set_watchers_too(zh: int, base: str) -> None:
    data, kids, node, done = Recorder(), Recorder(), Recorder(), Recorder()
    zookeeper.aget(zh, base, data, done)
    zookeeper.aget_children(zh, base, kids, done)
    zookeeper.aexists(zh, base + "/new", node, done)
    assert done.wait_for(3)
    zookeeper.create(zh, base + "/new", "", OPEN_ACL)
    zookeeper.set(zh, base, "changed")
    for recorder in (data, kids, node):
        assert recorder.wait_for(1)
    assert data.calls == [(zh, CHANGED, CONNECTED_STATE, base)]
    assert kids.calls == [(zh, zookeeper.CHILD_EVENT, CONNECTED_STATE, base)]
    assert node.calls == [(zh, zookeeper.CREATED_EVENT, CONNECTED_STATE, base + "/new")]


def test_a_failed_read_sets_no_watcher(zh: int, base: str, zk_proxy: Any,
                                       open_handle: Callable[..., Tuple[int, Recorder]]) -> None:
    handle, session = open_handle(zk_proxy.hosts)
    watcher, done = Recorder(), Recorder()
    with pytest.raises(zookeeper.NoNodeException):
        zookeeper.get(handle, base + "/missing", watcher)
    zookeeper.aget_children(handle, base + "/missing", watcher, done)
    assert done.wait_for(1) and done.calls[0][1] == zookeeper.NONODE
    zk_proxy.drop_all()  # (a session event would reach a watcher still set)
    wait_connected(session, handle, 2)
    zookeeper.create(zh, base + "/missing", "", OPEN_ACL)
    settle(handle)
    assert watcher.calls == []


def test_a_read_waiting_for_the_connection_sets_its_watcher_only_when_it_succeeds(
        zk_proxy: Any, open_handle: Callable[..., Tuple[int, Recorder]], base: str) -> None:
    zk_proxy.refuse()
    handle, session = open_handle(zk_proxy.hosts, connected=False)
    missing, present, done = Recorder(), Recorder(), Recorder()
    zookeeper.aget(handle, base + "/missing", missing, done)
    zookeeper.aget(handle, base, present, done)
    zk_proxy.heal()
    assert done.wait_for(2)
    assert [call[1] for call in done.calls] == [zookeeper.NONODE, zookeeper.OK]
    zk_proxy.drop_all()
    wait_connected(session, handle, 2)
    settle(handle)
    # (neither heard the first CONNECTED: they were not set yet; only the set one hears the drop)
    assert missing.calls == []
    assert present.calls == [(handle, zookeeper.SESSION_EVENT, zookeeper.CONNECTING_STATE, ""),
                             (handle,) + CONNECTED]


def test_two_watchers_on_one_node_both_fire(zh: int, base: str) -> None:
    first, second = Recorder(), Recorder()
    zookeeper.get(zh, base, first)
    zookeeper.get(zh, base, second)
    zookeeper.set(zh, base, "x")
    assert first.wait_for(1) and second.wait_for(1)


def test_a_watcher_nothing_else_refers_to_still_fires(zh: int, base: str) -> None:
    fired = Recorder()
    zookeeper.exists(zh, base, lambda *event: fired(event))
    gc.collect()
    zookeeper.set(zh, base, "x")
    assert fired.wait_for(1)


def test_a_watcher_that_raises_is_printed_and_others_still_run(
        zh: int, base: str, capfd: pytest.CaptureFixture[str]) -> None:
    def broken(*event: Any) -> None:
        raise ValueError("watcher bug")

    after = Recorder()
    zookeeper.get(zh, base, broken)
    zookeeper.get(zh, base, after)
    zookeeper.set(zh, base, "x")
    assert after.wait_for(1)
    assert "ValueError: watcher bug" in capfd.readouterr().err


def test_session_watcher_and_outstanding_watchers_hear_a_dropped_connection(
        zk_proxy: Any, base: str, open_handle: Callable[..., Tuple[int, Recorder]]) -> None:
    handle, session = open_handle(zk_proxy.hosts)
    watcher = Recorder()
    zookeeper.get(handle, base, watcher)
    zk_proxy.drop_all()
    wait_connected(session, handle, 2)
    assert session_events(session, handle) == [
        (CONNECTED_STATE, ""), (zookeeper.CONNECTING_STATE, ""), (CONNECTED_STATE, "")]
    assert watcher.wait_for(2)
    assert watcher.calls[:2] == [(handle, zookeeper.SESSION_EVENT, zookeeper.CONNECTING_STATE, ""),
                                 (handle,) + CONNECTED]
    # The watch lives on (re-registered with the server) and still fires, once.
    zookeeper.set(handle, base, "after the drop")
    assert watcher.wait_for(3)
    assert watcher.calls[2] == (handle, CHANGED, CONNECTED_STATE, base)
    zk_proxy.drop_all()
    wait_connected(session, handle, 3)
    settle(handle)
    assert len(watcher.calls) == 3  # (fired: no more session events for it)


def test_expiry_ends_the_handle_and_tells_every_watcher(
        zk_server: Any, base: str, open_handle: Callable[..., Tuple[int, Recorder]]) -> None:
    handle, session = open_handle()
    watcher, later = Recorder(), Recorder()
    zookeeper.exists(handle, base, watcher)
    expired = (handle, zookeeper.SESSION_EVENT, zookeeper.EXPIRED_SESSION_STATE, "")
    expire(handle, zk_server.hosts)
    assert session.wait_until(lambda calls: expired in calls)
    # The take-over dropped the connection first (perhaps more than once:
    # the client may win its session back before the close): as from the C
    # library, CONNECTING (and CONNECTED) before EXPIRED, to both watchers.
    states = [state for state, _ in session_events(session, handle)]
    assert states[0] == CONNECTED_STATE and states[-1] == zookeeper.EXPIRED_SESSION_STATE
    assert states[1::2] == [zookeeper.CONNECTING_STATE] * (len(states) // 2)
    assert watcher.wait_for(len(states) - 1)
    assert watcher.calls == [(handle, zookeeper.SESSION_EVENT, state, "") for state in states[1:]]
    assert zookeeper.state(handle) == zookeeper.EXPIRED_SESSION_STATE
    assert zookeeper.is_unrecoverable(handle) is True
    with pytest.raises(zookeeper.InvalidStateException):
        zookeeper.get(handle, base, later)
    with pytest.raises(zookeeper.InvalidStateException):
        zookeeper.aget(handle, base, later, later)
    with pytest.raises(zookeeper.InvalidStateException):
        zookeeper.create(handle, base + "/x", "", OPEN_ACL)
    assert zookeeper.close(handle) == zookeeper.OK
    assert later.calls == []


def test_set_watcher_replaces_the_session_watcher(
        zk_proxy: Any, open_handle: Callable[..., Tuple[int, Recorder]]) -> None:
    handle, first = open_handle(zk_proxy.hosts)
    second = Recorder()
    zookeeper.set_watcher(handle, second)
    zk_proxy.drop_all()
    wait_connected(second, handle)
    assert session_events(first, handle) == [(CONNECTED_STATE, "")]
    assert session_events(second, handle) == [(zookeeper.CONNECTING_STATE, ""),
                                              (CONNECTED_STATE, "")]
    with pytest.raises(zookeeper.InvalidCallbackException):
        zookeeper.set_watcher(handle, "nope")


def test_a_handle_without_session_watcher_works(
        open_handle: Callable[..., Tuple[int, Recorder]], zk_server: Any, base: str) -> None:
    handle = zookeeper.init(zk_server.hosts)
    try:
        # (a call made before the connection waits for it)
        assert zookeeper.get(handle, base)[0] == ""
        assert zookeeper.state(handle) == CONNECTED_STATE
    finally:
        zookeeper.close(handle)


def test_close_from_a_watcher_and_open_again(
        zk_server: Any, base: str, open_handle: Callable[..., Tuple[int, Recorder]]) -> None:
    handle, _ = open_handle()
    reopened = Recorder()

    def reopen(zh: int, kind: int, state: int, path: str) -> None:
        zookeeper.close(zh)
        new = zookeeper.init(zk_server.hosts, None)
        reopened(new, zookeeper.get(new, base)[0])
        zookeeper.close(new)

    zookeeper.get(handle, base, reopen)
    zookeeper.aset(handle, base, "poke", -1, None)
    assert reopened.wait_for(1, WAIT)
    new, value = reopened.calls[0]
    assert new == handle and value == "poke"  # (the closed handle's number came back)
