"""The session's life-cycle as a state machine, with a fake clock and no
server: each test tells a Session what happened and asserts the exact
actions it answers with."""

from __future__ import annotations

import struct
from typing import Any, List, Tuple


from pykeeper.core.hosts import Address
from pykeeper.protocol.client_protocol import ClientProtocol
from pykeeper.protocol.records import Xid
from pykeeper.core.session import (
    INITIAL_BACKOFF, PROBE_FIRST_PAUSE, Action, Connect, Drop, FourLetter, Send, Session,
    Stop, Wait,
)

A = Address("10.0.0.1", 2181)
B = Address("10.0.0.2", 2181)
C = Address("10.0.0.3", 2181)
CONNECT_TIMEOUT = 1.0


class Recorder:
    """The client's side of the session: records what it was told."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append(name)


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def connect_response(session_id: int = 0x1234, timeout_ms: int = 6000,
                     read_only: bool = False) -> bytes:
    return frame(struct.pack(">iiqi", 0, timeout_ms, session_id, 16) + b"p" * 16
                 + (b"\x01" if read_only else b"\x00"))


def ping_reply(zxid: int = 0) -> bytes:
    return frame(struct.pack(">iqi", Xid.PING, zxid, 0))


def make(addresses: List[Address], timeout_ms: int = 6000, read_only_ok: bool = False,
         reconnect: bool = True) -> Tuple[Session, Recorder]:
    handler = Recorder()
    session = Session(addresses, ClientProtocol(timeout_ms, "", read_only_ok), handler,
                      CONNECT_TIMEOUT, reconnect)
    session.rotation.addresses = list(addresses)  # (no shuffle: the order is the test's)
    return session, handler


def receive(session: Session, now: float, data: bytes) -> None:
    """What a driver does with bytes in."""
    events, _ = session.receive(now, data)
    session.dispatch(events)


def connect(session: Session, now: float, **response: Any) -> List[Action]:
    """Start, open the connection, get a session; the actions of the tick after."""
    actions = session.start(now)
    assert actions == [Connect(session.rotation.addresses[0], CONNECT_TIMEOUT)]
    made = session.connection_made(now)
    assert type(made[0]) is Send and made[1:] == [Wait(now + CONNECT_TIMEOUT)]
    receive(session, now + 0.01, connect_response(**response))
    return session.tick(now + 0.01)


def sends_ping(actions: List[Action]) -> bool:
    return any(type(a) is Send and struct.unpack_from(">i", a.data, 4)[0] == Xid.PING
               for a in actions)


def test_reconnect_rounds_back_off_between_rounds_not_between_hosts() -> None:
    session, handler = make([A, B])
    assert session.start(0.0) == [Connect(A, CONNECT_TIMEOUT)]
    assert session.connect_failed(0.1, "refused") == [Connect(B, CONNECT_TIMEOUT)]
    # A whole round failed: wait, then start the next round.
    actions = session.connect_failed(0.2, "refused")
    assert len(actions) == 1 and type(actions[0]) is Wait
    until = actions[0].until
    assert 0.2 + INITIAL_BACKOFF * 0.5 <= until <= 0.2 + INITIAL_BACKOFF * 1.5
    assert session.tick(until - 0.01) == [Wait(until)]
    assert session.tick(until) == [Connect(A, CONNECT_TIMEOUT)]
    assert session.connect_failed(until + 0.1, "refused") == [Connect(B, CONNECT_TIMEOUT)]
    # The next round waits about twice as long.
    second = session.connect_failed(until + 0.2, "refused")[0]
    assert type(second) is Wait
    assert INITIAL_BACKOFF <= second.until - (until + 0.2) <= INITIAL_BACKOFF * 3
    assert handler.calls == ["on_connecting"] * 4
    assert session.last_error == f"{B}: refused"


def test_a_dead_server_is_noticed_by_an_unanswered_ping() -> None:
    session, handler = make([A])  # session timeout 6 s: ping every 2 s, read timeout 4 s
    assert connect(session, 0.0) == [Wait(2.0)]
    assert handler.calls == ["on_connecting", "on_associating", "on_connected"]
    actions = session.tick(2.0)
    assert sends_ping(actions) and actions[-1] == Wait(4.0)
    # No answer: the read timeout runs from the last bytes in (0.01).
    actions = session.tick(4.0)
    assert sends_ping(actions) and actions[-1] == Wait(4.01)
    assert session.tick(4.01) == [Drop("no reply from the server in 4.00s")]
    # The driver drops it; the session is resumed on the next attempt at once.
    assert session.connection_lost(4.02, "closed by us", []) == [Connect(A, CONNECT_TIMEOUT)]
    assert handler.calls[-2:] == ["on_disconnected", "on_connecting"]
    assert session.last_error is None


def test_an_answered_ping_keeps_the_connection() -> None:
    session, _ = make([A])
    connect(session, 0.0)
    assert sends_ping(session.tick(2.0))
    receive(session, 2.001, ping_reply())
    assert session.tick(2.001) == [Wait(4.0)]
    assert sends_ping(session.tick(4.0))
    receive(session, 4.001, ping_reply())
    assert session.tick(4.001) == [Wait(6.0)]


def test_a_pause_of_the_client_is_not_a_dead_server() -> None:
    session, handler = make([A])
    assert connect(session, 0.0) == [Wait(2.0)]
    # The driver asked to be woken at 2.0 but was stopped for 5 s: it sent
    # no ping all that time. It pings first and gives the server 4 s.
    actions = session.tick(7.0)
    assert sends_ping(actions) and actions[-1] == Wait(9.0)
    assert session.tick(9.0)[-1] == Wait(11.0)  # another ping; still waiting
    assert session.tick(10.99)[-1] == Wait(11.0)
    receive(session, 10.995, ping_reply())
    assert session.tick(10.995) == [Wait(11.0)]
    assert "on_disconnected" not in handler.calls


def test_a_pause_then_silence_is_a_dead_server() -> None:
    session, _ = make([A])
    connect(session, 0.0)
    session.tick(7.0)  # woke late: ping, and the read timeout from now
    assert session.tick(11.0) == [Drop("no reply from the server in 4.00s")]


def test_a_call_unanswered_for_the_read_timeout_is_a_dead_server() -> None:
    session, _ = make([A])
    connect(session, 0.0)
    session.live.sent(1.0)  # a call goes out
    assert session.tick(1.0) == [Wait(3.0)]  # (its ping timer)
    actions = session.tick(3.0)
    assert sends_ping(actions) and actions[-1] == Wait(4.01)
    assert session.tick(4.01) == [Drop("no reply from the server in 4.00s")]


def test_an_expired_session_is_replaced_by_a_new_one() -> None:
    session, handler = make([A])
    connect(session, 0.0)
    assert session.connection_lost(1.0, "the server closed the connection", []) == [
        Connect(A, CONNECT_TIMEOUT)]
    session.connection_made(1.1)
    receive(session, 1.2, connect_response(timeout_ms=0))  # the server: expired
    assert handler.calls[-1] == "on_session_expired"
    assert session.protocol.session_id == 0
    assert session.final_error is None
    # The server closes the connection; the next one asks for a new session.
    actions = session.connection_lost(1.3, "the server closed the connection", [])
    assert len(actions) == 1 and type(actions[0]) is Wait  # (no session on it: back off)
    assert session.tick(actions[0].until) == [Connect(A, CONNECT_TIMEOUT)]
    session.connection_made(actions[0].until)
    receive(session, 2.0, connect_response(session_id=0x999))
    assert handler.calls[-1] == "on_connected"
    assert session.protocol.session_id == 0x999


def test_an_expired_session_without_reconnect_stops() -> None:
    session, handler = make([A], reconnect=False)
    connect(session, 0.0)
    session.connection_lost(1.0, "the server closed the connection", [])
    session.connection_made(1.1)
    receive(session, 1.2, connect_response(timeout_ms=0))
    assert handler.calls[-1] == "on_session_expired"
    assert session.tick(1.2) == [Drop("the session expired")]
    assert session.connection_lost(1.3, "dropped", []) == [Stop("the session expired")]


def test_read_only_probing_moves_to_a_read_write_server() -> None:
    session, handler = make([A, B, C], read_only_ok=True)
    first = connect(session, 0.0, read_only=True)
    assert first == [Wait(0.01 + PROBE_FIRST_PAUSE)]
    at = 0.01 + PROBE_FIRST_PAUSE
    actions = session.tick(at)
    assert actions[0] == FourLetter(B, "isro", 1.0) and type(actions[-1]) is Wait
    # Asked one at a time: nothing more until B answers.
    assert not any(type(a) is FourLetter for a in session.tick(at + 0.05))
    actions = session.four_letter_answer(at + 0.1, B, "isro", "ro")
    assert actions[0] == FourLetter(C, "isro", 1.0)
    # Round done: the next one after twice the pause.
    actions = session.four_letter_answer(at + 0.2, C, "isro", None)
    assert actions == [Wait(at + 0.1 + 2 * PROBE_FIRST_PAUSE)]
    actions = session.tick(at + 0.1 + 2 * PROBE_FIRST_PAUSE)
    assert actions[0] == FourLetter(B, "isro", 1.0)
    actions = session.four_letter_answer(at + 0.4, B, "isro", "rw")
    assert actions == [Drop(f"leaving a read-only server for {B}")]
    assert session.connection_lost(at + 0.5, "dropped", []) == [Connect(B, CONNECT_TIMEOUT)]


def test_a_session_cut_off_longer_than_its_timeout_is_abandoned_for_a_read_only_server() -> None:
    session, handler = make([A], read_only_ok=True)
    connect(session, 0.0)  # a read-write session, timeout 6 s
    assert session.connection_lost(1.0, "the server closed the connection", []) == [
        Connect(A, CONNECT_TIMEOUT)]
    wait = session.connect_failed(2.0, "refused")[0]
    assert isinstance(wait, Wait)
    assert session.tick(wait.until) == [Connect(A, CONNECT_TIMEOUT)]
    assert "on_session_expired" not in handler.calls
    wait = session.connect_failed(8.0, "refused")[0]
    assert isinstance(wait, Wait)
    # More than the session timeout since the connection was lost: given up,
    # so that a read-only server gives a session of its own.
    assert session.tick(wait.until) == [Connect(A, CONNECT_TIMEOUT)]
    assert handler.calls[-2:] == ["on_session_expired", "on_connecting"]
    assert session.protocol.session_id == 0


def test_zxid_check_of_a_server_that_lost_its_data() -> None:
    session, handler = make([A])  # one server, it restarted with empty data
    connect(session, 0.0)
    session.protocol.last_zxid = 0x100
    session.connection_lost(1.0, "the server closed the connection", [])
    now = 1.0
    # The server closes every handshake (our zxid is ahead of its data).
    while True:
        session.connection_made(now)
        actions = session.connection_lost(now + 0.01, "the server closed the connection", [])
        now += 0.5
        while type(actions[0]) is Wait:
            now = max(now, actions[0].until)
            actions = session.tick(now)
        if type(actions[0]) is not Connect:
            break
        assert actions == [Connect(A, CONNECT_TIMEOUT)], actions
        assert now < 7.0
    # Cut off for the session timeout (6 s since 1.0): ask the server how
    # far its data goes, at the first attempt from then.
    assert now >= 7.0
    assert actions[0] == FourLetter(A, "srvr", CONNECT_TIMEOUT)
    assert type(actions[1]) is Wait
    answer = "Zookeeper version: 3.8.0\nZxid: 0x5\nMode: standalone\n"
    assert session.four_letter_answer(now + 0.1, A, "srvr", answer) == [
        Connect(A, CONNECT_TIMEOUT)]
    assert handler.calls.count("on_session_expired") == 1
    assert session.protocol.session_id == 0  # the next handshake asks for a new one


def test_zxid_check_of_a_server_with_our_data_keeps_the_session() -> None:
    session, handler = make([A])
    connect(session, 0.0)
    session.protocol.last_zxid = 0x100
    session.connection_lost(1.0, "x", [])
    session.connection_made(8.0)
    actions = session.connection_lost(8.01, "the server closed the connection", [])
    while type(actions[0]) is Wait:
        actions = session.tick(actions[0].until)
    assert actions[0] == FourLetter(A, "srvr", CONNECT_TIMEOUT)
    answer = "Zxid: 0x200\nMode: standalone\n"
    assert session.four_letter_answer(8.1, A, "srvr", answer) == [Connect(A, CONNECT_TIMEOUT)]
    assert "on_session_expired" not in handler.calls
    assert session.protocol.session_id == 0x1234


def test_close_ends_the_life_cycle() -> None:
    session, handler = make([A])
    connect(session, 0.0)
    session.close_requested()
    assert session.connection_lost(1.0, "the server closed the connection", []) == [
        Stop("closed")]
    assert "on_disconnected" not in handler.calls
    session.finished()
    assert handler.calls[-1] == "on_closed"


def test_a_driver_that_keeps_waking_late_still_finds_a_dead_server() -> None:
    session, _ = make([A])
    assert connect(session, 0.0) == [Wait(2.0)]
    actions = session.tick(4.0)  # 2 s late: a pause; ping, read timeout from now
    assert sends_ping(actions) and actions[-1] == Wait(6.0)
    # Late again, but the ping sent after the pause went unanswered for the
    # read timeout meanwhile: that is proof.
    assert session.tick(8.0) == [Drop("no reply from the server in 4.00s")]


def test_a_failed_authentication_drops_the_connection_and_stops() -> None:
    session, handler = make([A])
    connect(session, 0.0)
    session.protocol.send(_digest_auth(), None)  # add_auth()
    receive(session, 1.0, frame(struct.pack(">iqi", Xid.AUTH, 0, -115)))  # AuthFailed
    assert handler.calls[-1] == "on_auth_failed"
    assert session.tick(1.0) == [Drop("authentication failed for scheme 'digest'")]
    assert session.connection_lost(1.1, "dropped", []) == [
        Stop("authentication failed for scheme 'digest'")]
    assert "on_disconnected" not in handler.calls


def _digest_auth() -> Any:
    from pykeeper.protocol.requests import Auth
    return Auth("digest", b"user:password")
