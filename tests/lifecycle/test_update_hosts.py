"""A new host list (update_hosts, or a followed configuration), with no
server: the Java client's rebalancing rule, seeded so each count is exact,
and the session moving off a removed server, or not trying it again."""

from __future__ import annotations

import random

from pykeeper.core.hosts import Address, HostRotation
from pykeeper.core.session import Drop

from .test_session_lifecycle import A, B, C, connect, make

D = Address("10.0.0.4", 2181)
E = Address("10.0.0.5", 2181)


def moves(before: list, after: list, current: Address, trials: int = 4000) -> list:
    """How often a client on `current` moves, and to which servers."""
    rng = random.Random(7)
    went = []
    for _ in range(trials):
        rotation = HostRotation(before, rng=rng)
        if rotation.update(after, current):
            went.append(rotation.next()[0])
    return went


def test_a_grown_ensemble_takes_its_share_of_clients() -> None:
    went = moves([A, B, C], [A, B, C, D, E], A)  # (5 servers for 3: 2/5 should move)
    assert 0.36 < len(went) / 4000 < 0.44
    assert set(went) == {D, E}  # (and only to the new ones)


def test_a_client_of_a_kept_server_stays_when_the_ensemble_shrinks() -> None:
    assert moves([A, B, C], [A, B], A) == []


def test_a_client_of_a_removed_server_moves_so_the_load_stays_even() -> None:
    went = moves([A, B, C], [A, B], C)
    assert len(went) == 4000 and set(went) == {A, B}
    went = moves([A, B, C], [A, B, D], C)  # (one gone, one new: to the new one)
    assert set(went) == {D}


def test_removed_servers_are_never_handed_out_again() -> None:
    rotation = HostRotation([A, B, C], shuffle=False)
    rotation.update([B, C], None)
    assert {rotation.next()[0] for _ in range(10)} == {B, C}


def test_the_session_drops_a_removed_server_and_keeps_its_session() -> None:
    session, handler = make([A, B, C])
    connect(session, 0.0)
    assert session.address == A
    session.update_hosts([B, C])
    assert session.tick(0.5) == [Drop(f"moving from {A}: the ensemble changed")]
    session.connection_lost(0.5, "moved", [])
    assert session.protocol.session_id == 0x1234  # (kept, to resume on the next server)
    actions = session.tick(0.6)
    assert session._attempt in (B, C), actions


def test_a_waiting_attempt_at_a_removed_server_is_made_elsewhere() -> None:
    session, handler = make([A, B])
    session.start(0.0)
    session.connect_failed(0.0, "refused")  # (A failed: B at once)
    session.connect_failed(0.0, "refused")  # (B too: a back-off before A again)
    assert session.state == "backoff" and session._attempt == A
    session.update_hosts([C])
    session.tick(0.0)
    assert session._attempt == C


def test_a_removed_servers_clients_split_between_kept_and_new_ones() -> None:
    # 4 servers to 3 (A and B kept, E new) from D: the kept two take 1/3.
    went = moves([A, B, C, D], [A, B, E], D, trials=3000)
    kept = sum(1 for address in went if address in (A, B))
    assert len(went) == 3000 and 0.29 < kept / 3000 < 0.38 and set(went) == {A, B, E}


def test_an_update_during_the_handshake_moves_off_a_removed_server() -> None:
    session, handler = make([A, B, C])
    session.start(0.0)
    session.connection_made(0.0)
    assert session.state == "handshaking" and session.address == A
    session.update_hosts([B, C])
    assert session.tick(0.1) == [Drop(f"moving from {A}: the ensemble changed")]


def test_a_connection_made_to_a_server_removed_meanwhile_is_dropped() -> None:
    session, handler = make([A, B, C])
    session.start(0.0)  # (connecting to A)
    session.update_hosts([B, C])
    session.tick(0.05)
    assert session.connection_made(0.1) == [Drop(f"{A} left the ensemble while connecting")]


def test_a_read_only_client_left_with_one_server_stops_probing() -> None:
    session, handler = make([A, B, C], read_only_ok=True)
    connect(session, 0.0, read_only=True)
    session.update_hosts([A])
    for now in (0.5, 1.0, 5.0):
        actions = session.tick(now)
        assert not any(type(a).__name__ == "FourLetter" for a in actions)
