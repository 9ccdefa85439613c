"""Fixtures for pykeeper.zookeeper (the official binding's module API):
handles opened against real servers, each with a Recorder as its session
watcher; every handle a test opens is closed after it."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator, List, Tuple

import pytest

import pykeeper
from pykeeper import zookeeper

from ..support import WAIT, Recorder

OPEN_ACL = [{"perms": zookeeper.PERM_ALL, "scheme": "world", "id": "anyone"}]
CONNECTED = (zookeeper.SESSION_EVENT, zookeeper.CONNECTED_STATE, "")


def session_events(recorder: Recorder, handle: int) -> List[Tuple[int, str]]:
    """The (state, path) of each session event the recorder heard for `handle`."""
    return [(state, path) for (h, kind, state, path) in recorder.calls
            if h == handle and kind == zookeeper.SESSION_EVENT]


def wait_connected(recorder: Recorder, handle: int, count: int = 1) -> None:
    """Wait until the session watcher heard CONNECTED_STATE `count` times."""
    assert recorder.wait_until(lambda calls: calls.count((handle,) + CONNECTED) >= count, WAIT), \
        f"handle {handle} not connected {count} time(s); heard {recorder.calls}"


def settle(handle: int) -> None:
    """Return once every callback the handle had queued has run: a
    completion queued behind them (the server sends a session's watch
    events before the replies that follow them) has been called."""
    done = Recorder()
    zookeeper.aexists(handle, "/", None, done)
    assert done.wait_for(1), f"handle {handle}: no reply"


@pytest.fixture
def open_handle(zk_server: Any) -> Iterator[Callable[..., Tuple[int, Recorder]]]:
    """open_handle(hosts=zk_server.hosts, *init args, connected=True, **init keywords)
    -> (handle, session watcher Recorder); closed after the test."""
    opened: List[int] = []

    def open_(hosts: str = "", *args: Any, connected: bool = True,
              **kwargs: Any) -> Tuple[int, Recorder]:
        watcher = Recorder()
        handle = zookeeper.init(hosts or zk_server.hosts, watcher, *args, **kwargs)
        opened.append(handle)
        if connected:
            wait_connected(watcher, handle)
        return handle, watcher

    yield open_
    for handle in opened:
        try:
            zookeeper.close(handle)
        except zookeeper.ZooKeeperException:
            pass  # (closed by the test)


@pytest.fixture
def zh(open_handle: Callable[..., Tuple[int, Recorder]]) -> int:
    """A connected handle of the shared server."""
    return open_handle()[0]


@pytest.fixture
def base(zk_server: Any) -> Iterator[str]:
    """A node "/zkpy-<uuid>" of this test's own, removed with its subtree after."""
    path = "/zkpy-" + uuid.uuid4().hex
    with pykeeper.ZooKeeper(zk_server.hosts) as admin:
        admin.create(path)
    yield path
    with pykeeper.ZooKeeper(zk_server.hosts) as admin:
        admin.delete_recursive(path, force=True)
