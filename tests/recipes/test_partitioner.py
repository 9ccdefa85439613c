"""SetPartitioner against a real server, on both clients, and beside kazoo's."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Tuple

import pytest
from kazoo.client import KazooClient
from kazoo.recipe.partitioner import SetPartitioner as KazooSetPartitioner

import pykeeper
from pykeeper.recipes import CancelledError, PartitionState
from pykeeper.recipes.partitioner import default_partition
from pykeeper.testing import FaultProxy, expire_session, wait_until

from ..support import WAIT, AsyncioFacade
from .conftest import wait_for_children

ITEMS = [f"item-{i}" for i in range(7)]
QUICK = {"time_boundary": 0.2, "max_reaction_time": 0.2}


def acquire_all(partitioners: List[Any]) -> List[bool]:
    """wait_for_acquire on each, all at once (each in a thread of its own)."""
    with ThreadPoolExecutor(len(partitioners)) as pool:
        return list(pool.map(lambda p: p.wait_for_acquire(WAIT), partitioners))


def assert_split(partitioners: List[Any], items: List[str] = ITEMS) -> None:
    """Each holds kazoo's share of `items` for the members' identifiers:
    the shares are disjoint and together the whole set."""
    shares = [sorted(p) for p in partitioners]
    assert sorted(item for share in shares for item in share) == sorted(items), shares
    members = [p.identifier for p in partitioners]
    for p, share in zip(partitioners, shares):
        assert p.acquired and p.state == PartitionState.ACQUIRED == "acquired"
        assert share == default_partition(p.identifier, members, items)


def lock_holders(client: Any, path: str, item: str) -> List[str]:
    try:
        return list(client.get_children(f"{path}/locks/{item}"))
    except pykeeper.NoNodeException:
        return []


def test_members_split_the_set_and_a_newcomer_makes_them_release(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    changed = threading.Event()
    a = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="a",
               state_change_event=changed, **QUICK)
    b = recipe(make_any_client(), "SetPartitioner", path, set(ITEMS), identifier="b", **QUICK)
    assert a.allocating and a.state == "allocating" and list(a) == [] and len(a) == 0
    a.start()
    b.start()
    assert acquire_all([a, b]) == [True, True]
    assert_split([a, b])
    assert changed.is_set() and len(a) == len(list(a))
    # A third member: the others must give their shares back first.
    c = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="c", **QUICK)
    c.start()
    wait_until(lambda: a.release and b.release, WAIT)
    assert a.state == PartitionState.RELEASE and not a.acquired
    assert sorted(list(a) + list(b)) == sorted(ITEMS)  # (still held until released)
    assert a.wait_for_acquire(0) is False  # (release first)
    a.release_set()
    b.release_set()
    assert a.allocating and list(a) == []
    assert acquire_all([a, b, c]) == [True, True, True]
    assert_split([a, b, c])
    for p in (a, b, c):
        p.finish()


def test_an_expired_member_fails_and_the_others_split_its_share(
        zk_server: Any, make_any_client: Callable[..., Any], recipe: Callable[..., Any],
        path: str) -> None:
    doomed_client = make_any_client()
    doomed = recipe(doomed_client, "SetPartitioner", path, ITEMS, identifier="doomed", **QUICK)
    heard: List[str] = []
    lost = threading.Event()

    def note(event: str) -> None:
        heard.append(str(event))
        if event == "lost":
            lost.set()

    doomed.add_listener(note)
    others = [recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier=name,
                     **QUICK) for name in ("x", "y")]
    for p in [doomed] + others:
        p.start()
    assert acquire_all([doomed] + others) == [True, True, True]
    assert_split([doomed] + others)
    expire_session(doomed_client, zk_server.hosts)
    assert lost.wait(WAIT)
    assert doomed.failed and doomed.state == "failure" and list(doomed) == []
    assert heard[-1] == "lost"
    assert doomed.wait_for_acquire(0) is False
    wait_until(lambda: all(p.release for p in others), WAIT)
    for p in others:
        p.release_set()
    assert acquire_all(others) == [True, True]
    assert_split(others)
    doomed.finish()  # (nothing left to give back)
    for p in others:
        p.finish()


def test_finish_leaves_the_party_and_releases_the_locks(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    a = recipe(client, "SetPartitioner", path, ITEMS, identifier="a", **QUICK)
    b = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="b", **QUICK)
    a.start()
    b.start()
    assert acquire_all([a, b]) == [True, True]
    assert all(len(lock_holders(client, path, item)) == 1 for item in ITEMS)
    a.finish()
    assert a.failed and list(a) == []
    assert [child.split("-", 1)[1] for child in client.get_children(f"{path}/party")] == ["b"]
    assert all(lock_holders(client, path, item) == [] for item in a_share(b))
    wait_until(lambda: b.release, WAIT)
    b.release_set()
    assert b.wait_for_acquire(WAIT)
    assert sorted(b) == sorted(ITEMS)
    b.finish()
    assert client.get_children(f"{path}/party") == []
    assert all(lock_holders(client, path, item) == [] for item in ITEMS)
    with pytest.raises(RuntimeError, match="failed"):
        a.start()


def a_share(b: Any) -> List[str]:
    """The items b did not hold (a's share, while the two split the set)."""
    return [item for item in ITEMS if item not in list(b)]


def everything(identifier: str, members: List[str], items: List[Any]) -> List[Any]:
    """A partition_func claiming the whole set (so it waits for the others)."""
    return sorted(items)


def all_but_the_first(identifier: str, members: List[str], items: List[Any]) -> List[Any]:
    return sorted(items)[1:]


def holder_and_greedy(make_any_client: Callable[..., Any], recipe: Callable[..., Any],
                      path: str) -> Tuple[Any, Any, Any]:
    """A client, a member holding all items but the first, and a member (not
    started) that wants them all: it takes the first, then waits."""
    client = make_any_client()
    holder = recipe(client, "SetPartitioner", path, ITEMS, identifier="holder",
                    partition_func=all_but_the_first, **QUICK)
    assert holder.wait_for_acquire(WAIT) and sorted(holder) == sorted(ITEMS)[1:]
    greedy = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="greedy",
                    partition_func=everything, **QUICK)
    return client, holder, greedy


def waiting(greedy: Any, client: Any, path: str) -> Tuple[threading.Thread, List[Any]]:
    """greedy.wait_for_acquire() in a thread, once it holds the first item
    and waits on the second item's lock (a second contender node there);
    its result or error."""
    results: List[Any] = []
    waiter = threading.Thread(target=lambda: results.append(catch(greedy.wait_for_acquire)))
    waiter.start()
    wait_until(lambda: len(lock_holders(client, path, ITEMS[1])) == 2, WAIT)
    assert len(lock_holders(client, path, ITEMS[0])) == 1
    return waiter, results


def holding_only_the_holders(client: Any, path: str) -> bool:
    """The first item's lock free, every other held once (by the holder)."""
    return lock_holders(client, path, ITEMS[0]) == [] and \
        all(len(lock_holders(client, path, item)) == 1 for item in ITEMS[1:])


def catch(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        return exc


def test_a_taken_share_times_out_or_is_cancelled_holding_nothing(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client, holder, greedy = holder_and_greedy(make_any_client, recipe, path)
    assert greedy.wait_for_acquire(0.8) is False
    assert greedy.allocating and list(greedy) == []
    assert holding_only_the_holders(client, path)
    waiter, results = waiting(greedy, client, path)
    greedy.cancel()
    waiter.join(WAIT)
    assert isinstance(results[0], CancelledError)
    assert holding_only_the_holders(client, path)
    # Once the holder leaves, the greedy one gets everything.
    wait_until(lambda: holder.release, WAIT)
    thread = threading.Thread(target=lambda: results.append(greedy.wait_for_acquire(WAIT)))
    thread.start()
    holder.finish()
    thread.join(WAIT)
    assert results[1] is True and sorted(greedy) == sorted(ITEMS)
    greedy.finish()


def test_finish_ends_a_waiting_allocation(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client, holder, greedy = holder_and_greedy(make_any_client, recipe, path)
    waiter, results = waiting(greedy, client, path)
    greedy.finish()
    waiter.join(WAIT)
    assert results == [False] and greedy.failed
    assert holding_only_the_holders(client, path)
    assert len(client.get_children(f"{path}/party")) == 1
    holder.finish()


@pytest.mark.parametrize("end", ["expire", "close"])
def test_a_waiting_allocation_ends_with_its_session_or_client(
        end: str, zk_server: Any, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    holder = recipe(client, "SetPartitioner", path, ITEMS, identifier="holder",
                    partition_func=all_but_the_first, **QUICK)
    assert holder.wait_for_acquire(WAIT)
    greedy_client = make_any_client()
    greedy = recipe(greedy_client, "SetPartitioner", path, ITEMS, identifier="greedy",
                    partition_func=everything, **QUICK)
    waiter, results = waiting(greedy, client, path)
    if end == "expire":
        expire_session(greedy_client, zk_server.hosts)
    elif isinstance(greedy_client, AsyncioFacade):
        greedy_client._run(greedy_client.aio.close(2.0))  # (the fixture stops its loop)
    else:
        greedy_client.close()
    waiter.join(WAIT)
    error = pykeeper.SessionExpiredException if end == "expire" else \
        pykeeper.ClientClosedException
    assert isinstance(results[0], error), results
    assert greedy.failed
    wait_until(lambda: holding_only_the_holders(client, path), WAIT)
    holder.finish()


def test_callers_sharing_a_partitioner_share_one_allocation(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    a = recipe(client, "SetPartitioner", path, ITEMS, identifier="a", **QUICK)
    assert acquire_all([a, a, a]) == [True, True, True]
    assert sorted(a) == sorted(ITEMS)
    assert all(len(lock_holders(client, path, item)) == 1 for item in ITEMS)
    a.finish()


def test_a_cancelled_asyncio_allocation_leaves_no_lock_node(zk_server: Any, path: str) -> None:
    """Cancelling the task of a waiting wait_for_acquire gives back what it
    took (its clean-up is awaited) and a later call allocates again."""
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as a, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            holder = a.SetPartitioner(path, ITEMS, identifier="holder",
                                      partition_func=all_but_the_first, **QUICK)
            assert await holder.wait_for_acquire(WAIT)
            greedy = b.SetPartitioner(path, ITEMS, identifier="greedy",
                                      partition_func=everything, **QUICK)
            task = asyncio.ensure_future(greedy.wait_for_acquire(WAIT))
            lock = f"{path}/locks/{ITEMS[1]}"
            await wait_for_children(a, lock, 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await a.get_children(f"{path}/locks/{ITEMS[0]}") == []
            for item in ITEMS[1:]:
                assert len(await a.get_children(f"{path}/locks/{item}")) == 1
            assert greedy.allocating
            await holder.finish()
            assert await greedy.wait_for_acquire(WAIT) and sorted(greedy) == sorted(ITEMS)
            await greedy.finish()

    asyncio.run(main())


def test_a_lost_connection_suspends_and_a_change_meanwhile_means_release(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    a = recipe(make_any_client(zk_proxy.hosts), "SetPartitioner", path, ITEMS,
               identifier="a", **QUICK)
    heard: List[str] = []
    a.add_listener(lambda event: heard.append(str(event)))
    assert a.wait_for_acquire(WAIT)
    zk_proxy.drop_all()
    wait_until(lambda: heard == ["suspended", "reconnected"], WAIT)
    assert a.acquired and sorted(a) == sorted(ITEMS)  # (the same session: still held)
    # A member joins while a is cut off: its watch, re-armed, tells it on return.
    zk_proxy.refuse()
    zk_proxy.drop_all()
    wait_until(lambda: heard[-1] == "suspended", WAIT)
    b = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="b", **QUICK)
    b.start()
    zk_proxy.heal()
    wait_until(lambda: a.release, WAIT)
    assert heard[-1] == "reconnected"
    a.release_set()
    assert acquire_all([a, b]) == [True, True]
    assert_split([a, b])
    a.finish()
    b.finish()


def test_a_deleted_member_node_is_made_again(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    a = recipe(client, "SetPartitioner", path, ITEMS, identifier="a", **QUICK)
    assert a.wait_for_acquire(WAIT)
    (node,) = client.get_children(f"{path}/party")
    client.delete(f"{path}/party/{node}")  # (an admin's doing)
    wait_until(lambda: a.release, WAIT)
    a.release_set()
    assert a.wait_for_acquire(WAIT) and sorted(a) == sorted(ITEMS)
    assert client.get_children(f"{path}/party") == [node]
    a.finish()


def test_bad_input_raises_before_anything_is_sent(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    bad: List[Any] = [
        (TypeError, "iterable", dict(set=5)),
        (TypeError, "iterable", dict(set="abc")),
        (ValueError, "time_boundary", dict(set=ITEMS, time_boundary=-1)),
        (ValueError, "time_boundary", dict(set=ITEMS, time_boundary="1")),
        (ValueError, "time_boundary", dict(set=ITEMS, time_boundary=float("nan"))),
        (ValueError, "max_reaction_time", dict(set=ITEMS, max_reaction_time=0)),
        (ValueError, "no '/'", dict(set=["a/b"])),
        (ValueError, "one name", dict(set=["x", "x"])),
        (TypeError, "comparable", dict(set=[1, "a"])),
        (TypeError, "partition_func", dict(set=ITEMS, partition_func=3)),
        (TypeError, "identifier", dict(set=ITEMS, identifier=3)),
        (ValueError, "'/'", dict(set=ITEMS, identifier="a/b")),
        (TypeError, "state_change_event", dict(set=ITEMS, state_change_event=object())),
    ]
    for error, words, kwargs in bad:
        with pytest.raises(error, match=words):
            recipe(client, "SetPartitioner", path, **kwargs)
    with pytest.raises(ValueError, match="timeout"):
        recipe(client, "SetPartitioner", path, ITEMS).wait_for_acquire(-1)
    assert client.exists(path) is None


def test_default_partition_is_kazoos() -> None:
    members = ["m3", "m1", "m2"]
    for me in members:
        assert default_partition(me, members, ITEMS) == \
            KazooSetPartitioner._partitioner(None, me, members, ITEMS)  # type: ignore


def test_kazoo_and_pykeeper_members_split_one_set(
        kazoo: KazooClient, make_any_client: Callable[..., Any], recipe: Callable[..., Any],
        path: str) -> None:
    ours = recipe(make_any_client(), "SetPartitioner", path, ITEMS, identifier="pykeeper",
                  **QUICK)
    ours.start()
    theirs = kazoo.SetPartitioner(path, set=ITEMS, identifier="kazoo", time_boundary=0.2,
                                  max_reaction_time=0.2)
    assert ours.wait_for_acquire(WAIT)
    theirs.wait_for_acquire(WAIT)
    assert theirs.acquired
    mine, yours = sorted(ours), sorted(theirs)
    assert not set(mine) & set(yours) and sorted(mine + yours) == sorted(ITEMS)
    assert mine == default_partition("pykeeper", ["kazoo", "pykeeper"], ITEMS)
    # pykeeper leaving moves kazoo's member to release, then it takes all.
    ours.finish()
    wait_until(lambda: theirs.release, WAIT)
    theirs.release_set()
    theirs.wait_for_acquire(WAIT)
    assert theirs.acquired and sorted(theirs) == sorted(ITEMS)
    theirs.finish()
