"""Regressions found by the hostile-server test (tests/security): replies
the core used to accept, or state it used to take from a frame it refused."""

from __future__ import annotations

import pytest

from pykeeper.protocol import ProtocolError, Reply
from pykeeper.protocol import requests as rq

from .test_client_protocol import connected, reply, stat_body


def test_bytes_after_a_successful_reply_are_refused() -> None:
    p = connected()
    request = rq.Exists("/a")
    p.send(request, "ctx")
    with pytest.raises(ProtocolError, match="3 unexpected bytes after the Exists reply"):
        p.receive(reply(1, 7, 0, stat_body() + b"\x00\x01\x02"))
    # The request was not answered: it fails with the connection.
    assert p.connection_lost() == [(request, "ctx")]


def test_a_shortened_inner_length_leaves_bytes_over_and_is_refused() -> None:
    p = connected()
    p.send(rq.GetData("/a"))
    body = b"\x00\x00\x00\x02" + b"abc" + stat_body()  # says 2 bytes of data, sends 3
    with pytest.raises(ProtocolError, match="1 unexpected bytes"):
        p.receive(reply(1, 7, 0, body))


def test_an_error_reply_may_carry_a_body() -> None:
    # As the Java client does, the body of an error reply is not read.
    p = connected()
    p.send(rq.Delete("/a"))
    events, _ = p.receive(reply(1, 7, -101, b"\x00\x00\x00\x09"))
    assert isinstance(events[0], Reply) and events[0].err == -101


@pytest.mark.parametrize("body", [b"", b"\x00\x00\x00\x00"])
def test_add_watch_reply_with_or_without_its_error_response(body: bytes) -> None:
    # A 3.6+ server answers addWatch with an ErrorResponse record (code 0).
    p = connected()
    p.send(rq.AddWatch("/a", print))
    events, _ = p.receive(reply(1, 7, 0, body))
    assert isinstance(events[0], Reply) and events[0].result is None


@pytest.mark.parametrize("bad", [
    reply(5, 0x7FFFFFFFFFFFFFFF, 0, stat_body()),             # wrong xid
    reply(1, 0x7FFFFFFFFFFFFFFF, 0, stat_body()[:-1]),         # cut short
    reply(1, 0x7FFFFFFFFFFFFFFF, 0, stat_body() + b"\x00"),    # a byte over
    reply(-1, 0x7FFFFFFFFFFFFFFF, 0, b"\x00\x00\x00\x01"),     # bad notification
    reply(-4, 0x7FFFFFFFFFFFFFFF, 0),                          # auth reply, none asked
])
def test_a_refused_frame_does_not_move_the_last_zxid(bad: bytes) -> None:
    # A server refuses a client claiming a zxid newer than its own: one
    # garbled frame must not lock the client out of every server.
    p = connected()
    p.send(rq.Exists("/a"))
    p.receive(reply(1, 40, 0, stat_body()))
    assert p.last_zxid == 40
    p.send(rq.Exists("/a"))
    with pytest.raises(ProtocolError):
        p.receive(bad)
    assert p.last_zxid == 40
    p.connection_lost()


def test_a_children_reply_cut_short_inside_its_stat_is_a_protocol_error() -> None:
    # (Found by the fuzz test: the names' fast path took a slice bound before
    # the read offset, counted from the far end of the data, and the stat
    # read then failed with struct.error instead of ProtocolError.)
    from pykeeper.protocol.errors import ProtocolError
    from pykeeper.protocol.jute import Reader

    body = b"\x00\x00\x00\x01\x00\x00\x00\x0200" + bytes(68)
    for cut in range(len(body)):
        reader = Reader(body[:cut])
        with pytest.raises(ProtocolError):
            reader.ustring_vector(trailing=68)
            reader.stat_fields()
            reader.expect_end("reply")
