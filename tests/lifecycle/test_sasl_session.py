"""The session's side of SASL, with a fake clock and no server: a slow
mechanism (a KDC round trip) is not a dead server, a server that stops
answering during SASL is, and a server that requires SASL stops a client
without it whatever request it refuses first."""

from __future__ import annotations

import struct
from concurrent.futures import Future
from typing import Any, List, Optional, Tuple

import pytest

import pykeeper
from pykeeper.core.session import Drop, Send, Session, Stop
from pykeeper.protocol.client_protocol import ClientProtocol
from pykeeper.protocol.records import Xid
from pykeeper.protocol import requests as rq

from .test_session_lifecycle import (
    A, CONNECT_TIMEOUT, Recorder, connect_response, frame, receive,
)


class OneToken:
    name = "TEST"
    who = "user 'test'"

    def __init__(self) -> None:
        self.complete = False

    def respond(self, challenge: Optional[bytes]) -> Optional[bytes]:
        if challenge is None:
            return b"hello"
        self.complete = True
        return None


def sasl_reply(xid: int, err: int = 0) -> bytes:
    return frame(struct.pack(">iqi", xid, 0, err) + struct.pack(">i", -1))


def make(sasl: Any = None) -> Tuple[Session, Recorder]:
    handler = Recorder()
    session = Session([A], ClientProtocol(6000, "", sasl=sasl), handler, CONNECT_TIMEOUT, True)
    return session, handler


def handshake(session: Session, now: float) -> List[bytes]:
    session.start(now)
    session.connection_made(now)
    events, frames = session.receive(now + 0.01, connect_response())
    session.dispatch(events)
    return frames


def test_a_slow_mechanism_is_not_a_dead_server_but_silence_after_it_is() -> None:
    session, handler = make(lambda host: OneToken())
    frames = handshake(session, 0.0)
    assert len(frames) == 1 and "on_connected" not in handler.calls
    session.live.sent(0.9)  # (the driver writes the token late: the KDC was slow)
    assert not any(isinstance(a, Drop) for a in session.tick(1.5))
    assert session.tick(1.95) == [Drop("no reply from the server in 1.94s")]


def test_the_session_is_connected_when_sasl_is_done() -> None:
    session, handler = make(lambda host: OneToken())
    handshake(session, 0.0)
    receive(session, 0.2, sasl_reply(1))
    assert handler.calls[-1] == "on_connected" and session.state == "connected"


def test_a_refused_exchange_stops_the_session_in_auth_failed() -> None:
    session, handler = make(lambda host: OneToken())
    handshake(session, 0.0)
    receive(session, 0.2, sasl_reply(1, pykeeper.AuthFailedException.code))
    assert handler.calls[-1] == "on_auth_failed" and "on_connected" not in handler.calls
    assert isinstance(session.final_error, pykeeper.AuthFailedException)
    assert "user 'test'" in str(session.final_error)
    assert session.tick(0.3) == [Drop(str(session.final_error))]
    assert isinstance(session.connection_lost(0.3, "closed", [])[0], Stop)


@pytest.mark.parametrize("refused", ["a call", "a ping", "re-arming watches"])
def test_a_server_requiring_sasl_stops_a_client_without_it(refused: str) -> None:
    session, handler = make()
    handshake(session, 0.0)
    future: Any = None
    if refused == "a call":
        future = Future()
        session.protocol.send(rq.GetData("/app"), future)
        data = frame(struct.pack(">iqi", 1, 0, -124))
    elif refused == "a ping":
        data = frame(struct.pack(">iqi", Xid.PING, 0, -124))
    else:
        data = frame(struct.pack(">iqi", Xid.SET_WATCHES, 0, -124))
    receive(session, 0.1, data)
    assert handler.calls[-1] == "on_auth_failed"
    assert isinstance(session.final_error, pykeeper.SessionClosedRequireSaslException)
    assert "sasl_options" in str(session.final_error)
    if future is not None:
        error = future.exception(0)
        assert isinstance(error, pykeeper.SessionClosedRequireSaslException)
        assert error.path == "/app"
    assert isinstance(session.tick(0.2)[0], Drop)


def test_a_connection_lost_during_sasl_starts_over_on_the_next() -> None:
    made: List[OneToken] = []

    def factory(host: str) -> OneToken:
        made.append(OneToken())
        return made[-1]

    session, handler = make(factory)
    handshake(session, 0.0)
    lost = session.protocol.connection_lost()
    assert lost == [] and not session.protocol.authenticating
    session.connection_lost(0.1, "reset", lost)
    assert "on_disconnected" not in handler.calls  # (it was never connected)
    actions = session.tick(1.0)
    while not any(isinstance(a, Send) for a in actions):
        actions = session.connection_made(1.0) if session.state == "connecting" \
            else session.tick(1.0)
    events, frames = session.receive(1.01, connect_response())
    assert len(made) == 2 and len(frames) == 1
