"""An independent, schema-driven jute codec for tests, written from the
record definitions in ZooKeeper's zookeeper.jute. The client's own codec
is checked against it."""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Tuple

# Field types: int, long, bool, buffer, ustring, [ustring] (vector), stat, acls.
SCHEMAS: Dict[str, List[Tuple[str, str]]] = {
    "ConnectRequest": [("protocolVersion", "int"), ("lastZxidSeen", "long"), ("timeOut", "int"),
                       ("sessionId", "long"), ("passwd", "buffer"), ("readOnly", "bool")],
    "ConnectResponse": [("protocolVersion", "int"), ("timeOut", "int"), ("sessionId", "long"),
                        ("passwd", "buffer"), ("readOnly", "bool")],
    "RequestHeader": [("xid", "int"), ("type", "int")],
    "ReplyHeader": [("xid", "int"), ("zxid", "long"), ("err", "int")],
    "CreateRequest": [("path", "ustring"), ("data", "buffer"), ("acl", "acls"), ("flags", "int")],
    "CreateTTLRequest": [("path", "ustring"), ("data", "buffer"), ("acl", "acls"),
                         ("flags", "int"), ("ttl", "long")],
    "Create2Response": [("path", "ustring"), ("stat", "stat")],
    "DeleteRequest": [("path", "ustring"), ("version", "int")],
    "ExistsRequest": [("path", "ustring"), ("watch", "bool")],
    "GetDataRequest": [("path", "ustring"), ("watch", "bool")],
    "GetDataResponse": [("data", "buffer"), ("stat", "stat")],
    "SetDataRequest": [("path", "ustring"), ("data", "buffer"), ("version", "int")],
    "SetDataResponse": [("stat", "stat")],
    "ExistsResponse": [("stat", "stat")],
    "GetACLRequest": [("path", "ustring")],
    "GetACLResponse": [("acl", "acls"), ("stat", "stat")],
    "SetACLRequest": [("path", "ustring"), ("acl", "acls"), ("version", "int")],
    "SetACLResponse": [("stat", "stat")],
    "GetChildren2Request": [("path", "ustring"), ("watch", "bool")],
    "GetChildren2Response": [("children", "[ustring]"), ("stat", "stat")],
    "SyncRequest": [("path", "ustring")],
    "SyncResponse": [("path", "ustring")],
    "CheckVersionRequest": [("path", "ustring"), ("version", "int")],
    "GetEphemeralsRequest": [("prefixPath", "ustring")],
    "GetEphemeralsResponse": [("ephemerals", "[ustring]")],
    "GetAllChildrenNumberRequest": [("path", "ustring")],
    "GetAllChildrenNumberResponse": [("totalNumber", "int")],
    "AddWatchRequest": [("path", "ustring"), ("mode", "int")],
    "RemoveWatchesRequest": [("path", "ustring"), ("type", "int")],
    "AuthPacket": [("type", "int"), ("scheme", "ustring"), ("auth", "buffer")],
    "GetSASLRequest": [("token", "buffer")],
    "SetSASLResponse": [("token", "buffer")],
    "SetWatches": [("relativeZxid", "long"), ("dataWatches", "[ustring]"),
                   ("existWatches", "[ustring]"), ("childWatches", "[ustring]")],
    "SetWatches2": [("relativeZxid", "long"), ("dataWatches", "[ustring]"),
                    ("existWatches", "[ustring]"), ("childWatches", "[ustring]"),
                    ("persistentWatches", "[ustring]"),
                    ("persistentRecursiveWatches", "[ustring]")],
    "WatcherEvent": [("type", "int"), ("state", "int"), ("path", "ustring")],
    "MultiHeader": [("type", "int"), ("done", "bool"), ("err", "int")],
    "ErrorResponse": [("err", "int")],
    "GetChildrenResponse": [("children", "[ustring]")],
}

STAT_FIELDS = [("czxid", "long"), ("mzxid", "long"), ("ctime", "long"), ("mtime", "long"),
               ("version", "int"), ("cversion", "int"), ("aversion", "int"),
               ("ephemeralOwner", "long"), ("dataLength", "int"), ("numChildren", "int"),
               ("pzxid", "long")]


def encode(record: str, values: Dict[str, Any]) -> bytes:
    out = bytearray()
    for name, kind in SCHEMAS[record]:
        _put(out, kind, values[name])
    return bytes(out)


def _put(out: bytearray, kind: str, value: Any) -> None:
    if kind == "int":
        out += struct.pack(">i", value)
    elif kind == "long":
        out += struct.pack(">q", value)
    elif kind == "bool":
        out += b"\x01" if value else b"\x00"
    elif kind == "buffer":  # (a null buffer: length -1)
        out += struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value
    elif kind == "ustring":
        raw = value.encode("utf-8")
        out += struct.pack(">i", len(raw)) + raw
    elif kind == "[ustring]":
        out += struct.pack(">i", len(value))
        for item in value:
            _put(out, "ustring", item)
    elif kind == "stat":
        for (name, sub), item in zip(STAT_FIELDS, value):
            _put(out, sub, item)
    elif kind == "acls":
        out += struct.pack(">i", len(value))
        for perms, scheme, ident in value:
            _put(out, "int", perms)
            _put(out, "ustring", scheme)
            _put(out, "ustring", ident)
    else:
        raise AssertionError(kind)


def decode(record: str, data: bytes, offset: int = 0) -> Tuple[Dict[str, Any], int]:
    values: Dict[str, Any] = {}
    for name, kind in SCHEMAS[record]:
        values[name], offset = _get(data, offset, kind)
    return values, offset


def _get(data: bytes, offset: int, kind: str) -> Tuple[Any, int]:
    if kind == "int":
        return struct.unpack_from(">i", data, offset)[0], offset + 4
    if kind == "long":
        return struct.unpack_from(">q", data, offset)[0], offset + 8
    if kind == "bool":
        return data[offset] == 1, offset + 1
    if kind in ("buffer", "ustring"):
        n = struct.unpack_from(">i", data, offset)[0]
        offset += 4
        if n == -1:
            return None, offset
        raw = data[offset:offset + n]
        assert len(raw) == n, "truncated"
        return (raw.decode("utf-8") if kind == "ustring" else bytes(raw)), offset + n
    if kind == "[ustring]":
        n = struct.unpack_from(">i", data, offset)[0]
        offset += 4
        items = []
        for _ in range(max(n, 0)):
            item, offset = _get(data, offset, "ustring")
            items.append(item)
        return items, offset
    if kind == "stat":
        items = []
        for _, sub in STAT_FIELDS:
            item, offset = _get(data, offset, sub)
            items.append(item)
        return tuple(items), offset
    if kind == "acls":
        n = struct.unpack_from(">i", data, offset)[0]
        offset += 4
        acls = []
        for _ in range(n):
            perms, offset = _get(data, offset, "int")
            scheme, offset = _get(data, offset, "ustring")
            ident, offset = _get(data, offset, "ustring")
            acls.append((perms, scheme, ident))
        return acls, offset
    raise AssertionError(kind)
