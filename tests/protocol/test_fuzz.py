"""Garbage, truncated and mutated frames: the core raises ProtocolError or
decodes them, and never raises anything else, loops or over-allocates."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from pykeeper.protocol import ClientProtocol, ProtocolError
from pykeeper.protocol import requests as rq
from pykeeper.protocol.records import OPEN_ACL_UNSAFE

from . import golden

REPLIES = [bytes.fromhex(x) for x in (golden.CREATE_REPLY, golden.GETDATA_REPLY,
                                       golden.NOTIFICATION, golden.SETDATA_REPLY,
                                       golden.NONODE_REPLY)]
PENDING = [
    lambda: rq.Create("/golden", b"", OPEN_ACL_UNSAFE),
    lambda: rq.GetData("/golden", print),
    lambda: rq.GetChildren("/golden", print),
    lambda: rq.Exists("/golden", print),
    lambda: rq.GetACL("/golden"),
    lambda: rq.SetData("/golden", b""),
    lambda: rq.Sync("/"),
    lambda: rq.GetEphemerals("/"),
    lambda: rq.Multi([rq.Create("/a", b"", OPEN_ACL_UNSAFE), rq.Delete("/b")]),
    lambda: rq.Multi([rq.GetData("/a"), rq.GetChildren("/b")], read=True),
]


def session(kinds) -> ClientProtocol:
    p = ClientProtocol(10000, max_frame=1 << 20)
    p.connect_frame()
    p.receive(bytes.fromhex(golden.CONNECT_RESPONSE))
    for kind in kinds:
        p.send(PENDING[kind]())
    return p


def feed(p: ClientProtocol, data: bytes) -> None:
    try:
        events, _ = p.receive(data)
    except ProtocolError:
        return
    assert len(events) <= len(data) // 4


pending_kinds = st.lists(st.integers(0, len(PENDING) - 1), min_size=1, max_size=5)
fuzz = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))


@fuzz
@given(pending_kinds, st.binary(max_size=300))
def test_random_bytes(kinds, data) -> None:
    feed(session(kinds), data)


@fuzz
@given(pending_kinds, st.binary(max_size=200))
def test_random_bodies_in_valid_frames(kinds, body) -> None:
    # A well-framed reply with xid 1 and a random body reaches every decoder.
    header = struct.pack(">iqi", 1, 5, 0)
    feed(session(kinds), struct.pack(">i", len(header + body)) + header + body)


@fuzz
@given(pending_kinds, st.sampled_from(REPLIES), st.data())
def test_truncated_replies(kinds, frame, data) -> None:
    cut = data.draw(st.integers(0, len(frame) - 5))
    body = frame[4:4 + cut]
    # Re-frame so the length prefix matches: the body itself is cut short.
    feed(session(kinds), struct.pack(">i", len(body)) + body)


@fuzz
@given(pending_kinds, st.sampled_from(REPLIES),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_replies(kinds, frame, flips) -> None:
    mutated = bytearray(frame)
    for index, value in flips:
        mutated[index % len(mutated)] = value
    feed(session(kinds), bytes(mutated))


@fuzz
@given(st.binary(max_size=80))
def test_garbage_handshake(data) -> None:
    p = ClientProtocol(10000, max_frame=1 << 20)
    p.connect_frame()
    feed(p, struct.pack(">i", len(data)) + data)


def test_huge_length_prefix_does_not_allocate() -> None:
    p = session([0])
    try:
        p.receive(struct.pack(">i", 0x7FFFFFF0) + b"\x00" * 8)
    except ProtocolError as exc:
        assert "frame length" in str(exc)
    else:
        raise AssertionError("a 2 GiB frame was accepted")
    assert len(p._buffer) == 0 or len(p._buffer) <= 12
