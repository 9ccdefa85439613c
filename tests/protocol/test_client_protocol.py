"""The ClientProtocol state machine, fed frames built from the jute spec."""

from __future__ import annotations

import struct

import pytest

from pykeeper.protocol import (
    AuthReply, ClientProtocol, Connected, EventType, PingReply, ProtocolError,
    SessionExpired, SetWatchesReply,
)
from pykeeper.protocol import requests as rq
from pykeeper.protocol.client_protocol import SET_WATCHES_LIMIT

from . import jute_schema as js

PASSWORD = bytes(range(16))


def frame(*parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">i", len(body)) + body


def connect_response(session_id: int = 0x1234, timeout: int = 4000) -> bytes:
    return frame(js.encode("ConnectResponse", {"protocolVersion": 0, "timeOut": timeout,
                                               "sessionId": session_id, "passwd": PASSWORD,
                                               "readOnly": False}))


def reply(xid: int, zxid: int = 0, err: int = 0, body: bytes = b"") -> bytes:
    return frame(js.encode("ReplyHeader", {"xid": xid, "zxid": zxid, "err": err}), body)


def notification(event_type: int, path: str) -> bytes:
    return reply(-1, -1, 0, js.encode("WatcherEvent", {"type": event_type, "state": 3,
                                                         "path": path}))


def stat_body(version: int = 0) -> bytes:
    return js.encode("ExistsResponse", {"stat": (1, 2, 3, 4, version, 0, 0, 0, 0, 0, 5)})


def decode_request(data: bytes):
    length = struct.unpack_from(">i", data)[0]
    assert length == len(data) - 4
    return js.decode("RequestHeader", data, 4)


def connected(**kwargs) -> ClientProtocol:
    p = ClientProtocol(4000, **kwargs)
    p.connect_frame()
    events, _ = p.receive(connect_response())
    assert isinstance(events[0], Connected)
    return p


def test_send_before_session_is_refused() -> None:
    p = ClientProtocol()
    with pytest.raises(RuntimeError):
        p.send(rq.Sync("/"))


def test_xids_increase_and_replies_match_in_order() -> None:
    p = connected()
    ctx = [object() for _ in range(3)]
    xids = [decode_request(p.send(rq.Sync("/"), c))[0]["xid"] for c in ctx]
    assert xids == [1, 2, 3]
    body = js.encode("SyncResponse", {"path": "/"})
    events, _ = p.receive(reply(1, 7, 0, body) + reply(2, 8, 0, body))
    assert [e.context for e in events] == ctx[:2]
    assert p.last_zxid == 8
    with pytest.raises(ProtocolError, match="out of order"):
        p.receive(reply(5, 9, 0, body))


def test_reply_without_request_is_a_protocol_error() -> None:
    p = connected()
    with pytest.raises(ProtocolError):
        p.receive(reply(1))


def test_unknown_negative_xid_is_a_protocol_error() -> None:
    p = connected()
    with pytest.raises(ProtocolError, match="unknown xid"):
        p.receive(reply(-99))


def test_ping_and_set_watches_replies() -> None:
    p = connected()
    assert decode_request(p.ping_frame())[0] == {"xid": -2, "type": 11}
    events, _ = p.receive(reply(-2) + reply(-8, 0, -4))
    assert events == [PingReply(), SetWatchesReply(-4)]


def test_exists_on_missing_node_arms_exist_watch() -> None:
    p = connected()
    watcher = object()
    p.send(rq.Exists("/a", watcher))
    events, _ = p.receive(reply(1, 3, -101))
    assert events[0].err == -101
    assert p.watches.has("exist", "/a") and not p.watches.has("data", "/a")
    events, _ = p.receive(notification(EventType.CREATED, "/a"))
    assert events[0].watchers == [watcher]
    assert len(p.watches) == 0


def test_failed_get_data_arms_nothing() -> None:
    p = connected()
    p.send(rq.GetData("/a", object()))
    p.receive(reply(1, 3, -101))
    assert len(p.watches) == 0


def test_deleted_fires_data_and_child_watchers_each_once() -> None:
    p = connected()
    w1, w2 = object(), object()
    p.send(rq.GetData("/n", w1))
    p.send(rq.GetChildren("/n", w1))
    p.send(rq.Exists("/n", w2))
    data = js.encode("GetDataResponse", {"data": b"x", "stat": (0,) * 11})
    kids = js.encode("GetChildren2Response", {"children": [], "stat": (0,) * 11})
    p.receive(reply(1, 1, 0, data) + reply(2, 1, 0, kids) + reply(3, 1, 0, stat_body()))
    (note,), _ = p.receive(notification(EventType.DELETED, "/n"))
    assert note.watchers == [w1, w2]


def test_child_event_fires_only_child_watchers() -> None:
    p = connected()
    wd, wc = object(), object()
    p.send(rq.GetData("/n", wd))
    p.send(rq.GetChildren("/n", wc))
    data = js.encode("GetDataResponse", {"data": b"", "stat": (0,) * 11})
    kids = js.encode("GetChildren2Response", {"children": [], "stat": (0,) * 11})
    p.receive(reply(1, 1, 0, data) + reply(2, 1, 0, kids))
    (note,), _ = p.receive(notification(EventType.CHILD, "/n"))
    assert note.watchers == [wc]
    assert p.watches.has("data", "/n")


def test_persistent_and_recursive_watches_stay_armed() -> None:
    p = connected()
    wp, wr = object(), object()
    p.watches.add("persistent", "/p", wp)
    p.watches.add("recursive", "/r", wr)
    for _ in range(2):
        (a, b, c), _ = p.receive(notification(EventType.CHANGED, "/p")
                                 + notification(EventType.CREATED, "/r/x/y")
                                 + notification(EventType.CHILD, "/r"))
        assert a.watchers == [wp] and b.watchers == [wr] and c.watchers == []


def test_chroot_is_stripped_from_events_and_results() -> None:
    p = connected(chroot="/app")
    watcher = object()
    sent = p.send(rq.GetData("/cfg", watcher))
    assert js.decode("GetDataRequest", sent, 12)[0]["path"] == "/app/cfg"
    data = js.encode("GetDataResponse", {"data": b"v", "stat": (0,) * 11})
    p.receive(reply(1, 1, 0, data))
    (note,), _ = p.receive(notification(EventType.CHANGED, "/app/cfg"))
    assert note.event.path == "/cfg" and note.watchers == [watcher]


def test_connection_lost_returns_waiting_requests_and_keeps_session() -> None:
    p = connected()
    a, b = object(), object()
    p.send(rq.Sync("/"), a)
    p.send(rq.Sync("/"), b)
    lost = p.connection_lost()
    assert [ctx for _, ctx in lost] == [a, b]
    assert not p.connected and p.session_id == 0x1234
    # The next handshake resumes the session.
    values, _ = js.decode("ConnectRequest", p.connect_frame()[4:])
    assert values["sessionId"] == 0x1234 and values["passwd"] == PASSWORD


def test_resumed_session_re_arms_watches_and_credentials() -> None:
    p = connected()
    p.send(rq.Auth("digest", b"u:p"), "ctx")
    p.receive(reply(-4))
    watcher = object()
    p.send(rq.GetData("/d", watcher))
    p.send(rq.GetChildren("/c", watcher))
    p.send(rq.Exists("/e", watcher))
    data = js.encode("GetDataResponse", {"data": b"", "stat": (0,) * 11})
    kids = js.encode("GetChildren2Response", {"children": [], "stat": (0,) * 11})
    p.receive(reply(1, 10, 0, data) + reply(2, 11, 0, kids) + reply(3, 12, -101))
    p.connection_lost()
    p.connect_frame()
    events, frames = p.receive(connect_response())
    assert events[0] == Connected(0x1234, 4000, False, False)
    auth, watches = frames
    assert decode_request(auth)[0] == {"xid": -4, "type": 100}
    header, offset = decode_request(watches)
    assert header == {"xid": -8, "type": 101}
    values, _ = js.decode("SetWatches", watches, offset)
    assert values == {"relativeZxid": 12, "dataWatches": ["/d"], "existWatches": ["/e"],
                      "childWatches": ["/c"]}
    # The re-sent auth's reply has no caller waiting.
    events, _ = p.receive(reply(-4))
    assert events == [AuthReply(p.auth[0], None, 0)]


def test_large_watch_sets_are_split_below_the_limit() -> None:
    p = connected()
    watcher = object()
    paths = [f"/node/{i:06d}/" + "x" * 100 for i in range(5000)]
    for path in paths:
        p.watches.add("data", path, watcher)
    p.connection_lost()
    p.connect_frame()
    _, frames = p.receive(connect_response())
    assert len(frames) > 1
    seen = []
    for f in frames:
        assert len(f) < SET_WATCHES_LIMIT
        header, offset = decode_request(f)
        values, _ = js.decode("SetWatches", f, offset)
        seen.extend(values["dataWatches"])
    assert seen == paths


def test_expired_session_reports_every_watcher_and_resets() -> None:
    p = connected()
    w = object()
    p.send(rq.GetData("/d", w))
    p.receive(reply(1, 10, 0, js.encode("GetDataResponse", {"data": b"", "stat": (0,) * 11})))
    p.connection_lost()
    p.connect_frame()
    events, frames = p.receive(connect_response(session_id=0, timeout=0))
    assert events == [SessionExpired(0x1234, [w])]
    assert frames == [] and p.session_id == 0 and p.last_zxid == 0 and len(p.watches) == 0


def test_auth_failure_is_reported() -> None:
    p = connected()
    p.send(rq.Auth("bogus", b"x"), "ctx")
    events, _ = p.receive(reply(-4, 0, -115))
    assert events[0].err == -115 and events[0].context == "ctx"
    assert p.auth == []


def test_idle_counts_credentials_awaiting_their_answer() -> None:
    p = connected()
    assert p.idle
    p.send(rq.Auth("digest", b"u:p"), "auth")
    assert not p.idle and p.pending_count == 0
    p.receive(reply(-4))
    assert p.idle
    p.send(rq.GetData("/a"), "a")
    assert not p.idle


def test_requests_wait_for_pending_credentials() -> None:
    p = connected()
    auth_frame = p.send(rq.Auth("digest", b"u:p"), "auth")
    assert decode_request(auth_frame)[0] == {"xid": -4, "type": 100}
    assert p.send(rq.GetData("/a"), "a") == b"" and p.send(rq.Exists("/b"), "b") == b""
    # Accepted: the held requests go out, in order.
    events, frames = p.receive(reply(-4))
    assert events == [AuthReply(p.auth[0], "auth", 0)]
    assert [decode_request(f)[0] for f in frames] == [{"xid": 1, "type": 4},
                                                      {"xid": 2, "type": 3}]
    assert p.send(rq.Exists("/c")) != b""  # nothing pending: sent at once
    # Refused: they stay held, and fail with the connection the server closes.
    p.send(rq.Auth("bogus", b"x"), "bad")
    assert p.send(rq.GetData("/d"), "d") == b""
    events, frames = p.receive(reply(-4, 0, -115))
    assert events[0].err == -115 and frames == []
    lost = p.connection_lost()
    assert [context for _, context in lost] == ["a", "b", None, "d"]  # (no replies came)


def test_oversized_frame_is_rejected_before_buffering_it() -> None:
    p = connected(max_frame=1000)
    with pytest.raises(ProtocolError, match="frame length"):
        p.receive(struct.pack(">i", 1001))
    p2 = connected()
    with pytest.raises(ProtocolError):
        p2.receive(struct.pack(">i", -5))


def test_oversized_request_is_refused_before_sending() -> None:
    p = connected()
    with pytest.raises(ValueError, match="jute.maxbuffer"):
        p.send(rq.SetData("/big", b"x" * 0xFFFFF))
    assert p.pending_count == 0
    assert decode_request(p.send(rq.Sync("/")))[0]["xid"] == 1


def test_read_only_session_is_not_resumed_until_a_read_write_server_accepts_it() -> None:
    p = ClientProtocol(4000, can_be_read_only=True)
    p.connect_frame()
    ro = frame(js.encode("ConnectResponse", {"protocolVersion": 0, "timeOut": 4000,
                                             "sessionId": 0x77, "passwd": PASSWORD,
                                             "readOnly": True}))
    events, _ = p.receive(ro)
    assert events[0].read_only and p.read_only
    p.connection_lost()
    values, _ = js.decode("ConnectRequest", p.connect_frame()[4:])
    # The read-only server's session is local to it: ask for a new one.
    assert values["sessionId"] == 0 and values["readOnly"] is True
    events, _ = p.receive(connect_response(session_id=0x99))
    # What was armed in the local session is reported gone, as on expiry.
    assert events == [SessionExpired(0x77, []), Connected(0x99, 4000, False, True)]
    p.connection_lost()
    values, _ = js.decode("ConnectRequest", p.connect_frame()[4:])
    assert values["sessionId"] == 0x99


def test_refused_handshake_names_the_error() -> None:
    p = ClientProtocol(4000, can_be_read_only=True)
    p.connect_frame()
    with pytest.raises(ProtocolError, match="refused the session: NotReadOnlyException"):
        p.receive(reply(0, 1 << 32, -119))


def test_replies_decoded_before_a_protocol_error_are_not_lost() -> None:
    p = connected()
    first, second = object(), object()
    p.send(rq.Sync("/"), first)
    p.send(rq.Sync("/"), second)
    body = js.encode("SyncResponse", {"path": "/"})
    with pytest.raises(ProtocolError) as info:
        p.receive(reply(1, 5, 0, body) + reply(99, 6, 0, body))
    assert [e.context for e in info.value.events] == [first]
    assert [ctx for _, ctx in p.connection_lost()] == [second]


def test_a_reply_that_fails_to_decode_leaves_its_request_to_fail() -> None:
    p = connected()
    waiting = object()
    p.send(rq.GetData("/x"), waiting)
    with pytest.raises(ProtocolError):
        p.receive(reply(1, 5, 0, b"\x00\x00"))  # a truncated GetDataResponse
    assert [ctx for _, ctx in p.connection_lost()] == [waiting]


def test_refused_auth_is_not_queued() -> None:
    p = connected(max_request=100)
    with pytest.raises(ValueError):
        p.send(rq.Auth("digest", b"u:" + b"x" * 200), "too big")
    p.send(rq.Auth("digest", b"u:p"), "fits")
    events, _ = p.receive(reply(-4))
    assert events[0].context == "fits" and len(p.auth) == 1


def test_clear_reports_each_watcher_once_and_copes_with_unhashable_ones() -> None:
    from pykeeper.protocol.watches import WatchRegistry

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, event) -> None:
            pass

    registry = WatchRegistry()
    shared = object()
    for i in range(20000):
        registry.add("data", f"/n{i}", shared if i % 2 else (lambda e, i=i: None))
    registry.add("child", "/n1", shared)
    found = registry.clear()
    assert len(found) == 10001 and found.count(shared) == 1 and len(registry) == 0
    odd = Unhashable()
    registry.add("data", "/a", odd)
    registry.add("child", "/a", odd)
    assert registry.clear() == [odd]
