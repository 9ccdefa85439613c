"""The protocol core against bytes a real server produced."""

from __future__ import annotations

import pytest

from pykeeper.protocol import (
    ClientProtocol, Connected, EventType, KeeperState, Notification, Reply, Stat,
)
from pykeeper.protocol import requests as rq
from pykeeper.protocol.records import OPEN_ACL_UNSAFE

from . import golden


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def connected_protocol() -> ClientProtocol:
    p = ClientProtocol(10000)
    assert p.connect_frame() == h(golden.CONNECT_REQUEST)
    events, frames = p.receive(h(golden.CONNECT_RESPONSE))
    assert frames == []
    assert events == [Connected(golden.SESSION_ID, 10000, False, True)]
    return p


def test_handshake_decodes_session() -> None:
    p = connected_protocol()
    assert p.session_id == golden.SESSION_ID
    assert len(p.password) == 16
    assert p.negotiated_timeout_ms == 10000
    assert p.connected


def test_create_and_get_data_replies_decode() -> None:
    p = connected_protocol()
    assert p.send(rq.Create("/golden", b"hello golden", OPEN_ACL_UNSAFE)) == h(golden.CREATE_REQUEST)
    watcher = object()
    (reply,), _ = p.receive(h(golden.CREATE_REPLY))
    assert isinstance(reply, Reply) and reply.err == 0
    path, stat = reply.result
    assert path == "/golden"
    expected = Stat(golden.CREATE_ZXID, golden.CREATE_ZXID, golden.CTIME, golden.CTIME,
                    0, 0, 0, 0, len(b"hello golden"), 0, golden.CREATE_ZXID)
    assert stat == expected
    assert p.send(rq.GetData("/golden", watcher)) == h(golden.GETDATA_REQUEST)
    (reply,), _ = p.receive(h(golden.GETDATA_REPLY))
    assert reply.result == (b"hello golden", expected)
    assert reply.result[1]["dataLength"] == 12
    assert p.watches.has("data", "/golden")
    assert p.last_zxid == golden.CREATE_ZXID


def test_notification_then_reply_fires_watcher_once() -> None:
    p = connected_protocol()
    p.send(rq.Create("/golden", b"hello golden", OPEN_ACL_UNSAFE))
    p.receive(h(golden.CREATE_REPLY))
    watcher = object()
    p.send(rq.GetData("/golden", watcher))
    p.receive(h(golden.GETDATA_REPLY))
    p.send(rq.SetData("/golden", b"changed"))
    events, _ = p.receive(h(golden.NOTIFICATION) + h(golden.SETDATA_REPLY))
    note, reply = events
    assert isinstance(note, Notification)
    assert note.event.type == EventType.CHANGED
    assert note.event.state == KeeperState.SYNC_CONNECTED
    assert note.event.path == "/golden"
    assert note.watchers == [watcher]
    assert reply.result.version == 1 and reply.result.dataLength == 7
    assert not p.watches.has("data", "/golden")
    # The same notification again fires nothing: the watch was one-shot.
    events, _ = p.receive(h(golden.NOTIFICATION))
    assert events[0].watchers == []


def test_error_reply_has_no_body() -> None:
    p = connected_protocol()
    for _ in range(3):
        p.send(rq.Sync("/"))
    p._pending.clear()
    p._xid = 3
    p.send(rq.GetData("/missing"))
    (reply,), _ = p.receive(h(golden.NONODE_REPLY))
    assert reply.err == -101 and reply.result is None


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_frames_split_anywhere_decode_the_same(chunk: int) -> None:
    p = connected_protocol()
    p.send(rq.Create("/golden", b"hello golden", OPEN_ACL_UNSAFE))
    p.send(rq.GetData("/golden", None))
    stream = h(golden.CREATE_REPLY) + h(golden.GETDATA_REPLY)
    events = []
    for i in range(0, len(stream), chunk):
        got, _ = p.receive(stream[i:i + chunk])
        events.extend(got)
    assert [e.request.opcode for e in events] == [15, 4]
    assert events[1].result[0] == b"hello golden"
