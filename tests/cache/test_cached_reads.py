"""cached_get / cached_get_children / cached_exists against a real server:
answered from memory (zero packets), dropped the moment their watch fires
(so never older than an event the client has received), a missing node
cached too, one request for concurrent misses, bounded, kept through an
outage and revalidated after it, cleared on expiry and close."""

from __future__ import annotations

import gc
import threading
import time
import uuid
from typing import Any, Dict

import pytest

import pykeeper
import pykeeper.testing
from pykeeper import NoNodeException, RetryPolicy

from .helpers import WAIT, Monotonic, Recorder, churn, full_read, packets_received


def server_packets(zk_server: Any, client: Any) -> int:
    return packets_received(zk_server, client.session_id)


def pings_bound(client: Any, seconds: float) -> int:
    """How many pings the client may have sent in `seconds` (one per third
    of the session timeout when idle), plus one for the interval in progress."""
    return int(seconds / (client.negotiated_session_timeout / 3)) + 1


def changed_event_seen(client: Any, path: str) -> Recorder:
    """A watcher of the reading client itself: once it has fired, the client
    has received the event, so the cache must already be past it."""
    seen = Recorder()
    client.exists(path, watcher=seen)
    return seen


# -- answered from memory -----------------------------------------------------------------


def test_hits_send_nothing_to_the_server(zk_server: Any, client: Any, base: Any) -> None:
    path = client.create(base + "/hot", b"v1")
    client.create(path + "/kid")
    assert client.cached_get(path) == client.get(path)
    assert client.cached_get_children(path) == ["kid"]
    assert client.cached_exists(path) == client.exists(path)
    with pytest.raises(NoNodeException):
        client.cached_get(base + "/none")

    before = server_packets(zk_server, client)
    start = time.monotonic()
    for _ in range(10_000):
        data, stat = client.cached_get(path)
    for _ in range(1000):
        client.cached_get_children(path)
        client.cached_exists(path)
        with pytest.raises(NoNodeException):
            client.cached_get(base + "/none")
    elapsed = time.monotonic() - start
    after = server_packets(zk_server, client)
    assert data == b"v1"
    assert after - before <= pings_bound(client, elapsed), (before, after, elapsed)


def test_a_miss_costs_one_request(zk_server: Any, client: Any, base: Any) -> None:
    path = client.create(base + "/n", b"x")
    before = server_packets(zk_server, client)
    client.cached_get(path)
    assert server_packets(zk_server, client) - before <= 1 + pings_bound(client, 0.5)


def test_children_list_is_a_copy(client: Any, base: Any) -> None:
    client.create(base + "/a")
    names = client.cached_get_children(base)
    names.append("junk")
    assert client.cached_get_children(base) == ["a"]


# -- invalidated by events ------------------------------------------------------------------


def test_change_is_seen_once_the_event_arrived(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/cfg", b"v1")
    assert client.cached_get(path)[0] == b"v1"
    assert client.cached_exists(path).version == 0
    seen = changed_event_seen(client, path)
    writer.set(path, b"v2")
    assert seen.wait_for(1)
    # No polling: the client has the event, so the cache is past it.
    data, stat = client.cached_get(path)
    assert (data, stat.version) == (b"v2", 1)
    assert client.cached_exists(path).version == 1


def test_entry_is_gone_before_any_watcher_runs(client: Any, writer: Any, base: Any) -> None:
    """The cache's watcher runs on the I/O thread, before the event reaches
    the event thread: even a watcher armed before the cache's own, reading
    the cache from inside its callback, finds the new value."""
    path = writer.create(base + "/first", b"v1")
    inside = Recorder()
    client.exists(path, watcher=lambda event: inside(client.cached_get(path)[0]))
    assert client.cached_get(path)[0] == b"v1"  # (its watch is armed second)
    writer.set(path, b"v2")
    assert inside.wait_for(1)
    assert inside.calls == [b"v2"]


def test_delete_and_recreate(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/d", b"v1")
    client.cached_get(path)
    seen = changed_event_seen(client, path)
    writer.delete(path)
    assert seen.wait_for(1)
    with pytest.raises(NoNodeException):
        client.cached_get(path)
    assert client.cached_exists(path) is None

    seen = changed_event_seen(client, path)
    writer.create(path, b"again")
    assert seen.wait_for(1)
    assert client.cached_get(path)[0] == b"again"
    assert client.cached_exists(path) is not None


def test_missing_node_is_cached_until_created(zk_server: Any, client: Any, writer: Any,
                                              base: Any) -> None:
    path = base + "/later"
    with pytest.raises(NoNodeException):
        client.cached_get(path)
    with pytest.raises(NoNodeException):
        client.cached_get_children(path)
    assert client.cached_exists(path) is None
    before = server_packets(zk_server, client)
    for _ in range(100):
        with pytest.raises(NoNodeException):
            client.cached_get(path)
        with pytest.raises(NoNodeException):
            client.cached_get_children(path)
        assert client.cached_exists(path) is None
    assert server_packets(zk_server, client) - before <= pings_bound(client, 1.0)

    seen = changed_event_seen(client, path)
    writer.create(path, b"here")
    writer.create(path + "/kid")
    assert seen.wait_for(1)
    assert client.cached_get(path)[0] == b"here"
    assert client.cached_exists(path) is not None
    # (the child was created after the event; a watch for it may still be
    # on its way, so only check the list contains what the event implies)
    assert client.cached_get_children(path) in ([], ["kid"])


def test_children_follow_the_child_events(client: Any, writer: Any, base: Any) -> None:
    assert client.cached_get_children(base) == []
    seen = Recorder()
    client.get_children(base, watcher=seen)
    writer.create(base + "/a")
    assert seen.wait_for(1)
    assert client.cached_get_children(base) == ["a"]

    seen = Recorder()
    client.get_children(base, watcher=seen)
    writer.delete(base + "/a")
    assert seen.wait_for(1)
    assert client.cached_get_children(base) == []


def test_child_event_refreshes_the_cached_stat(client: Any, writer: Any, base: Any) -> None:
    assert client.cached_get(base)[1].numChildren == 0
    assert client.cached_get_children(base) == []
    seen = Recorder()
    client.get_children(base, watcher=seen)
    writer.create(base + "/kid")
    assert seen.wait_for(1)
    assert client.cached_get(base)[1].numChildren == 1


def test_deleting_the_parent_drops_its_children_list(client: Any, writer: Any, base: Any) -> None:
    parent = writer.create(base + "/p")
    writer.create(parent + "/k")
    assert client.cached_get_children(parent) == ["k"]
    seen = Recorder()
    client.exists(parent, watcher=seen)
    writer.delete_recursive(parent)
    assert seen.wait_for(1)
    with pytest.raises(NoNodeException):
        client.cached_get_children(parent)


def test_removed_watch_drops_the_entry(client: Any, writer: Any, base: Any) -> None:
    """A user's remove_watches takes the cache's watch too: the entry goes."""
    path = writer.create(base + "/rw", b"v1")
    client.cached_get(path)
    client.remove_watches(path, kind="data")
    writer.set(path, b"v2")
    assert client.cached_get(path)[0] == b"v2"


# -- management -------------------------------------------------------------------------------


def test_concurrent_misses_share_one_request(zk_server: Any, zk_proxy: Any, make_client: Any,
                                             writer: Any, base: Any) -> None:
    path = writer.create(base + "/shared", b"x")
    client = make_client(zk_proxy.hosts)  # (a session of zk_server, through the proxy)
    zk_proxy.set_latency(0.3)
    before = server_packets(zk_server, client)
    start = threading.Barrier(8)
    results = []

    def read() -> None:
        start.wait()
        results.append(client.cached_get(path)[0])

    threads = [threading.Thread(target=read) for _ in range(8)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    zk_proxy.set_latency(0)
    assert results == [b"x"] * 8
    assert client.node_cache.stats()["misses"] == 1
    sent = server_packets(zk_server, client) - before
    assert sent <= 1 + pings_bound(client, time.monotonic() - began)


def test_size_is_bounded_and_recently_used_entries_stay(zk_server: Any, client: Any, writer: Any,
                                                        base: Any) -> None:
    cache = client.node_cache
    cache.max_entries = 50
    paths = [writer.create(f"{base}/n{i:03d}", str(i)) for i in range(200)]
    hot = paths[0]
    for path in paths:
        client.cached_get(path)
        client.cached_get(hot)  # used between every other read
    assert len(cache) <= 50
    assert cache.stats()["evictions"] >= 150
    before = server_packets(zk_server, client)
    client.cached_get(hot)
    for path in paths[-20:]:
        client.cached_get(path)
    assert server_packets(zk_server, client) - before <= pings_bound(client, 1.0)
    # An evicted entry is read again, and still follows its node.
    assert client.cached_get(paths[5])[0] == b"5"
    seen = changed_event_seen(client, paths[5])
    writer.set(paths[5], b"new")
    assert seen.wait_for(1)
    assert client.cached_get(paths[5])[0] == b"new"
    with pytest.raises(ValueError):
        cache.max_entries = 0


def test_cache_clear(zk_server: Any, client: Any, base: Any) -> None:
    path = client.create(base + "/x", b"1")
    other = client.create(base + "/y", b"1")
    client.cached_get(path)
    client.cached_get(other)
    client.cache_clear(path)
    before = server_packets(zk_server, client)
    client.cached_get(other)  # still cached
    assert server_packets(zk_server, client) - before <= pings_bound(client, 0.5)
    client.cached_get(path)  # read again
    assert server_packets(zk_server, client) - before >= 1
    client.cache_clear()
    assert len(client.node_cache) == 0
    with pytest.raises(ValueError):
        client.cache_clear("relative")


def test_invalidation_during_a_miss_keeps_its_answer_out(zk_proxy: Any, make_client: Any,
                                                         writer: Any, base: Any) -> None:
    """The stale flag: an invalidation that reaches a path while its miss is
    in flight (as when the miss's callback runs after later events) keeps
    the answer from being stored. (Drives the invalidation directly: the
    interleaving is a race the server cannot be made to produce on demand.)"""
    path = writer.create(base + "/race", b"old")
    client = make_client(zk_proxy.hosts)
    zk_proxy.set_latency(0.3)
    got = []
    reader = threading.Thread(target=lambda: got.append(client.cached_get(path)[0]))
    reader.start()
    pykeeper.testing.wait_until(lambda: client.node_cache.stats()["in_flight"] == 1, WAIT)
    client.node_cache._invalidate(path, ("get",))
    reader.join(WAIT)
    zk_proxy.set_latency(0)
    assert got == [b"old"]
    assert path not in client.node_cache


def test_is_ephemeral_through_the_cache(zk_server: Any, client: Any, base: Any) -> None:
    eph = client.create(base + "/e", ephemeral=True)
    per = client.create(base + "/p")
    assert client.is_ephemeral(eph, cache=True)
    assert not client.is_ephemeral(per, cache=True)
    before = server_packets(zk_server, client)
    assert client.is_ephemeral(eph, cache=True)
    assert server_packets(zk_server, client) - before <= pings_bound(client, 0.5)
    with pytest.raises(NoNodeException):
        client.is_ephemeral(base + "/none", cache=True)


def test_threads_read_while_entries_change(client: Any, writer: Any, base: Any) -> None:
    paths = [writer.create(f"{base}/t{i}", b"0") for i in range(10)]
    stop = threading.Event()
    errors = []

    def read() -> None:
        check = Monotonic()
        while not stop.is_set():
            for path in paths:
                check.see(path, client.cached_get(path)[1])
        errors.extend(check.violations)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for round_ in range(30):
        for path in paths:
            writer.set(path, str(round_))
    stop.set()
    for t in readers:
        t.join(WAIT)
    assert errors == []


# -- coherence (acceptance) ------------------------------------------------------------------------


def test_coherence_under_churn(make_any_client: Any, writer: Any, base: Any) -> None:
    """A writer updates 50 nodes 200 times each in random order, deleting and
    re-creating some; a reader using cached_get never sees a version go
    back, and within 1 s of the writer stopping agrees with a fresh read."""
    client = make_any_client()
    paths = [writer.create(f"{base}/n{i:02d}", b"0") for i in range(50)]
    deletable = paths[::5]
    stop = threading.Event()
    check = Monotonic()

    def view() -> Dict[str, Any]:
        out = {}
        for path in paths:
            try:
                data, stat = client.cached_get(path)
            except NoNodeException:
                check.see(path, None)
                continue
            check.see(path, stat)
            out[path] = (data, stat)
        return out

    def read() -> None:
        while not stop.is_set():
            view()
            client.cached_get_children(base)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        outcome = churn(writer, paths, 200, deletable)
    finally:
        stop.set()
        reader.join(WAIT)
    assert outcome["set"] > 9000 and outcome["delete"] > 0, outcome
    stopped = time.monotonic()
    fresh = full_read(writer, base)
    expected = {p: (d, s) for p, (d, s, _) in fresh.items() if p != base}
    try:
        pykeeper.testing.wait_until(
            lambda: view() == expected and sorted(client.cached_get_children(base)) == fresh[base][2],
            timeout=1.0)
    except TimeoutError:
        got = view()
        diff = {p: (got.get(p), expected.get(p)) for p in set(got) | set(expected)
                if got.get(p) != expected.get(p)}
        raise AssertionError(f"cache != fresh read after 1 s: {len(diff)} differ, e.g. "
                             f"{list(diff.items())[:3]}; children "
                             f"{sorted(client.cached_get_children(base)) == fresh[base][2]}")
    assert time.monotonic() - stopped < 1.0 + 0.5  # (the fresh read itself included)
    assert check.violations == [] and check.reads > 1000, check.violations[:5]


# -- outages, expiry, close -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["refuse", "blackhole", "drop_all"])
def test_served_through_an_outage_and_revalidated_after(fault: Any, zk_proxy: Any,
                                                        make_any_client: Any, writer: Any,
                                                        base: Any) -> None:
    path = writer.create(base + "/o", b"before")
    kid_parent = writer.create(base + "/dir")
    client = make_any_client(zk_proxy.hosts, session_timeout=3.0)
    session = client.session_id
    assert client.cached_get(path)[0] == b"before"
    assert client.cached_get_children(kid_parent) == []
    assert client.cached_exists(base + "/new") is None
    mark = client.log.mark()

    if fault == "drop_all":
        # The outage is the time between the drop and the reconnect: the
        # change is made while the proxy holds the new connection back.
        zk_proxy.blackhole()
        zk_proxy.drop_all()
    else:
        getattr(zk_proxy, fault)()
    client.log.wait_for("connecting", mark)
    writer.set(path, b"during")
    writer.create(kid_parent + "/kid")
    writer.create(base + "/new")
    # Served from memory while disconnected (the last known values)...
    assert client.cached_get(path)[0] == b"before"
    assert client.cached_get_children(kid_parent) == []
    assert client.cached_exists(base + "/new") is None
    # ...while a read the cache cannot answer fails at once.
    with pytest.raises(pykeeper.ConnectionLossException):
        client.cached_get(base)
    zk_proxy.heal()
    client.wait_until_connected(WAIT)
    assert client.session_id == session
    # No cache_clear: the server fires the re-armed watches for what changed.
    pykeeper.testing.wait_until(lambda: client.cached_get(path)[0] == b"during", WAIT)
    pykeeper.testing.wait_until(lambda: client.cached_get_children(kid_parent) == ["kid"], WAIT)
    pykeeper.testing.wait_until(lambda: client.cached_exists(base + "/new") is not None, WAIT)


def test_retry_policy_covers_a_miss_during_an_outage(zk_proxy: Any, make_client: Any, writer: Any,
                                                     base: Any) -> None:
    path = writer.create(base + "/r", b"v")
    client = make_client(zk_proxy.hosts, session_timeout=4.0,
                         retry=RetryPolicy(max_tries=None, deadline=WAIT))
    mark = client.log.mark()
    zk_proxy.refuse()
    client.log.wait_for("connecting", mark)
    got = []
    reader = threading.Thread(target=lambda: got.append(client.cached_get(path)))
    reader.start()
    zk_proxy.heal()
    reader.join(WAIT)
    assert got and got[0][0] == b"v"


def expire(proxy: Any, client: Any, writer: Any, during: Any = lambda: None) -> None:
    """Cut `client` off until the server has expired its session (seen as its
    ephemeral node vanishing), calling `during()` meanwhile; then let it
    reconnect, with a new session."""
    eph = client.create("/exp-" + uuid.uuid4().hex, ephemeral=True)
    gone = threading.Event()
    if writer.exists(eph, watcher=lambda e: gone.set()) is None:
        gone.set()
    mark = client.log.mark()
    proxy.refuse()
    client.log.wait_for("connecting", mark)
    during()
    assert gone.wait(WAIT), "the session did not expire"
    proxy.heal()
    index = client.log.wait_for("expired_session", mark)
    client.log.wait_for("connected", index)
    client.wait_until_connected(WAIT)


def test_session_expiry_clears_the_cache(zk_proxy: Any, make_client: Any, writer: Any,
                                         base: Any) -> None:
    path = writer.create(base + "/e", b"old")
    client = make_client(zk_proxy.hosts, session_timeout=1.0)
    assert client.cached_get(path)[0] == b"old"
    assert client.cached_exists(base + "/later") is None
    old_session = client.session_id

    def change() -> None:
        writer.set(path, b"new")
        writer.create(base + "/later")
        assert client.cached_get(path)[0] == b"old"  # still served meanwhile

    expire(zk_proxy, client, writer, change)
    assert client.session_id != old_session
    # The expired session's watches are gone: the entries went with them.
    assert client.cached_get(path)[0] == b"new"
    assert client.cached_exists(base + "/later") is not None
    # And the new entries follow the node again.
    seen = changed_event_seen(client, path)
    writer.set(path, b"newer")
    assert seen.wait_for(1)
    assert client.cached_get(path)[0] == b"newer"


def test_close_clears_the_cache(client: Any, writer: Any, base: Any) -> None:
    path = writer.create(base + "/c", b"1")
    assert client.cached_get(path)[0] == b"1"
    client.close()
    assert len(client.node_cache) == 0
    with pytest.raises(pykeeper.ClientClosedException):
        client.cached_get(path)
    writer.set(path, b"2")
    client.connect()
    assert client.cached_get(path)[0] == b"2"


def test_cache_does_not_keep_the_client_alive(zk_server: Any) -> None:
    import weakref
    zk = pykeeper.ZooKeeper(zk_server.hosts)
    zk.connect()
    zk.cached_exists("/")
    zk.close()
    ref = weakref.ref(zk)
    del zk
    gc.collect()
    assert ref() is None
