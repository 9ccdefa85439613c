"""Session.next_attempt: how long the client waits between rounds of
failed connection attempts (sans-I/O: no sockets, no clocks)."""

from __future__ import annotations

from typing import Any, List

from pykeeper.core.hosts import parse_hosts
from pykeeper.protocol.client_protocol import ClientProtocol
from pykeeper.core.session import MAX_BACKOFF, Session


class _NoClient:
    """(next_attempt tells the client nothing.)"""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} called")


def delays(session: Session, rounds: int) -> List[float]:
    """The waits before each attempt over `rounds` rounds in which every attempt fails."""
    waits: List[float] = []
    for _ in range(rounds * len(session.rotation.addresses)):
        _, delay = session.next_attempt()
        waits.append(delay)
        session.attempt_failed()
    return waits


def new_session(protocol: ClientProtocol) -> Session:
    addresses, _ = parse_hosts("127.0.0.1:1,127.0.0.1:2")
    return Session(addresses, protocol, handler=_NoClient(), connect_timeout=1.0, reconnect=True)


def test_without_a_session_the_wait_grows_to_the_maximum() -> None:
    waits = delays(new_session(ClientProtocol(2000, "", False)), 20)
    assert max(waits) > MAX_BACKOFF * 0.5
    assert max(waits) <= MAX_BACKOFF * 1.5


def resumable(timeout_ms: int) -> ClientProtocol:
    protocol = ClientProtocol(timeout_ms, "", False)
    protocol.session_id = 0x1234
    protocol.negotiated_timeout_ms = timeout_ms
    protocol.seen_read_write = True
    return protocol


def test_with_a_session_to_resume_the_wait_stays_under_a_third_of_its_timeout() -> None:
    waits = [wait for wait in delays(new_session(resumable(2000)), 40) if wait]
    assert waits and max(waits) <= 2.0 / 3
    # Still jittered at the cap, so that clients do not come back in step.
    assert len({round(wait, 6) for wait in waits[-10:]}) > 5


def test_a_session_only_a_read_only_server_gave_is_not_resumed_so_not_hurried() -> None:
    protocol = resumable(2000)
    protocol.seen_read_write = False  # (connect_frame starts a new session then)
    waits = delays(new_session(protocol), 20)
    assert max(waits) > 2.0 / 3
