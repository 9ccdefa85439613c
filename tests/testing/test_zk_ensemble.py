"""pykeeper.testing.ZooKeeperEnsemble against real ZooKeeper processes."""

from __future__ import annotations

import os

from pykeeper.testing import ZooKeeperEnsemble, wait_until

from proc_checks import zookeeper_alive
from zk_wire import OK, RawSession


def test_one_leader_then_a_new_one_after_the_leader_dies(zk_ensemble: ZooKeeperEnsemble) -> None:
    modes = zk_ensemble.modes()
    assert sorted(modes) == ["follower", "follower", "leader"]  # type: ignore[type-var]
    old = zk_ensemble.leader()
    assert modes[old] == "leader"

    zk_ensemble.stop_member(old)
    assert not zk_ensemble.members[old].running
    new = zk_ensemble.wait_for_leader(timeout=30)

    assert new != old
    modes = zk_ensemble.modes()
    assert modes[old] is None
    assert sorted(m for m in modes if m is not None) == ["follower", "leader"]
    assert modes[new] == "leader"

    zk_ensemble.start_member(old)
    assert zk_ensemble.members[old].mode() == "follower"
    assert zk_ensemble.leader() == new


def test_members_share_one_tree(zk_ensemble: ZooKeeperEnsemble) -> None:
    first, second, _ = zk_ensemble.members
    with RawSession("127.0.0.1", first.port) as session:
        assert session.create("/shared", b"x") == OK
    with RawSession("127.0.0.1", second.port) as session:
        # A follower applies a commit shortly after the leader acknowledges it.
        wait_until(lambda: session.exists("/shared") == OK, 10)


def test_quorum_lost_and_regained_and_nothing_left_behind() -> None:
    with ZooKeeperEnsemble(3) as ensemble:
        members = ensemble.members
        assert ensemble.hosts == ",".join(f"127.0.0.1:{m.port}" for m in members)
        assert len({m.port for m in members}) == 3
        for i, member in enumerate(members):
            with open(os.path.join(member.data_dir, "myid")) as f:
                assert f.read().strip() == str(i + 1)
        pids = [m.pid for m in members]
        root = ensemble.data_dir

        ensemble.stop_member(0)
        ensemble.stop_member(1)
        wait_until(lambda: members[2].mode() is None, 15, message="lone member stops serving")

        ensemble.start_member(0, wait=False)  # cannot wait: it only serves once a quorum forms
        leader = ensemble.wait_for_leader(timeout=30)
        assert leader in (0, 2)
        assert members[0].mode() in ("leader", "follower") and members[2].mode() in ("leader", "follower")
        pids[0] = members[0].pid

    assert not any(zookeeper_alive(pid) for pid in pids if pid is not None)
    assert not os.path.exists(root)
