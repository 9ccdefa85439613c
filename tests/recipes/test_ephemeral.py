"""PersistentEphemeralNode against a real server, on both clients."""

from __future__ import annotations

import threading
import uuid
from typing import Any, Callable

import pytest

import pykeeper
from pykeeper.testing import expire_session

from ..support import WAIT


def test_made_kept_across_expiry_and_deletion_then_closed(
        zk_server: Any, make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    watcher = make_client()
    node = recipe(client, "PersistentEphemeralNode", f"{path}/member", b"v1")
    node.start()
    assert watcher.get(f"{path}/member")[0] == b"v1"
    node.set_data(b"v2")
    expire_session(client, zk_server.hosts)
    pykeeper.testing.wait_until(
        lambda: watcher.exists(f"{path}/member") is not None
        and watcher.exists(f"{path}/member").ephemeralOwner == client.session_id, WAIT)
    assert watcher.get(f"{path}/member")[0] == b"v2"
    assert node.wait_for_creation(WAIT)
    watcher.delete(f"{path}/member")  # an admin deletes it: it comes back
    pykeeper.testing.wait_until(lambda: watcher.exists(f"{path}/member") is not None, WAIT)
    node.close()
    assert watcher.exists(f"{path}/member") is None
    with pytest.raises(RuntimeError, match="started already"):
        node.start()


def test_sequential_node_and_bad_data(make_any_client: Callable[..., Any],
                                      make_client: Callable[..., Any],
                                      recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    node = recipe(client, "PersistentEphemeralNode", f"{path}/seq-", b"", True)
    node.start()
    assert node.actual_path.rsplit("/", 1)[1].endswith("0000000000")
    assert len(make_client().get_children(path)) == 1
    with pytest.raises(ValueError, match="timeout"):
        node.wait_for_creation(-1)
    node.close()
    with pytest.raises(TypeError, match="bytes"):
        recipe(client, "PersistentEphemeralNode", path, "text")


def test_a_node_right_under_the_root(make_any_client: Callable[..., Any],
                                     recipe: Callable[..., Any]) -> None:
    client = make_any_client()
    path = "/pen-" + uuid.uuid4().hex[:8]
    for sequential in (False, True):
        node = recipe(client, "PersistentEphemeralNode", path, b"top", sequential=sequential)
        node.start()
        assert path[1:] in node.actual_path and client.get(node.actual_path)[0] == b"top"
        node.close()
        assert not [c for c in client.get_children("/") if path[1:] in c]


def test_start_returns_while_the_event_thread_is_busy(make_client: Callable[..., Any],
                                                      path: str) -> None:
    """A start does not wait for the event thread, which may be held up by
    a watcher waiting for the very thread that starts."""
    client = make_client()
    client.create_recursive(f"{path}/a", b"0")
    app_lock = threading.Lock()
    busy = threading.Event()

    def on_change(data: Any, stat: Any) -> None:
        if data == b"1":
            busy.set()
            with app_lock:  # (waits for the starting thread to let go)
                pass

    pykeeper.DataWatch(client, f"{path}/a", on_change)
    node = client.PersistentEphemeralNode(f"{path}/m", b"x")
    started = threading.Event()

    def start_holding_the_lock() -> None:
        with app_lock:
            client.set(f"{path}/a", b"1")
            if busy.wait(WAIT):  # (the event thread is in the watcher now)
                node.start()
                started.set()

    # (In a thread of its own, so that a start that waited would fail the test, not hang it.)
    threading.Thread(target=start_holding_the_lock, daemon=True).start()
    assert started.wait(WAIT), "start() waited for the busy event thread"
    assert client.exists(f"{path}/m") is not None
    node.close()
