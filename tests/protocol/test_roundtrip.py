"""Every request the client writes, and every reply it reads, checked
against an independent codec written from zookeeper.jute."""

from __future__ import annotations

import struct

from hypothesis import given, settings, strategies as st

from pykeeper.protocol import ClientProtocol, OpCode, Stat
from pykeeper.protocol import requests as rq
from pykeeper.protocol.jute import Reader, Writer
from pykeeper.protocol.records import ACL, Id

from . import jute_schema as js

names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                min_size=1, max_size=12)
paths = st.lists(names, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
chroots = st.one_of(st.just(""), paths)
datas = st.binary(max_size=200)
ints = st.integers(-(2 ** 31), 2 ** 31 - 1)
longs = st.integers(-(2 ** 63), 2 ** 63 - 1)
versions = st.integers(-1, 2 ** 31 - 1)
acl_entries = st.tuples(st.integers(0, 31), st.sampled_from(["world", "digest", "ip", "auth"]),
                        st.text(max_size=20))
acl_lists = st.lists(acl_entries, min_size=1, max_size=4)
stats = st.tuples(longs, longs, longs, longs, ints, ints, ints, longs, ints, ints, longs)


def written(request: rq.Request, chroot: str = "") -> bytes:
    w = Writer()
    request.write(w, chroot)
    return bytes(w.buf)


def acls(entries):
    return [ACL(p, Id(s, i)) for p, s, i in entries]


def full(chroot: str, path: str) -> str:
    return rq.full_path(chroot, path)


@given(paths, datas, acl_lists, st.sampled_from([0, 1, 2, 3]), chroots)
def test_create(path, data, acl, flags, chroot) -> None:
    req = rq.Create(path, data, acls(acl), flags)
    assert req.opcode == OpCode.CREATE2
    values, end = js.decode("CreateRequest", written(req, chroot))
    assert values == {"path": full(chroot, path), "data": data, "acl": acl, "flags": flags}
    assert end == len(written(req, chroot))


@given(paths, datas, acl_lists, st.sampled_from([5, 6]), st.integers(1, 2 ** 40))
def test_create_ttl(path, data, acl, flags, ttl) -> None:
    req = rq.Create(path, data, acls(acl), flags, ttl)
    assert req.opcode == OpCode.CREATE_TTL
    values, _ = js.decode("CreateTTLRequest", written(req))
    assert values == {"path": path, "data": data, "acl": acl, "flags": flags, "ttl": ttl}


def test_container_opcode() -> None:
    assert rq.Create("/c", b"", [], 4).opcode == OpCode.CREATE_CONTAINER


@given(paths, stats, chroots)
def test_create2_response(path, stat, chroot) -> None:
    body = js.encode("Create2Response", {"path": full(chroot, path), "stat": stat})
    result = rq.Create(path, b"", []).read_response(Reader(body), chroot)
    assert result == (path, Stat(*stat))


@given(paths, versions)
def test_delete_and_check(path, version) -> None:
    assert js.decode("DeleteRequest", written(rq.Delete(path, version)))[0] == {
        "path": path, "version": version}
    assert js.decode("CheckVersionRequest", written(rq.Check(path, version)))[0] == {
        "path": path, "version": version}


@given(paths, st.booleans(), chroots)
def test_watchable_reads(path, watch, chroot) -> None:
    watcher = print if watch else None
    for cls, record in ((rq.Exists, "ExistsRequest"), (rq.GetData, "GetDataRequest"),
                        (rq.GetChildren, "GetChildren2Request")):
        values, _ = js.decode(record, written(cls(path, watcher), chroot))
        assert values == {"path": full(chroot, path), "watch": watch}


@given(datas, stats)
def test_get_data_response(data, stat) -> None:
    body = js.encode("GetDataResponse", {"data": data, "stat": stat})
    assert rq.GetData("/x").read_response(Reader(body), "") == (data, Stat(*stat))
    body = js.encode("ExistsResponse", {"stat": stat})
    assert rq.Exists("/x").read_response(Reader(body), "") == Stat(*stat)


@given(st.lists(names, max_size=30), stats)
def test_get_children_response(children, stat) -> None:
    body = js.encode("GetChildren2Response", {"children": children, "stat": stat})
    assert rq.GetChildren("/x").read_response(Reader(body), "") == (children, Stat(*stat))


@given(paths, datas, versions, stats)
def test_set_data(path, data, version, stat) -> None:
    values, _ = js.decode("SetDataRequest", written(rq.SetData(path, data, version)))
    assert values == {"path": path, "data": data, "version": version}
    body = js.encode("SetDataResponse", {"stat": stat})
    assert rq.SetData(path, data).read_response(Reader(body), "") == Stat(*stat)


@given(paths, acl_lists, versions, stats)
def test_acl_requests(path, acl, version, stat) -> None:
    assert js.decode("GetACLRequest", written(rq.GetACL(path)))[0] == {"path": path}
    body = js.encode("GetACLResponse", {"acl": acl, "stat": stat})
    assert rq.GetACL(path).read_response(Reader(body), "") == (acls(acl), Stat(*stat))
    values, _ = js.decode("SetACLRequest", written(rq.SetACL(path, acls(acl), version)))
    assert values == {"path": path, "acl": acl, "version": version}
    body = js.encode("SetACLResponse", {"stat": stat})
    assert rq.SetACL(path, acls(acl)).read_response(Reader(body), "") == Stat(*stat)


@given(paths, chroots)
def test_sync(path, chroot) -> None:
    assert js.decode("SyncRequest", written(rq.Sync(path), chroot))[0] == {
        "path": full(chroot, path)}
    body = js.encode("SyncResponse", {"path": full(chroot, path)})
    assert rq.Sync(path).read_response(Reader(body), chroot) == path


@given(paths, st.lists(paths, max_size=10), chroots, st.integers(0, 2 ** 31 - 1))
def test_ephemerals_and_child_count(prefix, found, chroot, count) -> None:
    assert js.decode("GetEphemeralsRequest", written(rq.GetEphemerals(prefix), chroot))[0] == {
        "prefixPath": full(chroot, prefix)}
    body = js.encode("GetEphemeralsResponse", {"ephemerals": [full(chroot, p) for p in found]})
    assert rq.GetEphemerals(prefix).read_response(Reader(body), chroot) == found
    body = js.encode("GetAllChildrenNumberResponse", {"totalNumber": count})
    assert rq.GetAllChildrenNumber(prefix).read_response(Reader(body), "") == count


@given(paths, st.booleans(), st.sampled_from([1, 2, 3, 4, 5]), st.booleans())
def test_watch_management(path, recursive, watcher_type, check_only) -> None:
    values, _ = js.decode("AddWatchRequest", written(rq.AddWatch(path, print, recursive)))
    assert values == {"path": path, "mode": 1 if recursive else 0}
    req = rq.RemoveWatches(path, watcher_type, check_only)
    assert req.opcode == (OpCode.CHECK_WATCHES if check_only else OpCode.REMOVE_WATCHES)
    assert js.decode("RemoveWatchesRequest", written(req))[0] == {
        "path": path, "type": watcher_type}


@given(st.sampled_from(["digest", "ip", "x"]), st.binary(max_size=40))
def test_auth_packet(scheme, credential) -> None:
    req = rq.Auth(scheme, credential)
    assert js.decode("AuthPacket", written(req))[0] == {
        "type": 0, "scheme": scheme, "auth": credential}
    assert repr(credential) not in repr(req) or not credential


@given(longs, st.lists(paths, max_size=5), st.lists(paths, max_size=5),
       st.lists(paths, max_size=5), st.lists(paths, max_size=3), st.lists(paths, max_size=3),
       chroots)
def test_set_watches(zxid, data, exist, child, persistent, recursive, chroot) -> None:
    req = rq.SetWatches(zxid, data, exist, child, persistent, recursive)
    record = "SetWatches2" if persistent or recursive else "SetWatches"
    assert req.opcode == (OpCode.SET_WATCHES2 if persistent or recursive else OpCode.SET_WATCHES)
    values, end = js.decode(record, written(req, chroot))
    expected = {"relativeZxid": zxid, "dataWatches": [full(chroot, p) for p in data],
                "existWatches": [full(chroot, p) for p in exist],
                "childWatches": [full(chroot, p) for p in child]}
    if record == "SetWatches2":
        expected["persistentWatches"] = [full(chroot, p) for p in persistent]
        expected["persistentRecursiveWatches"] = [full(chroot, p) for p in recursive]
    assert values == expected


@given(st.integers(0, 2 ** 31 - 1), longs, st.integers(1, 2 ** 31 - 1), longs,
       st.binary(min_size=16, max_size=16), st.booleans())
def test_connect_request(_unused, zxid, timeout, session, password, read_only) -> None:
    p = ClientProtocol(timeout, can_be_read_only=read_only)
    p.last_zxid, p.session_id, p.password = zxid, session, password
    p.seen_read_write = True
    frame = p.connect_frame()
    assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
    values, end = js.decode("ConnectRequest", frame[4:])
    assert values == {"protocolVersion": 0, "lastZxidSeen": zxid, "timeOut": timeout,
                      "sessionId": session, "passwd": password, "readOnly": read_only}
    assert end == len(frame) - 4


@settings(max_examples=50)
@given(st.lists(st.one_of(
    st.builds(lambda p, d: rq.Create(p, d, [ACL(31, Id("world", "anyone"))]), paths, datas),
    st.builds(rq.Delete, paths, versions),
    st.builds(rq.SetData, paths, datas, versions),
    st.builds(rq.Check, paths, versions)), min_size=1, max_size=6), chroots)
def test_multi_request(ops, chroot) -> None:
    body = written(rq.Multi(ops), chroot)
    offset = 0
    for op in ops:
        header, offset = js.decode("MultiHeader", body, offset)
        assert header == {"type": op.opcode, "done": False, "err": -1}
        record = {rq.Create: "CreateRequest", rq.Delete: "DeleteRequest",
                  rq.SetData: "SetDataRequest", rq.Check: "CheckVersionRequest"}[type(op)]
        values, offset = js.decode(record, body, offset)
        assert values["path"] == full(chroot, op.path)
    header, offset = js.decode("MultiHeader", body, offset)
    assert header == {"type": -1, "done": True, "err": -1} and offset == len(body)


@given(paths, stats, st.integers(-125, -100))
def test_multi_response(path, stat, code) -> None:
    ops = [rq.Create(path, b"", []), rq.SetData(path, b""), rq.Delete(path), rq.Check(path, 1)]
    body = b"".join([
        js.encode("MultiHeader", {"type": OpCode.CREATE2, "done": False, "err": 0}),
        js.encode("Create2Response", {"path": path, "stat": stat}),
        js.encode("MultiHeader", {"type": OpCode.SET_DATA, "done": False, "err": 0}),
        js.encode("SetDataResponse", {"stat": stat}),
        js.encode("MultiHeader", {"type": OpCode.DELETE, "done": False, "err": 0}),
        js.encode("MultiHeader", {"type": OpCode.ERROR, "done": False, "err": code}),
        js.encode("ErrorResponse", {"err": code}),
        js.encode("MultiHeader", {"type": -1, "done": True, "err": -1}),
    ])
    results = rq.Multi(ops).read_response(Reader(body), "")
    assert results[:3] == [(path, Stat(*stat)), Stat(*stat), True]
    assert results[3].code == code and results[3].path == path


@given(datas, stats, st.lists(names, max_size=5))
def test_multi_read_response(data, stat, children) -> None:
    ops = [rq.GetData("/a"), rq.GetChildren("/b"), rq.GetData("/c")]
    body = b"".join([
        js.encode("MultiHeader", {"type": OpCode.GET_DATA, "done": False, "err": 0}),
        js.encode("GetDataResponse", {"data": data, "stat": stat}),
        js.encode("MultiHeader", {"type": OpCode.GET_CHILDREN, "done": False, "err": 0}),
        js.encode("GetChildrenResponse", {"children": children}),
        js.encode("MultiHeader", {"type": OpCode.ERROR, "done": False, "err": -101}),
        js.encode("ErrorResponse", {"err": -101}),
        js.encode("MultiHeader", {"type": -1, "done": True, "err": -1}),
    ])
    multi = rq.Multi(ops, read=True)
    assert multi.opcode == OpCode.MULTI_READ
    results = multi.read_response(Reader(body), "")
    assert results[0] == (data, Stat(*stat)) and results[1] == children
    assert results[2].code == -101 and results[2].path == "/c"
    # multiRead's getChildren goes out as the plain getChildren opcode (8).
    sent = written(multi)
    offset = js.decode("GetDataRequest", sent, js.decode("MultiHeader", sent)[1])[1]
    assert js.decode("MultiHeader", sent, offset)[0]["type"] == OpCode.GET_CHILDREN
