"""Party and ShallowParty against a real server, both clients, with kazoo."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from kazoo.client import KazooClient

import pykeeper
from pykeeper.testing import expire_session

from ..support import WAIT


@pytest.mark.parametrize("kind", ["Party", "ShallowParty"])
def test_join_list_leave(kind: str, make_any_client: Callable[..., Any],
                         recipe: Callable[..., Any], path: str) -> None:
    a = recipe(make_any_client(), kind, path, "alpha")
    b = recipe(make_any_client(), kind, path, "beta")
    assert a.members() == [] and a.count() == 0
    a.join()
    a.join()  # (one membership)
    b.join()
    assert sorted(a.members()) == ["alpha", "beta"] and b.count() == 2
    assert a.leave() is True and a.leave() is False
    assert b.members() == ["beta"]


@pytest.mark.parametrize("kind", ["Party", "ShallowParty"])
def test_kazoo_and_pykeeper_see_each_other(kind: str, zk_server: Any,
                                           make_any_client: Callable[..., Any],
                                           recipe: Callable[..., Any], path: str) -> None:
    kazoo = KazooClient(hosts=zk_server.hosts)
    kazoo.start()
    try:
        theirs = getattr(kazoo, kind)(path, "kazoo")
        theirs.join()
        ours = recipe(make_any_client(), kind, path, "pykeeper")
        ours.join()
        assert sorted(theirs) == ["kazoo", "pykeeper"] and len(theirs) == 2
        assert sorted(ours.members()) == ["kazoo", "pykeeper"]
    finally:
        kazoo.stop()
        kazoo.close()


def test_sync_iteration_and_len(make_client: Callable[..., Any], path: str) -> None:
    party = make_client().Party(path, "me")
    party.join()
    assert list(party) == ["me"] and len(party) == 1


def test_a_member_hears_its_membership_lost(zk_server: Any,
                                            make_any_client: Callable[..., Any],
                                            recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    member = recipe(client, "Party", path, "me")
    lost = threading.Event()
    member.add_listener(lambda event: event == "lost" and lost.set())
    member.join()
    expire_session(client, zk_server.hosts)
    assert lost.wait(WAIT)
    assert not member.participating
    client.wait_until_connected(WAIT)
    pykeeper.testing.wait_until(lambda: member.members() == [], WAIT)
    member.join()
    assert member.members() == ["me"]


def test_bad_identifiers_are_refused(make_client: Callable[..., Any]) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="identifier"):
        client.ShallowParty("/p", "a/b")
    with pytest.raises(TypeError, match="identifier"):
        client.Party("/p", 3)
