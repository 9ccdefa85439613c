"""Frames fed to ClientProtocol as a server would send them.

Valid replies (records generated from the jute spec and framed as the
server frames them, with the matching requests pending) must decode to
exactly the records that were encoded, whether they arrive in one piece
or split at random points. Truncated frames must never produce a reply.
Garbage, truncated and mutated frames: the core raises ProtocolError or
decodes them, never raises anything else, loops or over-allocates; and
a mutated body that is still a valid encoding of its record decodes to
what an independent decoder (tests/protocol/jute_schema.py) reads in it.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from pykeeper.protocol import (
    ACL, ClientProtocol, Id, Notification, OpCode, ProtocolError, Reply, Stat, WatchedEvent,
    exception_for,
)
from pykeeper.protocol import requests as rq
from pykeeper.protocol.records import OPEN_ACL_UNSAFE

from . import golden
from . import jute_schema as js

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
HEADER = 16  # a reply header: xid, zxid, err


def session(kinds, chroot: str = "", contexts=()) -> ClientProtocol:
    """A protocol past its handshake with requests pending: PENDING[kind]
    for an int kind, else the request itself (with its context, if given)."""
    p = ClientProtocol(10000, chroot=chroot, max_frame=1 << 20)
    p.connect_frame()
    events, _ = p.receive(bytes.fromhex(golden.CONNECT_RESPONSE))
    assert p.connected and len(events) == 1
    contexts = list(contexts) or [None] * len(kinds)
    for kind, context in zip(kinds, contexts):
        p.send(PENDING[kind]() if isinstance(kind, int) else kind, context)
    return p


def feed_all(p: ClientProtocol, data: bytes) -> Tuple[List[Any], bool]:
    """(the events `data` decodes to, whether the core refused what follows them)."""
    try:
        events, _ = p.receive(data)
        refused = False
    except ProtocolError as exc:
        events, refused = exc.events, True  # type: ignore[attr-defined]
    assert len(events) <= len(data) // 4
    return events, refused


def feed(p: ClientProtocol, data: bytes) -> Optional[List[Any]]:
    """The events `data` decodes to, or None if the core refused any of it."""
    events, refused = feed_all(p, data)
    return None if refused else events


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def reply_frame(xid: int, zxid: int, err: int, body: bytes = b"") -> bytes:
    return frame(js.encode("ReplyHeader", {"xid": xid, "zxid": zxid, "err": err}) + body)


# -- valid records, as the server encodes them ------------------------------

names = st.one_of(
    # Short ASCII names, as most nodes have (the decoder has a fast path for them).
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="/"),
            min_size=1, max_size=20),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
            min_size=1, max_size=12),
    # ASCII names around the 127/128-byte edge of the decoder's fast path.
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="/"),
            min_size=120, max_size=140),
)
paths = st.lists(names, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
chroots = st.one_of(st.just(""), paths)
datas = st.binary(max_size=300)
ints = st.integers(-(2 ** 31), 2 ** 31 - 1)
longs = st.integers(-(2 ** 63), 2 ** 63 - 1)
stats = st.tuples(longs, longs, longs, longs, ints, ints, ints, longs, ints, ints, longs)
acl_entries = st.tuples(ints, st.sampled_from(["world", "digest", "ip", "auth", "x509"]),
                        st.text(max_size=30))
error_codes = st.sampled_from([-101, -102, -103, -108, -110, -111, -112, -114, -118, -119, -4,
                               -7, -1234])


class Case(NamedTuple):
    """A request, the reply body the server sends for it, and what it must decode to."""

    request: rq.Request
    err: int
    body: bytes
    expected: Any
    record: Optional[str] = None  # the jute record of the body, when it is one


def comparable(result: Any) -> Any:
    """Results with exceptions (a multi's) made comparable."""
    if isinstance(result, BaseException):
        return (type(result), getattr(result, "code", None), getattr(result, "path", None))
    if isinstance(result, list):
        return [comparable(r) for r in result]
    return result


SINGLE_KINDS = ["create", "get", "children", "exists", "get_acl", "set", "set_acl", "sync",
                "ephemerals", "count", "delete"]


@st.composite
def single_cases(draw, chroot: str, kind: Optional[str] = None) -> Case:
    if kind is None:
        kind = draw(st.sampled_from(SINGLE_KINDS))
    path = draw(paths)
    full = rq.full_path(chroot, path)
    stat = draw(stats)
    if kind == "create":
        request: rq.Request = rq.Create(path, draw(datas), OPEN_ACL_UNSAFE)
        values = {"path": full, "stat": stat}
        return Case(request, 0, js.encode("Create2Response", values), (path, Stat(*stat)),
                    "Create2Response")
    if kind == "get":
        data = draw(datas)
        values = {"data": data, "stat": stat}
        return Case(rq.GetData(path), 0, js.encode("GetDataResponse", values),
                    (data, Stat(*stat)), "GetDataResponse")
    if kind == "children":
        children = draw(st.lists(names, max_size=12))
        values = {"children": children, "stat": stat}
        return Case(rq.GetChildren(path), 0, js.encode("GetChildren2Response", values),
                    (children, Stat(*stat)), "GetChildren2Response")
    if kind == "exists":
        return Case(rq.Exists(path), 0, js.encode("ExistsResponse", {"stat": stat}), Stat(*stat),
                    "ExistsResponse")
    if kind == "get_acl":
        acl = draw(st.lists(acl_entries, min_size=1, max_size=4))
        values = {"acl": acl, "stat": stat}
        expected = ([ACL(p, Id(s, i)) for p, s, i in acl], Stat(*stat))
        return Case(rq.GetACL(path), 0, js.encode("GetACLResponse", values), expected,
                    "GetACLResponse")
    if kind == "set":
        return Case(rq.SetData(path, draw(datas)), 0, js.encode("SetDataResponse", {"stat": stat}),
                    Stat(*stat), "SetDataResponse")
    if kind == "set_acl":
        return Case(rq.SetACL(path, OPEN_ACL_UNSAFE), 0,
                    js.encode("SetACLResponse", {"stat": stat}), Stat(*stat), "SetACLResponse")
    if kind == "sync":
        return Case(rq.Sync(path), 0, js.encode("SyncResponse", {"path": full}), path,
                    "SyncResponse")
    if kind == "ephemerals":
        found = draw(st.lists(paths, max_size=6))
        body = js.encode("GetEphemeralsResponse",
                         {"ephemerals": [rq.full_path(chroot, f) for f in found]})
        return Case(rq.GetEphemerals(path), 0, body, found, "GetEphemeralsResponse")
    if kind == "count":
        count = draw(st.integers(0, 2 ** 31 - 1))
        return Case(rq.GetAllChildrenNumber(path), 0,
                    js.encode("GetAllChildrenNumberResponse", {"totalNumber": count}), count,
                    "GetAllChildrenNumberResponse")
    return Case(rq.Delete(path), 0, b"", None)


def _multi_header(op_type: int, done: bool = False, err: int = 0) -> bytes:
    return js.encode("MultiHeader", {"type": op_type, "done": done, "err": err})


_MULTI_END = _multi_header(-1, True, -1)


@st.composite
def multi_cases(draw, chroot: str) -> Case:
    """A transaction that applied, or one whose op `failed` was refused
    (then the ops before it report 0, those after it -2, as the server does)."""
    kinds = draw(st.lists(st.sampled_from(["create", "set", "delete", "check"]),
                          min_size=1, max_size=5))
    ops: List[rq.Request] = []
    for kind in kinds:
        path = draw(paths)
        ops.append({"create": lambda: rq.Create(path, b"", OPEN_ACL_UNSAFE),
                    "set": lambda: rq.SetData(path, b"v"),
                    "delete": lambda: rq.Delete(path),
                    "check": lambda: rq.Check(path, 3)}[kind]())
    failed = draw(st.one_of(st.none(), st.integers(0, len(ops) - 1)))
    code = draw(error_codes)
    body = bytearray()
    expected: List[Any] = []
    for index, op in enumerate(ops):
        if failed is not None:
            err = 0 if index < failed else code if index == failed else -2
            body += _multi_header(OpCode.ERROR, False, err) + js.encode("ErrorResponse",
                                                                         {"err": err})
            expected.append(exception_for(err, op.path))
            continue
        stat = draw(stats)
        if isinstance(op, rq.Create):
            body += _multi_header(OpCode.CREATE2) + js.encode(
                "Create2Response", {"path": rq.full_path(chroot, op.path), "stat": stat})
            expected.append((op.path, Stat(*stat)))
        elif isinstance(op, rq.SetData):
            body += _multi_header(OpCode.SET_DATA) + js.encode("SetDataResponse", {"stat": stat})
            expected.append(Stat(*stat))
        else:
            body += _multi_header(op.opcode)
            expected.append(True)
    body += _MULTI_END
    return Case(rq.Multi(ops), 0, bytes(body), comparable(expected))


@st.composite
def multi_read_cases(draw, chroot: str) -> Case:
    kinds = draw(st.lists(st.sampled_from(["get", "children", "missing"]), min_size=1,
                          max_size=5))
    ops: List[rq.Request] = []
    body = bytearray()
    expected: List[Any] = []
    for kind in kinds:
        path = draw(paths)
        if kind == "children":
            ops.append(rq.GetChildren(path))
            children = draw(st.lists(names, max_size=5))
            body += _multi_header(OpCode.GET_CHILDREN) + js.encode("GetChildrenResponse",
                                                                    {"children": children})
            expected.append(children)
        else:
            ops.append(rq.GetData(path))
            if kind == "missing":
                body += _multi_header(OpCode.ERROR, False, -101) + js.encode("ErrorResponse",
                                                                             {"err": -101})
                expected.append(exception_for(-101, path))
            else:
                data, stat = draw(datas), draw(stats)
                body += _multi_header(OpCode.GET_DATA) + js.encode(
                    "GetDataResponse", {"data": data, "stat": stat})
                expected.append((data, Stat(*stat)))
    body += _MULTI_END
    return Case(rq.Multi(ops, read=True), 0, bytes(body), comparable(expected))


@st.composite
def error_cases(draw, chroot: str) -> Case:
    """Any request refused: a bare header with the error code, no result."""
    case = draw(single_cases(chroot))
    return Case(case.request, draw(error_codes), b"", None)


def cases(chroot: str) -> st.SearchStrategy[Case]:
    return st.one_of(single_cases(chroot), multi_cases(chroot), multi_read_cases(chroot),
                     error_cases(chroot))


@st.composite
def notifications(draw, chroot: str):
    """(frame, the event it must decode to): a watch fired on an unwatched path."""
    path = draw(paths)
    event_type, state = draw(st.sampled_from([1, 2, 3, 4, 5, 6])), draw(st.sampled_from([3, 5]))
    body = js.encode("WatcherEvent", {"type": event_type, "state": state,
                                      "path": rq.full_path(chroot, path)})
    return reply_frame(-1, -1, 0, body), WatchedEvent(event_type, state, path)


def split(data: bytes, cuts: List[int]) -> List[bytes]:
    points = [0] + sorted(c % (len(data) + 1) for c in cuts) + [len(data)]
    return [data[a:b] for a, b in zip(points, points[1:])]


valid = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@valid
@given(st.data())
def test_valid_replies_decode_to_their_records(data) -> None:
    chroot = data.draw(chroots, "chroot")
    replies = data.draw(st.lists(cases(chroot), min_size=1, max_size=8), "replies")
    notes = data.draw(st.lists(notifications(chroot), max_size=3), "notifications")
    # Where each notification goes among the replies.
    places = data.draw(st.lists(st.integers(0, len(replies)), min_size=len(notes),
                                max_size=len(notes)), "places")
    cuts = data.draw(st.lists(st.integers(0, 1 << 30), max_size=12), "cuts")
    base_zxid = data.draw(st.integers(1, 2 ** 62), "zxid")

    frames: List[bytes] = []
    expected: List[Callable[[Any], None]] = []
    contexts = [object() for _ in replies]

    def expect_reply(i: int, case: Case) -> Callable[[Any], None]:
        def check(event: Any) -> None:
            assert type(event) is Reply, event
            assert event.request is case.request and event.context is contexts[i]
            assert (event.zxid, event.err) == (base_zxid + i, case.err)
            assert comparable(event.result) == case.expected
        return check

    def expect_note(want: WatchedEvent) -> Callable[[Any], None]:
        def check(event: Any) -> None:
            assert type(event) is Notification, event
            assert event.event == want and event.watchers == []
        return check

    for i, case in enumerate(replies + [None]):  # type: ignore[list-item]
        for (note, want), place in zip(notes, places):
            if place == i:
                frames.append(note)
                expected.append(expect_note(want))
        if case is not None:
            frames.append(reply_frame(i + 1, base_zxid + i, case.err, case.body))
            expected.append(expect_reply(i, case))
    stream = b"".join(frames)

    for chunks in ([stream], split(stream, cuts)):
        p = session([case.request for case in replies], chroot, contexts)
        events: List[Any] = []
        for chunk in chunks:
            got, out = p.receive(chunk)
            assert out == []
            events.extend(got)
        assert len(events) == len(expected)
        for event, check in zip(events, expected):
            check(event)
        assert p.pending_count == 0
        assert p.last_zxid == base_zxid + len(replies) - 1


@pytest.mark.parametrize("kind", SINGLE_KINDS + ["multi", "multi_read"])
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_each_reply_kind_decodes_to_its_record(kind, data) -> None:
    chroot = data.draw(chroots, "chroot")
    make = {"multi": multi_cases, "multi_read": multi_read_cases}.get(kind)
    case = data.draw(make(chroot) if make else single_cases(chroot, kind), "case")
    whole = reply_frame(1, 9, case.err, case.body)
    cuts = data.draw(st.lists(st.integers(0, len(whole)), max_size=4), "cuts")
    p = session([case.request], chroot, ["ctx"])
    events = [e for chunk in split(whole, cuts) for e in p.receive(chunk)[0]]
    assert len(events) == 1 and type(events[0]) is Reply
    assert (events[0].context, events[0].zxid, events[0].err) == ("ctx", 9, 0)
    assert comparable(events[0].result) == case.expected
    assert p.pending_count == 0 and p.last_zxid == 9


@valid
@given(st.data())
def test_truncated_replies_never_reply(data) -> None:
    chroot = data.draw(chroots, "chroot")
    case = data.draw(cases(chroot), "case")
    whole = reply_frame(1, 77, case.err, case.body)
    cut = data.draw(st.integers(0, len(whole) - 5), "cut")

    # The frame's first bytes only: nothing yet, and the rest completes it.
    p = session([case.request], chroot)
    assert p.receive(whole[:4 + cut]) == ([], [])
    assert p.pending_count == 1
    events, _ = p.receive(whole[4 + cut:])
    assert len(events) == 1 and comparable(events[0].result) == case.expected

    # A frame whose body itself is cut short: refused, and the request is
    # still waiting (to fail with the connection), the zxid unmoved.
    p = session([case.request], chroot)
    zxid = p.last_zxid
    body = whole[4:4 + cut]
    with pytest.raises(ProtocolError) as refused:
        p.receive(frame(body))
    assert refused.value.events == []  # type: ignore[attr-defined]
    assert p.pending_count == 1 and p.last_zxid == zxid


def canonical(record: str, body: bytes) -> Optional[dict]:
    """The values of `body` if it is the one encoding of a `record` (what a
    server could have sent), by the independent codec; else None."""
    try:
        values, end = js.decode(record, body)
        if end != len(body) or js.encode(record, values) != body:
            return None
    except (struct.error, AssertionError, UnicodeDecodeError, TypeError, AttributeError,
            ValueError, IndexError):
        return None
    return values


def expected_result(record: str, values: dict) -> Any:
    stat = Stat(*values["stat"]) if "stat" in values else None
    return {
        "Create2Response": lambda: (values["path"], stat),
        "GetDataResponse": lambda: (values["data"], stat),
        "GetChildren2Response": lambda: (values["children"], stat),
        "ExistsResponse": lambda: stat,
        "SetDataResponse": lambda: stat,
        "SetACLResponse": lambda: stat,
        "GetACLResponse": lambda: ([ACL(p, Id(s, i)) for p, s, i in values["acl"]], stat),
        "SyncResponse": lambda: values["path"],
        "GetEphemeralsResponse": lambda: values["ephemerals"],
        "GetAllChildrenNumberResponse": lambda: values["totalNumber"],
    }[record]()


def decode_mutated(case: Case, body: bytes) -> Optional[Any]:
    """Feed `case.request`'s reply with `body`: the result, or None if refused.
    Checks it against the independent decoder both ways."""
    p = session([case.request])
    events = feed(p, reply_frame(1, 5, 0, body))
    values = canonical(case.record, body)
    if values is not None:
        # A valid record: it must decode, to what it holds.
        assert events is not None, f"a valid {case.record} was refused: {body.hex()}"
        assert len(events) == 1 and events[0].result == expected_result(case.record, values)
    if events is None:
        return None
    assert len(events) == 1 and type(events[0]) is Reply
    return events[0].result


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(single_cases(""), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)),
                                  min_size=1, max_size=4))
def test_mutated_bodies_agree_with_an_independent_decoder(case, flips) -> None:
    assume(case.record is not None and case.body)
    body = bytearray(case.body)
    for index, value in flips:
        body[index % len(body)] = value
    decode_mutated(case, bytes(body))


def test_single_byte_mutations_of_real_replies() -> None:
    """Every byte of each real server reply's body set to a few values. A
    changed Stat byte (fixed width: any value is valid) decodes to the
    changed Stat, a changed data byte to the changed data; a changed length
    prefix misaligns the record, which must be refused. A decoder that
    refused everything, or accepted anything, fails here."""
    real = [
        (rq.Create("/golden", b"", OPEN_ACL_UNSAFE), golden.CREATE_REPLY, "Create2Response"),
        (rq.GetData("/golden"), golden.GETDATA_REPLY, "GetDataResponse"),
        (rq.SetData("/golden", b"changed"), golden.SETDATA_REPLY, "SetDataResponse"),
    ]
    decoded = refused = 0
    for request, hexed, record in real:
        body = bytes.fromhex(hexed)[4 + HEADER:]
        stat_start = len(body) - 68
        prefixed = record != "SetDataResponse"  # a path or data buffer comes first
        for index in range(len(body)):
            for value in {0x00, 0x01, 0x7F, 0x80, 0xFF, body[index] ^ 0x20} - {body[index]}:
                mutated = bytearray(body)
                mutated[index] = value
                result = decode_mutated(Case(request, 0, body, None, record), bytes(mutated))
                if index >= stat_start:
                    stat = result if isinstance(result, Stat) else result[-1]
                    assert stat == Stat(*struct.unpack(">qqqqiiiqiiq", mutated[stat_start:]))
                elif prefixed and index < 4:
                    assert result is None, f"length prefix changed at {index}: {result!r}"
                elif record == "GetDataResponse":
                    assert result[0] == bytes(mutated[4:stat_start])
                if result is None:
                    refused += 1
                else:
                    decoded += 1
    assert decoded > (decoded + refused) * 0.6 and refused >= 8 * 4, (decoded, refused)


# -- garbage: ProtocolError or a decode, nothing else ------------------------

pending_kinds = st.lists(st.integers(0, len(PENDING) - 1), min_size=1, max_size=5)
fuzz = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


@fuzz
@given(pending_kinds, st.binary(max_size=300))
def test_random_bytes(kinds, data) -> None:
    feed(session(kinds), data)


@fuzz
@given(pending_kinds, st.binary(max_size=200))
def test_random_bodies_in_valid_frames(kinds, body) -> None:
    # A well-framed reply with xid 1 and a random body reaches every decoder.
    p = session(kinds)
    events = feed(p, reply_frame(1, 5, 0, body))
    if events is None:
        assert p.pending_count == len(kinds)  # nothing answered, nothing lost
    else:
        assert len(events) == 1 and type(events[0]) is Reply
        assert p.pending_count == len(kinds) - 1


def _as_xid_1(hexed: str) -> bytes:
    whole = bytearray(bytes.fromhex(hexed))
    whole[4:8] = struct.pack(">i", 1)
    return bytes(whole)


# Each real reply with the request it answers, renumbered as the first reply.
REAL_ANSWERS = [
    (lambda: rq.Create("/golden", b"", OPEN_ACL_UNSAFE), _as_xid_1(golden.CREATE_REPLY)),
    (lambda: rq.GetData("/golden"), _as_xid_1(golden.GETDATA_REPLY)),
    (lambda: rq.SetData("/golden", b"changed"), _as_xid_1(golden.SETDATA_REPLY)),
    (lambda: rq.GetData("/missing"), _as_xid_1(golden.NONODE_REPLY)),
    (lambda: rq.Sync("/"), bytes.fromhex(golden.NOTIFICATION)),
]


@fuzz
@given(pending_kinds, st.sampled_from(REPLIES), st.data())
def test_truncated_real_replies(kinds, whole, data) -> None:
    cut = data.draw(st.integers(0, len(whole) - 5))
    p = session(kinds)
    # The length prefix promises more than arrived: nothing decodes yet.
    assert p.receive(whole[:4 + cut]) == ([], [])
    assert p.pending_count == len(kinds)


@given(st.sampled_from(REAL_ANSWERS), st.data())
def test_truncated_real_replies_are_refused(answer, data) -> None:
    make, whole = answer
    cut = data.draw(st.integers(0, len(whole) - 5))
    p = session([make()])
    assert len(p.receive(whole)[0]) == 1  # whole, it decodes
    # Re-framed so the length prefix matches: the body itself is cut short.
    p = session([make()])
    assert feed(p, frame(whole[4:4 + cut])) is None
    assert p.pending_count == 1


@fuzz
@given(pending_kinds, st.sampled_from(REPLIES),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_replies(kinds, whole, flips) -> None:
    mutated = bytearray(whole)
    for index, value in flips:
        mutated[index % len(mutated)] = value
    p = session(kinds)
    events, _ = feed_all(p, bytes(mutated))
    # Each reply that decoded answered one request; the others still wait.
    replies = [e for e in events if type(e) is Reply]
    assert p.pending_count == len(kinds) - len(replies)


@fuzz
@given(st.binary(max_size=80))
def test_garbage_handshake(data) -> None:
    p = ClientProtocol(10000, max_frame=1 << 20)
    p.connect_frame()
    feed(p, struct.pack(">i", len(data)) + data)


def test_real_replies_decode() -> None:
    """The unmutated real frames the mutation tests start from decode."""
    p = session([0, 1, 5])
    events, _ = p.receive(b"".join(REPLIES[:4]))
    assert [type(e) for e in events] == [Reply, Reply, Notification, Reply]
    assert events[0].result[0] == "/golden" and events[1].result[0] == b"hello golden"
    assert events[3].result.version == 1


def test_huge_length_prefix_does_not_allocate() -> None:
    p = session([0])
    try:
        p.receive(struct.pack(">i", 0x7FFFFFF0) + b"\x00" * 8)
    except ProtocolError as exc:
        assert "frame length" in str(exc)
    else:
        raise AssertionError("a 2 GiB frame was accepted")
    assert len(p._buffer) == 0 or len(p._buffer) <= 12
