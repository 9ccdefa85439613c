"""parse_config on configurations as servers write them (the ZooKeeper
administrator's guide's forms), and reconfig's arguments refused before
anything is sent."""

from __future__ import annotations

import pytest

import pykeeper
from pykeeper import Member, parse_config
from pykeeper.core import operations as ops


def test_members_roles_and_client_addresses() -> None:
    config = parse_config(
        b"server.2=10.0.0.2:2888:3888:observer;2181\n"
        b"server.1=10.0.0.1:2888:3888:participant;10.0.0.1:2181\n"
        b"server.3=[2001:db8::3]:2888:3888;[2001:db8::3]:2182\n"
        b"server.4=zk4.example.com:2888:3888|10.0.1.4:2888:3888;0.0.0.0:2183\n"
        b"server.5=10.0.0.5:2888:3888\n"
        b"version=10000000a\n")
    assert config.version == 0x10000000A
    assert [m.id for m in config.members] == [1, 2, 3, 4, 5]
    assert config.members[0] == Member(1, "10.0.0.1", 2888, 3888, "participant", "10.0.0.1", 2181)
    assert config.members[1].role == "observer" and config.members[1].client_host is None
    assert config.members[2].host == "2001:db8::3" and config.members[2].role == "participant"
    assert [m.client_address for m in config.members] == [
        "10.0.0.1:2181", "10.0.0.2:2181", "[2001:db8::3]:2182", "zk4.example.com:2183", None]
    assert config.hosts == ("10.0.0.1:2181,10.0.0.2:2181,[2001:db8::3]:2182,"
                            "zk4.example.com:2183")
    assert parse_config("") == pykeeper.EnsembleConfig(0, [])


@pytest.mark.parametrize("line, says", [
    ("server.x=1.2.3.4:1:2", "bad server id"),
    ("server.1=1.2.3.4:1", "needs host:quorum_port:election_port"),
    ("server.1=1.2.3.4:1:2:leader", "bad role"),
    ("server.1=1.2.3.4:1:99999", "bad port"),
    ("server.1=1.2.3.4:1:2;host:", "bad port"),
    ("version=xyz", "bad version"),
    ("just words", "not key=value"),
])
def test_a_line_it_cannot_read_is_named(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_config(line)


@pytest.mark.parametrize("kwargs, error, says", [
    ({}, ValueError, "needs joining, leaving or new_members"),
    ({"new_members": "server.1=a:1:2", "leaving": 2}, ValueError, "not both"),
    ({"leaving": "two"}, ValueError, "by their ids"),
    ({"leaving": True}, TypeError, "leaving must be a str or a list"),
    ({"joining": ["server.4=a:1:2", ""]}, TypeError, "non-empty str"),
    ({"joining": 4.0}, TypeError, "joining must be a str or a list"),
    ({"joining": "server.4=a:1:2", "from_config": "1"}, TypeError, "from_config must be an int"),
])
def test_reconfig_arguments_are_checked_before_sending(kwargs: dict, error: type,
                                                       says: str) -> None:
    with pytest.raises(error, match=says):
        next(ops.reconfig(None, **kwargs))


def test_reconfig_arguments_are_sent_comma_separated() -> None:
    request = next(ops.reconfig(None, joining=["server.4=a:1:2;3", "server.5=b:1:2;3"],
                                leaving=[1, "2"], from_config=7))
    assert (request.joining, request.leaving, request.new_members, request.from_config) == (
        "server.4=a:1:2;3,server.5=b:1:2;3", "1,2", None, 7)
