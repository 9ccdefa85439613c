"""Read-only mode: with can_be_read_only, a client cut off from the quorum
keeps reading from a read-only server, then returns to read-write."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import pykeeper
from pykeeper.testing import ZooKeeperEnsemble, wait_until

from ..support import WAIT


def _is_read_only(member: Any) -> bool:
    try:
        answer: str = member.four_letter("isro")
        return answer.startswith("ro")
    except OSError:
        return False


@pytest.fixture
def read_only_ensemble() -> Iterator[ZooKeeperEnsemble]:
    # A read-only server can only give local sessions.
    with ZooKeeperEnsemble(3, java_options=["-Dreadonlymode.enabled=true"],
                           extra_config={"localSessionsEnabled": "true"}) as ensemble:
        yield ensemble


def test_read_only_then_back_to_read_write(
        read_only_ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any]) -> None:
    ensemble = read_only_ensemble
    writer = make_client(ensemble.hosts)
    writer.create("/ro", b"before")
    writer.close()
    client = make_client(ensemble.hosts, session_timeout=2.0, can_be_read_only=True)
    read_write_session = client.session_id
    mark = client.log.mark()
    ensemble.stop_member(0)
    ensemble.stop_member(1)
    # The read-only server refuses the quorum's session; once cut off longer
    # than its timeout the client gives it up and gets a read-only session.
    index = client.log.wait_for("expired_session", mark, timeout=WAIT)
    client.log.wait_for("connected_readonly", index, timeout=WAIT)
    assert client.state == pykeeper.State.CONNECTED_READONLY
    assert client.session_id != read_write_session
    assert client.get("/ro")[0] == b"before"
    with pytest.raises(pykeeper.NotReadOnlyException):
        client.set("/ro", b"during")
    mark = client.log.mark()
    ensemble.start_member(1)
    client.log.wait_for("connected", mark, timeout=WAIT)
    wait_until(lambda: client.state == pykeeper.State.CONNECTED, WAIT)
    client.set("/ro", b"after")
    assert client.get("/ro")[0] == b"after"


def test_without_can_be_read_only_a_read_only_server_is_refused(
        read_only_ensemble: ZooKeeperEnsemble, make_client: Callable[..., Any]) -> None:
    ensemble = read_only_ensemble
    client = make_client(ensemble.hosts, session_timeout=8.0)
    ensemble.stop_member(0)
    ensemble.stop_member(1)
    # Only once the last member says it is read-only has it surely left the
    # quorum (a srvr that times out under load proves nothing).
    wait_until(lambda: _is_read_only(ensemble.members[2]), WAIT)
    wait_until(lambda: not client.connected, WAIT)
    with pytest.raises(pykeeper.TimeoutException):
        client.wait_until_connected(1.5)
    assert "connected_readonly" not in client.log.states
