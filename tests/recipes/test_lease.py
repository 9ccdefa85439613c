"""NonBlockingLease and MultiNonBlockingLease against a real server, on
both clients, and shared with kazoo's."""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient

import pykeeper
import pykeeper.aio
from pykeeper.recipes import MultiNonBlockingLease, NonBlockingLease
from pykeeper.recipes import lease as lease_module
from pykeeper.testing import expire_session

from ..support import AsyncioFacade
from .conftest import make_recipe
from .test_cancel_in_flight import cancel_at_each_request

HOUR = datetime.timedelta(hours=1)


def asked(client: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """A lease made on `client` and asked for: the sync client asks as it
    makes one; the asyncio one is awaited."""
    lease = make_recipe(client, name, *args, **kwargs)
    if isinstance(client, AsyncioFacade):
        lease.obtain()
    return lease


def holder(client: Any, path: str) -> Any:
    data, _ = client.get(f"{path}/lease_holder")
    return json.loads(data)


def test_one_holder_until_the_lease_ends(make_any_client: Callable[..., Any],
                                         path: str) -> None:
    a, b = make_any_client(), make_any_client()
    first = asked(a, "NonBlockingLease", path, HOUR, identifier="host-a")
    assert first.obtained
    assert not asked(b, "NonBlockingLease", path, HOUR, identifier="host-b").obtained
    stored = holder(a, path)
    assert stored["version"] == 1 and stored["holder"] == "host-a"
    end = datetime.datetime.strptime(stored["end"], "%Y-%m-%dT%H:%M:%S")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert HOUR - datetime.timedelta(minutes=1) < end - now <= HOUR + datetime.timedelta(seconds=1)

    # Past its end (seen through the taker's clock), another identifier takes it.
    later = lambda: now + 2 * HOUR  # noqa: E731
    taker = asked(b, "NonBlockingLease", path, HOUR, identifier="host-b", utcnow=later)
    assert taker.obtained and holder(a, path)["holder"] == "host-b"
    assert not first.obtain() and not first.obtained  # (its clock: b's lease runs)
    assert a.get_children(path) == ["lease_holder"]  # (no lock node left behind)


def test_the_same_identifier_renews(make_any_client: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    now = datetime.datetime(2030, 1, 1, 12, 0, 0)
    lease = asked(client, "NonBlockingLease", path, 60, identifier="job", utcnow=lambda: now)
    assert lease.obtained and holder(client, path)["end"] == "2030-01-01T12:01:00"
    now = datetime.datetime(2030, 1, 1, 12, 0, 30)
    assert lease.obtain() and holder(client, path)["end"] == "2030-01-01T12:01:30"
    again = asked(client, "NonBlockingLease", path, 60, identifier="job", utcnow=lambda: now)
    assert again.obtained


def test_a_lease_outlives_its_holders_session(make_any_client: Callable[..., Any],
                                              path: str) -> None:
    a = make_any_client()
    assert asked(a, "NonBlockingLease", path, HOUR, identifier="a").obtained
    a.close()
    assert not asked(make_any_client(), "NonBlockingLease", path, HOUR, identifier="b").obtained


def test_multi_lease_hands_out_count_places(make_any_client: Callable[..., Any],
                                            path: str) -> None:
    clients = [make_any_client() for _ in range(3)]
    got = [asked(c, "MultiNonBlockingLease", 2, path, HOUR, identifier=f"h{i}").obtained
           for i, c in enumerate(clients)]
    assert got == [True, True, False]
    assert sorted(clients[0].get_children(path)) == ["0", "1"]
    assert [holder(clients[0], f"{path}/{n}")["holder"] for n in "01"] == ["h0", "h1"]
    # A holder asking again keeps its place.
    assert asked(clients[1], "MultiNonBlockingLease", 2, path, HOUR, identifier="h1").obtained
    assert holder(clients[0], f"{path}/1")["holder"] == "h1"


def test_kazoo_and_pykeeper_share_leases(make_client: Callable[..., Any], kazoo: KazooClient,
                                         path: str) -> None:
    client = make_client()
    assert client.NonBlockingLease(path, HOUR, identifier="ours")
    assert not kazoo.NonBlockingLease(path, HOUR, identifier="theirs")
    assert kazoo.NonBlockingLease(path, HOUR, identifier="ours")  # (kazoo renews ours)
    other = path + "-2"
    assert kazoo.NonBlockingLease(other, HOUR, identifier="theirs")
    assert not client.NonBlockingLease(other, HOUR, identifier="ours")
    assert kazoo.MultiNonBlockingLease(2, other + "-m", HOUR, identifier="k")
    assert client.MultiNonBlockingLease(2, other + "-m", HOUR, identifier="p")
    assert not client.MultiNonBlockingLease(2, other + "-m", HOUR, identifier="q")


def test_bad_arguments_raise_before_anything_is_sent(make_any_client: Callable[..., Any],
                                                     path: str) -> None:
    client = make_any_client()
    for duration in (0, -5, datetime.timedelta(0)):
        with pytest.raises(ValueError, match="duration must be positive"):
            make_recipe(client, "NonBlockingLease", path, duration)
    for duration in ("60", None, True):
        with pytest.raises(TypeError, match="duration must be a datetime.timedelta"):
            make_recipe(client, "NonBlockingLease", path, duration)
    with pytest.raises(TypeError, match="identifier"):
        make_recipe(client, "NonBlockingLease", path, HOUR, identifier=7)
    with pytest.raises(TypeError, match="utcnow"):
        make_recipe(client, "NonBlockingLease", path, HOUR, utcnow="now")
    for count in (1.5, True, "2"):
        with pytest.raises(TypeError, match="count must be an int"):
            make_recipe(client, "MultiNonBlockingLease", count, path, HOUR)
    for count in (0, -1):
        with pytest.raises(ValueError, match="count must be at least 1"):
            make_recipe(client, "MultiNonBlockingLease", count, path, HOUR)
    for duration in (float("inf"), float("nan"), 1e300, datetime.timedelta(days=40000)):
        with pytest.raises(ValueError, match="at most 100 years"):
            make_recipe(client, "NonBlockingLease", path, duration)
    with pytest.raises(ValueError, match="path"):
        make_recipe(client, "NonBlockingLease", "no-slash", HOUR)
    assert client.exists(path) is None


def test_a_node_holding_no_lease_is_named(make_any_client: Callable[..., Any],
                                          path: str) -> None:
    client = make_any_client()
    client.create_recursive(f"{path}/lease_holder", b"not json")
    with pytest.raises(ValueError, match="does not hold a lease"):
        asked(client, "NonBlockingLease", path, HOUR)
    client.set(f"{path}/lease_holder", json.dumps(
        {"version": 1, "holder": "x", "end": "soon"}).encode())
    with pytest.raises(ValueError, match="not a time"):
        asked(client, "NonBlockingLease", path, HOUR)
    # A newer storage format is its writer's: left alone, not taken.
    client.set(f"{path}/lease_holder", json.dumps({"version": 2, "holder": "x"}).encode())
    assert not asked(client, "NonBlockingLease", path, HOUR).obtained
    assert client.get_children(path) == ["lease_holder"]


def test_asyncio_lease_is_asked_for_when_awaited(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            lease = client.NonBlockingLease(path, HOUR, identifier="a")
            with pytest.raises(TypeError, match="await lease.obtain"):
                bool(lease)
            assert await client.exists(path) is None  # (made, not yet asked)
            assert await lease.obtain() and lease
            multi = client.MultiNonBlockingLease(1, path + "-m", HOUR)
            assert await multi.obtain() and multi.count == 1

    asyncio.run(main())


def test_a_cancelled_asyncio_obtain_leaves_no_lease(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client:
            def attempt() -> Any:
                lease = client.NonBlockingLease(path, HOUR, identifier="a")

                async def undo() -> None:
                    await client.delete(f"{path}/lease_holder")

                return lease.obtain(), undo

            async def check(k: int) -> None:
                children: List[str] = (await client.get_children(path)
                                       if await client.exists(path) else [])
                assert children == [], f"cancelled at request {k}: {children}"

            assert await cancel_at_each_request(client, attempt, check) >= 4

    asyncio.run(main())


def test_the_sync_front_asks_as_it_is_made(make_client: Callable[..., Any], path: str) -> None:
    client = make_client()
    lease = NonBlockingLease(client, path, HOUR)
    assert lease and lease.identifier == socket.gethostname()
    assert holder(client, path)["holder"] == socket.gethostname()
    assert MultiNonBlockingLease(client, 1, path + "-m", HOUR, identifier="x")
    assert not MultiNonBlockingLease(client, 1, path + "-m", HOUR, identifier="y")


def test_a_cancelled_asyncio_renewal_keeps_the_lease(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as client, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as other:
            assert await client.NonBlockingLease(path, HOUR, identifier="me").obtain()

            async def nothing() -> None:
                pass

            async def check(k: int) -> None:
                data, _ = await other.get(f"{path}/lease_holder")
                assert json.loads(data)["holder"] == "me", f"cancelled at request {k}"
                assert not await other.NonBlockingLease(path, HOUR, identifier="x").obtain()

            def attempt() -> Any:
                return client.NonBlockingLease(path, HOUR, identifier="me").obtain(), nothing

            assert await cancel_at_each_request(client, attempt, check) >= 4

    asyncio.run(main())


def test_a_taker_whose_session_ends_while_it_looks_writes_nothing(
        make_client: Callable[..., Any], zk_server: Any, path: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its lock is gone with its session, and another taker may have the
    lease by the time its write goes out: the write checks the lock node."""
    a, b = make_client(), make_client()
    a.create_recursive(f"{path}/lease_holder", json.dumps(
        {"version": 1, "holder": "old", "end": "2000-01-01T00:00:00"}).encode())
    decoded = lease_module._decoded
    taken: List[bool] = []
    reads = 0

    def session_ends_then_decoded(holder: str, raw: bytes) -> Any:
        nonlocal reads
        reads += 1
        if reads == 1:  # (a has read the expired lease, under its lock)
            expire_session(a, zk_server.hosts)
            taken.append(b.NonBlockingLease(path, HOUR, identifier="B").obtained)
        return decoded(holder, raw)

    monkeypatch.setattr(lease_module, "_decoded", session_ends_then_decoded)
    try:
        obtained = a.NonBlockingLease(path, HOUR, identifier="A").obtained
    except pykeeper.SessionExpiredException:
        obtained = False
    assert taken == [True] and not obtained
    assert holder(b, path)["holder"] == "B"
