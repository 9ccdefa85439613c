"""An asyncio call cancelled while one of its requests is in flight (the
reply lost to the task) leaves no node behind: a Semaphore lease, a Party
membership or a DoubleBarrier entry the caller never got would otherwise
stay until the session ends, taking a lease or counting a member that is
not there."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Awaitable, Callable, List, Tuple

import pykeeper.aio

Attempt = Tuple[Awaitable[Any], Callable[[], Awaitable[Any]]]


async def cancel_at_each_request(client: pykeeper.aio.ZooKeeper, attempt: Callable[[], Attempt],
                                 check: Callable[[int], Awaitable[None]]) -> int:
    """Run the call `attempt()` gives again and again, its task cancelled
    once its 1st, 2nd, ... request has gone out, and `check(k)` after each; until
    a run finishes before its k-th request (its work then taken back with
    the undo `attempt()` gave). Returns how many requests a whole run sent."""
    protocol: Any = client._connection.protocol  # (a test hook on the live connection)
    send = protocol.send
    loop = asyncio.get_running_loop()
    for k in range(1, 60):
        sent = 0
        call, undo = attempt()
        task: "asyncio.Future[Any]" = asyncio.ensure_future(call)

        def counting(request: Any, context: Any = None, k: int = k) -> bytes:
            nonlocal sent
            frame: bytes = send(request, context)
            sent += 1
            if sent == k:
                # (At the task's next wait, its reply still to come: as a cancel
                # from elsewhere lands. A send it does not wait for is no such point.)
                loop.call_soon(task.cancel)
            return frame

        protocol.send = counting
        try:
            await task
        except asyncio.CancelledError:
            await check(k)
            continue
        finally:
            protocol.send = send
        await undo()
        await check(k)
        return k - 1
    raise AssertionError("the call never finished")


def test_a_cancelled_semaphore_acquire_holds_no_lease(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as a, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            held = a.Semaphore(path, "a", max_leases=2)
            assert await held.acquire()

            def attempt() -> Attempt:
                lease = b.Semaphore(path, "b", max_leases=2)
                return lease.acquire(), lease.release

            async def check(k: int) -> None:
                assert await held.lease_holders() == ["a"], f"cancelled at request {k}"

            assert await cancel_at_each_request(b, attempt, check) >= 3
            await held.release()

    asyncio.run(main())


def test_a_cancelled_party_join_leaves_no_member(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as a, \
                pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            party = a.Party(path, "a")
            await party.join()
            members: List[Any] = []

            def attempt() -> Attempt:
                members.append(b.Party(path, "b"))
                return members[-1].join(), members[-1].leave

            async def check(k: int) -> None:
                assert await party.members() == ["a"], f"cancelled at request {k}"
                assert not members[-1].participating

            assert await cancel_at_each_request(b, attempt, check) >= 2

    asyncio.run(main())


def test_a_second_join_cancelled_keeps_the_membership(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            member = b.Party(path, "b")
            await member.join()

            async def nothing() -> None:
                pass

            async def check(k: int) -> None:
                assert await member.members() == ["b"], f"cancelled at request {k}"
                assert member.participating

            await cancel_at_each_request(b, lambda: (member.join(), nothing), check)

    asyncio.run(main())


def test_a_cancelled_double_barrier_enter_leaves_no_entry(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            def attempt() -> Attempt:
                barrier = b.DoubleBarrier(path, 1)
                return barrier.enter(), barrier.leave

            async def check(k: int) -> None:
                entries = await b.get_children(path) if await b.exists(path) else []
                entries = [name for name in entries if name != "ready"]
                assert entries == [], f"cancelled at request {k}: {entries}"

            assert await cancel_at_each_request(b, attempt, check) >= 2

    asyncio.run(main())


def test_a_cancelled_persistent_ephemeral_node_start_leaves_no_node(
        zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            def attempt() -> Attempt:
                node = b.PersistentEphemeralNode(f"{path}/member", b"here")
                return node.start(), node.close

            async def check(k: int) -> None:
                assert await b.exists(f"{path}/member") is None, f"cancelled at request {k}"

            assert await cancel_at_each_request(b, attempt, check) >= 2
            # (Again with the parent there: the start is its one create, cancelled in flight.)
            assert await cancel_at_each_request(b, attempt, check) >= 1

    asyncio.run(main())


def test_a_cancelled_sequential_node_or_latch_start_leaves_no_node(
        zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            for name in ("PersistentEphemeralNode", "LeaderLatch"):
                where = f"{path}/{name}"

                def attempt() -> Attempt:
                    if name == "LeaderLatch":
                        made = b.LeaderLatch(where, "me")
                    else:
                        made = b.PersistentEphemeralNode(f"{where}/member-", b"x",
                                                         sequential=True)
                    return made.start(), made.close

                async def check(k: int) -> None:
                    left = await b.get_children(where) if await b.exists(where) else []
                    assert left == [], f"{name}, cancelled at request {k}: {left}"

                assert await cancel_at_each_request(b, attempt, check) >= 1

    asyncio.run(main())


def test_a_cancelled_queue_put_leaves_no_item(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            for name in ("Queue", "LockingQueue"):
                for values in ([b"one"], [b"a", b"b", b"c"]):
                    where = f"{path}/{name}-{len(values)}"
                    queue = getattr(b, name)(where)
                    await queue.put(b"older", priority=7)  # (stays: put before)

                    def attempt() -> Attempt:
                        fresh = getattr(b, name)(where)
                        call = fresh.put(values[0], priority=7) if len(values) == 1 \
                            else fresh.put_all(values, priority=7)

                        async def undo() -> None:
                            entries = where if name == "Queue" else f"{where}/entries"
                            for child in sorted(await b.get_children(entries))[1:]:
                                await b.delete(f"{entries}/{child}")
                        return call, undo

                    async def check(k: int) -> None:
                        assert await queue.count() == 1, f"{name} {values}: cancelled at {k}"

                    assert await cancel_at_each_request(b, attempt, check) >= 1

    asyncio.run(main())


def test_a_cancelled_registration_leaves_no_instance(zk_server: Any, path: str) -> None:
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            for service_type in ("DYNAMIC", "STATIC", "PERMANENT"):
                discovery = b.ServiceDiscovery(f"{path}/{service_type}")
                await discovery.unregister(await discovery.register("api", "10.0.0.3", 8080))
                # (The service's node is there now: a register is its one create.)

                def attempt() -> Attempt:
                    instance_id = uuid.uuid4().hex
                    return (discovery.register("api", "10.0.0.3", 8080, id=instance_id,
                                               service_type=service_type),
                            lambda: discovery.unregister(instance_id))

                async def check(k: int) -> None:
                    assert await discovery.instances("api") == [], \
                        f"{service_type}: cancelled at request {k}"
                    assert discovery.registered() == []

                assert await cancel_at_each_request(b, attempt, check) >= 1
                await discovery.close()

    asyncio.run(main())


def test_a_cancelled_locking_queue_put_is_withdrawn_without_its_taken_node(
        zk_server: Any, path: str) -> None:
    """Someone deleted the queue's `taken/` node: there is no lease to
    respect, and the entry still goes."""
    async def main() -> None:
        async with pykeeper.aio.ZooKeeper(zk_server.hosts) as b:
            queue = b.LockingQueue(path)
            await queue.put(b"older", priority=7)

            def attempt() -> Attempt:
                async def undo() -> None:
                    for child in sorted(await b.get_children(f"{path}/entries"))[1:]:
                        await b.delete(f"{path}/entries/{child}")
                # (The same queue object: it made its nodes once, and does not again.)
                return queue.put(b"new", priority=7), undo

            async def check(k: int) -> None:
                if await b.exists(f"{path}/taken"):
                    await b.delete(f"{path}/taken")  # (for the next try)
                assert await queue.count() == 1, f"cancelled at {k}"

            await b.delete(f"{path}/taken")
            assert await cancel_at_each_request(b, attempt, check) >= 1

    asyncio.run(main())
