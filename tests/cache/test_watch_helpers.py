"""DataWatch and ChildrenWatch against a real server: called at once and
after every change, in order, on the event thread; re-armed through
reconnects and session expiry; stopped by returning False or stop(); and
garbage once stopped.

"Not called again" is checked without sleeping: a second helper (or
watcher) armed later sees a later change; events are delivered in order,
so by then any call of the first would have happened."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any, List

import pytest

import pykeeper
from pykeeper import DataWatch

from .helpers import WAIT, Recorder, callback_thread
from .test_cached_reads import expire


def barrier(client: Any, path: str, writer: Any, value: bytes = b"barrier") -> None:
    """Make one more change and wait until the client's event thread has
    delivered it: everything delivered before has been handled by then."""
    seen = Recorder()
    client.exists(path, watcher=seen)
    if writer.exists(path) is None:
        writer.create(path, value)
    else:
        writer.set(path, value)
    assert seen.wait_for(1)


def test_data_watch_follows_every_change(make_any_client: Any, writer: Any, base: Any) -> None:
    client = make_any_client()
    path = writer.create(base + "/d", b"v0")
    calls = Recorder()
    watch = client.data_watch(path, lambda data, stat: calls((data, stat.version)))
    assert calls.calls == [(b"v0", 0)]
    if isinstance(client, pykeeper.ZooKeeper):  # (the first call in the caller's thread)
        assert calls.threads == [threading.current_thread()]
    for i in range(1, 4):
        writer.set(path, f"v{i}")
        assert calls.wait_for(i + 1)
    assert calls.calls == [(b"v0", 0), (b"v1", 1), (b"v2", 2), (b"v3", 3)]
    assert {t.name for t in calls.threads[1:]} == {callback_thread(client)}
    assert not watch.stopped


def test_data_watch_of_a_missing_node(client: Any, writer: Any, base: Any) -> None:
    path = base + "/later"
    calls = Recorder()

    @client.data_watch(path)  # type: ignore[untyped-decorator]  # (the decorator form)
    def on_change(data: Any, stat: Any) -> Any:
        calls((data, None if stat is None else stat.version))

    assert calls.calls == [(None, None)]
    writer.create(path, b"born")
    assert calls.wait_for(2)
    writer.delete(path)
    assert calls.wait_for(3)
    writer.create(path, b"again")
    assert calls.wait_for(4)
    assert calls.calls == [(None, None), (b"born", 0), (None, None), (b"again", 0)]


def test_decorator_on_the_class(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/k", b"1")
    seen = []

    @DataWatch(client, path)
    def on_change(data: Any, stat: Any) -> Any:
        seen.append(data)

    assert on_change is not None and seen == [b"1"]


def test_data_watch_may_call_the_client(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/x", b"0")
    calls = Recorder()

    def on_change(data: Any, stat: Any) -> Any:
        calls((data, client.get(path)[0], client.get_children(base)))

    DataWatch(client, path, on_change)
    writer.set(path, b"1")
    assert calls.wait_for(2)
    assert calls.calls[1][0] == b"1"


def test_returning_false_stops_and_lets_go(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/s", b"0")
    calls = Recorder()

    def on_change(data: Any, stat: Any) -> Any:
        calls(data)
        return data != b"1"  # stop after seeing 1

    watch = DataWatch(client, path, on_change)
    writer.set(path, b"1")
    assert calls.wait_for(2)
    writer.set(path, b"2")
    barrier(client, path, writer)
    assert calls.calls == [b"0", b"1"]
    assert watch.stopped
    refs: List[Any] = [weakref.ref(watch), weakref.ref(on_change)]
    del watch, on_change
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_stop_lets_go_while_the_watch_is_still_armed(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/s", b"0")
    calls = Recorder()
    func = lambda data, stat: calls(data)  # noqa: E731
    watch = DataWatch(client, path, func)
    watch.stop()
    watch.stop()  # idempotent
    refs: List[Any] = [weakref.ref(watch), weakref.ref(func)]
    del watch, func
    gc.collect()
    assert [r() for r in refs] == [None, None]
    writer.set(path, b"1")
    barrier(client, path, writer)
    assert calls.calls == [b"0"]


def test_a_running_watch_needs_no_reference_from_the_user(client: Any, writer: Any,
                                                          base: Any) -> None:
    path = writer.create(base + "/r", b"0")
    calls = Recorder()
    DataWatch(client, path, lambda data, stat: calls(data))
    gc.collect()
    writer.set(path, b"1")
    assert calls.wait_for(2)


def test_children_watch(make_any_client: Any, writer: Any, base: Any) -> None:
    client = make_any_client()
    parent = writer.create(base + "/p")
    calls = Recorder()
    watch = client.children_watch(parent, calls)
    assert calls.calls == [[]]
    writer.create(parent + "/b")
    assert calls.wait_for(2)
    writer.create(parent + "/a")
    assert calls.wait_for(3)
    writer.delete(parent + "/b")
    assert calls.wait_for(4)
    writer.set(parent, b"data changes are not child changes")
    writer.delete(parent + "/a")
    assert calls.wait_for(5)
    assert calls.calls == [[], ["b"], ["a", "b"], ["a"], []]
    writer.delete(parent)
    assert calls.wait_for(6)
    assert calls.calls[-1] is None
    writer.create(parent)
    writer.create(parent + "/c")
    assert calls.wait_until(lambda c: c[-1] == ["c"])
    watch.stop()


def test_children_watch_stops_on_false(client: Any, writer: Any, base: Any) -> None:
    calls = Recorder()
    def on_children(names: List[str]) -> bool:
        calls(names)
        return len(names) < 1

    client.children_watch(base, on_children)
    writer.create(base + "/one")
    assert calls.wait_for(2)
    writer.create(base + "/two")
    barrier(client, base + "/barrier", writer)
    assert calls.calls == [[], ["one"]]


def test_first_read_errors_are_raised(client: Any, base: Any) -> None:
    with pytest.raises(ValueError):
        DataWatch(client, "relative", print)
    with pytest.raises(TypeError):
        DataWatch(client, base, "not callable")  # type: ignore[arg-type]
    client.close()
    with pytest.raises(pykeeper.ClientClosedException):
        DataWatch(client, base, print)


@pytest.mark.parametrize("fault", ["drop_all", "refuse"])
def test_watches_survive_a_reconnect(fault: Any, zk_proxy: Any, make_any_client: Any, writer: Any,
                                     base: Any) -> None:
    path = writer.create(base + "/w", b"0")
    client = make_any_client(zk_proxy.hosts, session_timeout=4.0)
    data_calls, child_calls = Recorder(), Recorder()
    client.data_watch(path, lambda data, stat: data_calls(data))
    client.children_watch(base, child_calls)
    session = client.session_id
    mark = client.log.mark()
    if fault == "drop_all":
        zk_proxy.drop_all()
        index = client.log.wait_for("connecting", mark)
        client.log.wait_for("connected", index)
    else:
        zk_proxy.refuse()
        client.log.wait_for("connecting", mark)
        writer.set(path, b"during")  # missed while away: SetWatches fires it
        writer.create(base + "/kid")
        zk_proxy.heal()
    client.wait_until_connected(WAIT)
    assert client.session_id == session
    if fault == "refuse":
        assert data_calls.wait_until(lambda c: c[-1] == b"during")
        assert child_calls.wait_until(lambda c: c[-1] == ["kid", "w"])
    writer.set(path, b"after")
    assert data_calls.wait_until(lambda c: c[-1] == b"after")
    writer.create(base + "/more")
    assert child_calls.wait_until(lambda c: "more" in c[-1])
    assert len(data_calls.calls) == len(set(data_calls.calls))  # none twice


def test_watches_survive_session_expiry(zk_proxy: Any, make_any_client: Any, writer: Any,
                                        base: Any) -> None:
    path = writer.create(base + "/x", b"0")
    client = make_any_client(zk_proxy.hosts, session_timeout=1.0)
    data_calls, child_calls = Recorder(), Recorder()
    client.data_watch(path, lambda data, stat: data_calls(data))
    client.children_watch(base, child_calls)
    old = client.session_id

    def change() -> None:
        writer.set(path, b"while expired")
        writer.create(base + "/new")

    expire(zk_proxy, client, writer, change)
    assert client.session_id != old
    # Re-read on the new session: what changed meanwhile is delivered...
    assert data_calls.wait_until(lambda c: c[-1] == b"while expired")
    assert child_calls.wait_until(lambda c: c[-1] == ["new", "x"])
    # ...and the re-armed watches follow later changes.
    writer.set(path, b"later")
    assert data_calls.wait_until(lambda c: c[-1] == b"later")
    writer.delete(base + "/new")
    assert child_calls.wait_until(lambda c: c[-1] == ["x"])
    assert data_calls.calls == [b"0", b"while expired", b"later"]


def test_rearmed_after_close_and_connect(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/c", b"0")
    calls = Recorder()
    DataWatch(client, path, lambda data, stat: calls(data))
    client.close()
    writer.set(path, b"1")
    client.connect()
    assert calls.wait_until(lambda c: c[-1] == b"1")
    writer.set(path, b"2")
    assert calls.wait_until(lambda c: c[-1] == b"2")


def test_stop_from_another_thread_waits_for_a_call_in_progress(client: Any, writer: Any,
                                                                base: Any) -> None:
    path = writer.create(base + "/busy", b"0")
    started, release, stopped = threading.Event(), threading.Event(), threading.Event()
    calls: List[bytes] = []

    def on_change(data: bytes, stat: Any) -> None:
        calls.append(data)
        if data == b"1":
            started.set()
            assert release.wait(WAIT)

    watch = DataWatch(client, path, on_change)
    writer.set(path, b"1")
    assert started.wait(WAIT)  # the call is running on the event thread
    def stop() -> None:
        watch.stop()
        stopped.set()

    stopper = threading.Thread(target=stop)
    stopper.start()
    assert not stopped.wait(0.2)  # (bounded: stop() is still waiting for the call)
    release.set()
    assert stopped.wait(WAIT)
    stopper.join(WAIT)
    writer.set(path, b"2")
    barrier(client, path, writer)
    assert calls == [b"0", b"1"]
