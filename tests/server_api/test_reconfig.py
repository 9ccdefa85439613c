"""Dynamic reconfiguration on real 3-node ensembles started with
reconfigEnabled (and a fourth member added): get_config before and after,
its watch firing, reconfig's errors, and clients that follow the ensemble
(follow_config) or are told of it (update_hosts) moving off a removed
member with their session intact, never to go back."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

import pytest

import pykeeper
from pykeeper import EventType, parse_config
from pykeeper.testing import ZooKeeperEnsemble, ZooKeeperServer, wait_until

from ..support import WAIT, Recorder


@pytest.fixture
def ensemble() -> Iterator[ZooKeeperEnsemble]:
    with ZooKeeperEnsemble(3, reconfig=True, super_password="reconfig-pw") as made:
        yield made


def admin_of(ensemble: ZooKeeperEnsemble) -> pykeeper.ZooKeeper:
    admin = pykeeper.ZooKeeper(ensemble.hosts)
    admin.connect(WAIT)
    admin.add_auth("digest", ensemble.super_credentials)
    return admin


def test_members_added_and_removed_show_in_the_config_and_its_watch_fires(
        ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any]) -> None:
    client = make_client(ensemble.hosts)
    data, stat = client.get_config()
    before = parse_config(data)
    assert [m.id for m in before.members] == [1, 2, 3]
    assert before.hosts.split(",") == ensemble.hosts.split(",")
    changed = Recorder()
    client.get_config(watcher=changed)

    added = ensemble.add_member()
    with admin_of(ensemble) as admin:
        new_data, new_stat = admin.reconfig(joining=ensemble.member_spec(added),
                                            from_config=before.version)
        grown = parse_config(new_data)
        assert [m.id for m in grown.members] == [1, 2, 3, 4] and grown.version > before.version
        assert changed.wait_for(1)
        assert changed.calls[0].type == EventType.CHANGED and changed.calls[0].path == \
            "/zookeeper/config"
        client.sync("/")
        assert parse_config(client.get_config()[0]) == grown

        with pytest.raises(pykeeper.BadVersionException, match="read it again"):
            admin.reconfig(leaving=2, from_config=before.version)  # (no longer that version)
        shrunk = parse_config(admin.reconfig(leaving=[1])[0])
        assert [m.id for m in shrunk.members] == [2, 3, 4]
    with pytest.raises(pykeeper.NoAuthException, match="super user"):
        client.retry(client.reconfig, leaving=2)  # (member 1 may have led: a re-election)


def test_a_following_client_moves_off_a_removed_member_and_never_goes_back(
        ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any], caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="zookeeper")
    # (A follower: the leader's leaving would move every client anyway.)
    leaving = [i for i in range(3) if i != ensemble.leader()][0]
    removed = ensemble.members[leaving].hosts
    others = [m.hosts for m in ensemble.members if m.hosts != removed]
    client = make_client(",".join([removed] + others), follow_config=True,
                         randomize_hosts=False, connect_timeout=2.0)
    assert client.current_server == removed
    client.create("/kept", b"here", ephemeral=True)
    session = client.session_id
    mark = client.log.mark()
    with admin_of(ensemble) as admin:
        admin.reconfig(leaving=leaving + 1)
    client.log.wait_for("connected", client.log.wait_for("connecting", mark))
    assert f"moving from {removed}: the ensemble changed" in caplog.text  # (it moved itself)
    assert client.session_id == session
    assert removed not in client.hosts.split(",")
    assert client.get("/kept")[0] == b"here"  # (the ephemeral node: the same session)
    for _ in range(2):  # (its server goes away: it reconnects, never to the removed one)
        current = wait_until(lambda: client.current_server, WAIT)
        assert current != removed
        on = [m for m in ensemble.members if m.hosts == current][0]
        mark = client.log.mark()
        on.restart()
        client.log.wait_for("connected", client.log.wait_for("connecting", mark))
        assert client.session_id == session
    assert wait_until(lambda: client.current_server, WAIT) != removed


def test_a_following_client_of_a_kept_member_stays(
        ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any]) -> None:
    client = make_client(ensemble.hosts, follow_config=True, randomize_hosts=False)
    kept = client.current_server
    assert kept == ensemble.members[0].hosts
    changed = Recorder()
    client.get_config(watcher=changed)
    # (Neither the client's server nor the leader, whose leaving would move everyone.)
    leaving = [i for i in (1, 2) if i != ensemble.leader()][0]
    with admin_of(ensemble) as admin:
        admin.reconfig(leaving=leaving + 1)
    assert changed.wait_for(1)
    gone = ensemble.members[leaving].hosts
    assert wait_until(lambda: gone not in client.hosts.split(","), WAIT)
    assert client.current_server == kept and "connecting" not in client.log.states[1:]


def test_update_hosts_moves_a_client_off_a_server_left_out(
        zk_ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any]) -> None:
    first, *others = [m.hosts for m in zk_ensemble.members]
    client = make_client(zk_ensemble.hosts, randomize_hosts=False, connect_timeout=2.0)
    assert client.current_server == first
    session, mark = client.session_id, client.log.mark()
    client.update_hosts(",".join(others))
    client.log.wait_for("connected", client.log.wait_for("connecting", mark))
    assert client.current_server in others and client.session_id == session
    assert client.hosts == ",".join(others)
    with pytest.raises(ValueError, match="the chroot cannot change"):
        client.update_hosts(others[0] + "/elsewhere")
    with pytest.raises(ValueError):
        client.update_hosts("")


def test_reconfig_on_servers_without_it_says_how_to_enable_it(
        zk_auth_server: ZooKeeperServer) -> None:
    with pykeeper.ZooKeeper(zk_auth_server.hosts) as admin:
        admin.add_auth("digest", zk_auth_server.super_credentials)
        with pytest.raises(pykeeper.ReconfigDisabledException, match="reconfigEnabled=true"):
            admin.reconfig(leaving=2)
