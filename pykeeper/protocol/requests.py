"""One class per request the client sends: how it is written, and how the
body of its successful reply is read.

Paths in requests are the caller's paths; `chroot` (empty, or a path
without trailing slash) is prefixed when writing and stripped from paths
that come back.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

from .errors import ProtocolError, exception_for
from .jute import STAT, Reader, Writer
from .records import (
    ACL, AddWatchMode, CreateFlags, OpCode, Stat, WatchKind, read_acl_list, read_stat,
    write_acl_list,
)

__all__ = [
    "AddWatch", "Auth", "Check", "CloseSession", "Create", "Delete", "Exists", "full_path",
    "GetACL", "GetAllChildrenNumber", "GetChildren", "GetData", "GetEphemerals", "Multi",
    "PathRequest", "Ping", "Reconfig", "RemoveWatches", "Sasl", "SetACL", "SetData",
    "SetWatches", "strip_chroot", "Sync", "WhoAmI", "CONFIG_NODE", "GetConfig", "WATCH_CHILD", "WATCH_DATA", "WATCH_EXIST", "WATCH_PERSISTENT", "WATCH_RECURSIVE",
]


def full_path(chroot: str, path: str) -> str:
    """The server-side path of client `path` under `chroot`."""
    if not chroot:
        return path
    return chroot if path == "/" else chroot + path


def strip_chroot(chroot: str, path: str) -> str:
    """The client-side path of server `path`; paths outside the chroot are returned whole."""
    if not chroot:
        return path
    if path == chroot:
        return "/"
    if path.startswith(chroot) and path[len(chroot)] == "/":
        return path[len(chroot):]
    return path


# Which client-side watch table a successful (or NoNode, for exists) reply arms.
WATCH_DATA = WatchKind.DATA
WATCH_EXIST = WatchKind.EXIST
WATCH_CHILD = WatchKind.CHILD
WATCH_PERSISTENT = WatchKind.PERSISTENT
WATCH_RECURSIVE = WatchKind.RECURSIVE


class Request:
    """Base of all requests. `opcode` is sent in the header; `path` names
    the node for error messages; `watch` is the watch table the reply arms,
    or None."""

    __slots__ = ("path",)
    path: Optional[str]  # (None for a request that names no node)
    opcode: int = -999
    watch: Optional[str] = None
    # Read-only requests may be retried freely and served by read-only servers.
    idempotent: bool = False

    def write(self, w: Writer, chroot: str) -> None:
        raise NotImplementedError

    def read_response(self, r: Reader, chroot: str) -> Any:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self, 'path', '')!r})"


class PathRequest(Request):
    """A request whose body is only a path."""

    __slots__ = ()
    path: str

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))


class Create(Request):
    """create2 / createContainer / createTTL: replies with the path and Stat."""

    __slots__ = ("data", "acl", "flags", "ttl")
    path: str

    def __init__(self, path: str, data: bytes, acl: Sequence[ACL], flags: int = 0,
                 ttl: int = 0) -> None:
        self.path = path
        self.data = data
        self.acl = list(acl)
        self.flags = flags
        self.ttl = ttl

    @property
    def opcode(self) -> int:  # type: ignore[override]  # (property over a class attr)
        if self.flags == CreateFlags.CONTAINER:
            return OpCode.CREATE_CONTAINER
        if self.flags in (CreateFlags.PERSISTENT_WITH_TTL,
                          CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL):
            return OpCode.CREATE_TTL
        return OpCode.CREATE2

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.buffer(self.data)
        write_acl_list(w, self.acl)
        w.int(self.flags)
        if self.opcode == OpCode.CREATE_TTL:
            w.long(self.ttl)

    def read_response(self, r: Reader, chroot: str) -> Tuple[str, Stat]:
        path = r.ustring()
        if path is None:
            raise ProtocolError("create reply without a path")
        return strip_chroot(chroot, path), read_stat(r)


class Delete(Request):
    __slots__ = ("version",)
    path: str
    opcode = OpCode.DELETE

    def __init__(self, path: str, version: int = -1) -> None:
        self.path = path
        self.version = version

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.int(self.version)


class _WatchableRead(Request):
    __slots__ = ("watcher",)
    path: str
    idempotent = True

    def __init__(self, path: str, watcher: Any = None) -> None:
        self.path = path
        self.watcher = watcher

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.bool(self.watcher is not None)


class Exists(_WatchableRead):
    __slots__ = ()
    opcode = OpCode.EXISTS
    watch = WATCH_EXIST

    def read_response(self, r: Reader, chroot: str) -> Stat:
        return read_stat(r)


class GetData(_WatchableRead):
    __slots__ = ()
    opcode = OpCode.GET_DATA
    watch = WATCH_DATA

    def read_response(self, r: Reader, chroot: str) -> Tuple[bytes, Stat]:
        data = r.buffer()
        return (b"" if data is None else data), read_stat(r)


class GetChildren(_WatchableRead):
    """getChildren2: the children's names and the parent's Stat."""

    __slots__ = ()
    opcode = OpCode.GET_CHILDREN2
    watch = WATCH_CHILD

    def read_response(self, r: Reader, chroot: str) -> Tuple[List[str], Stat]:
        children = r.ustring_vector(trailing=STAT.size)
        return children, read_stat(r)


CONFIG_NODE = "/zookeeper/config"


class GetConfig(GetData):
    """getConfig: a getData of the ensemble's configuration node, which is
    outside any chroot (its path is sent, and its watch kept, as is)."""

    __slots__ = ()

    def __init__(self, watcher: Any = None) -> None:
        super().__init__(CONFIG_NODE, watcher)

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(CONFIG_NODE)
        w.bool(self.watcher is not None)


class Reconfig(Request):
    """reconfig: incremental (joining/leaving) or a whole new membership;
    the reply is the new configuration's data and Stat."""

    __slots__ = ("joining", "leaving", "new_members", "from_config")

    opcode = OpCode.RECONFIG

    def __init__(self, joining: Optional[str], leaving: Optional[str],
                 new_members: Optional[str], from_config: int) -> None:
        self.path = CONFIG_NODE
        self.joining = joining
        self.leaving = leaving
        self.new_members = new_members
        self.from_config = from_config

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(self.joining)
        w.ustring(self.leaving)
        w.ustring(self.new_members)
        w.long(self.from_config)

    def read_response(self, r: Reader, chroot: str) -> Tuple[bytes, Stat]:
        data = r.buffer()
        return (b"" if data is None else data), read_stat(r)


class WhoAmI(Request):
    """whoAmI (servers 3.7+): the identities the server gave this session,
    as (scheme, user) pairs."""

    __slots__ = ()
    opcode = OpCode.WHO_AM_I

    def __init__(self) -> None:
        self.path = None

    idempotent = True

    def write(self, w: Writer, chroot: str) -> None:
        pass

    def read_response(self, r: Reader, chroot: str) -> List[Tuple[str, str]]:
        count = r.int()
        if count < 0 or count * 8 > r.remaining():
            raise ProtocolError(f"whoAmI reply says {count} identities")
        return [(r.ustring() or "", r.ustring() or "") for _ in range(count)]


class SetData(Request):
    __slots__ = ("data", "version")
    path: str
    opcode = OpCode.SET_DATA

    def __init__(self, path: str, data: bytes, version: int = -1) -> None:
        self.path = path
        self.data = data
        self.version = version

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.buffer(self.data)
        w.int(self.version)

    def read_response(self, r: Reader, chroot: str) -> Stat:
        return read_stat(r)


class GetACL(PathRequest):
    __slots__ = ()
    opcode = OpCode.GET_ACL
    idempotent = True

    def read_response(self, r: Reader, chroot: str) -> Tuple[List[ACL], Stat]:
        acl = read_acl_list(r)
        return acl, read_stat(r)


class SetACL(Request):
    __slots__ = ("acl", "version")
    path: str
    opcode = OpCode.SET_ACL

    def __init__(self, path: str, acl: Sequence[ACL], version: int = -1) -> None:
        self.path = path
        self.acl = list(acl)
        self.version = version

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        write_acl_list(w, self.acl)
        w.int(self.version)

    def read_response(self, r: Reader, chroot: str) -> Stat:
        return read_stat(r)


class Sync(PathRequest):
    __slots__ = ()
    opcode = OpCode.SYNC
    idempotent = True

    def read_response(self, r: Reader, chroot: str) -> str:
        path = r.ustring()
        return strip_chroot(chroot, path or "/")


class Check(Request):
    """A version check; only valid inside a multi."""

    __slots__ = ("version",)
    path: str
    opcode = OpCode.CHECK

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.int(self.version)


class GetEphemerals(Request):
    """The ephemeral nodes of this session whose path starts with `prefix`."""

    __slots__ = ()
    path: str
    opcode = OpCode.GET_EPHEMERALS
    idempotent = True

    def __init__(self, prefix: str = "/") -> None:
        self.path = prefix

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))

    def read_response(self, r: Reader, chroot: str) -> List[str]:
        return [strip_chroot(chroot, p) for p in r.ustring_vector(trailing=0)]


class GetAllChildrenNumber(PathRequest):
    __slots__ = ()
    opcode = OpCode.GET_ALL_CHILDREN_NUMBER
    idempotent = True

    def read_response(self, r: Reader, chroot: str) -> int:
        return r.int()


class AddWatch(Request):
    """A persistent (optionally recursive) watch; server 3.6+."""

    __slots__ = ("mode", "watcher")
    path: str
    opcode = OpCode.ADD_WATCH

    def __init__(self, path: str, watcher: Any, recursive: bool = False) -> None:
        self.path = path
        self.watcher = watcher
        self.mode = AddWatchMode.PERSISTENT_RECURSIVE if recursive else AddWatchMode.PERSISTENT

    @property
    def watch(self) -> str:  # type: ignore[override]  # (property over a class attr)
        return WATCH_RECURSIVE if self.mode == AddWatchMode.PERSISTENT_RECURSIVE else WATCH_PERSISTENT

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.int(self.mode)

    def read_response(self, r: Reader, chroot: str) -> None:
        # The server answers with an ErrorResponse record (its code, 0).
        if r.remaining():
            r.int()


class RemoveWatches(Request):
    """removeWatches (or, with `check_only`, checkWatches) of a WatcherType."""

    __slots__ = ("watcher_type", "check_only")
    path: str

    def __init__(self, path: str, watcher_type: int, check_only: bool = False) -> None:
        self.path = path
        self.watcher_type = watcher_type
        self.check_only = check_only

    @property
    def opcode(self) -> int:  # type: ignore[override]  # (property over a class attr)
        return OpCode.CHECK_WATCHES if self.check_only else OpCode.REMOVE_WATCHES

    def write(self, w: Writer, chroot: str) -> None:
        w.ustring(full_path(chroot, self.path))
        w.int(self.watcher_type)


class Auth(Request):
    """addAuth; sent with the reserved auth xid."""

    __slots__ = ("scheme", "credential")
    opcode = OpCode.AUTH

    def __init__(self, scheme: str, credential: bytes) -> None:
        self.path = None
        self.scheme = scheme
        self.credential = credential

    def write(self, w: Writer, chroot: str) -> None:
        w.int(0)
        w.ustring(self.scheme)
        w.buffer(self.credential)

    def __repr__(self) -> str:
        # Credentials never go into logs or error messages.
        return f"Auth({self.scheme!r}, <hidden>)"


class Sasl(Request):
    """One SASL token to the server (GetSASLRequest); the reply carries the
    server's token (SetSASLResponse), None when it has none."""

    __slots__ = ("token",)
    opcode = OpCode.SASL

    def __init__(self, token: bytes) -> None:
        self.path = None
        self.token = token

    def write(self, w: Writer, chroot: str) -> None:
        w.buffer(self.token)

    def read_response(self, r: Reader, chroot: str) -> Optional[bytes]:
        return r.buffer()

    def __repr__(self) -> str:
        return "Sasl(<token>)"


class SetWatches(Request):
    """Re-arms watches on a new connection; setWatches2 when persistent ones exist."""

    __slots__ = ("relative_zxid", "data", "exist", "child", "persistent", "recursive")

    def __init__(self, relative_zxid: int, data: List[str], exist: List[str], child: List[str],
                 persistent: Sequence[str] = (), recursive: Sequence[str] = ()) -> None:
        self.path = None
        self.relative_zxid = relative_zxid
        self.data = data
        self.exist = exist
        self.child = child
        self.persistent = list(persistent)
        self.recursive = list(recursive)

    @property
    def opcode(self) -> int:  # type: ignore[override]  # (property over a class attr)
        if self.persistent or self.recursive:
            return OpCode.SET_WATCHES2
        return OpCode.SET_WATCHES

    def write(self, w: Writer, chroot: str) -> None:
        w.long(self.relative_zxid)
        # (The configuration node's watch is kept under its own path, outside
        # any chroot, as getConfig armed it.)
        w.ustring_vector([p if p == CONFIG_NODE else full_path(chroot, p) for p in self.data])
        for paths in (self.exist, self.child):
            w.ustring_vector([full_path(chroot, p) for p in paths])
        if self.opcode == OpCode.SET_WATCHES2:
            w.ustring_vector([full_path(chroot, p) for p in self.persistent])
            w.ustring_vector([full_path(chroot, p) for p in self.recursive])


class Ping(Request):
    __slots__ = ()
    opcode = OpCode.PING

    def __init__(self) -> None:
        self.path = None

    def write(self, w: Writer, chroot: str) -> None:
        pass


class CloseSession(Request):
    __slots__ = ()
    opcode = OpCode.CLOSE_SESSION

    def __init__(self) -> None:
        self.path = None

    def write(self, w: Writer, chroot: str) -> None:
        pass


# Reading a multi reply: which record follows a sub-result header of each type.
def _read_multi_result(op_type: int, r: Reader, chroot: str) -> Any:
    if op_type in (OpCode.CREATE2, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL):
        path = r.ustring()
        return strip_chroot(chroot, path or ""), read_stat(r)
    if op_type == OpCode.CREATE:
        return strip_chroot(chroot, r.ustring() or "")
    if op_type == OpCode.SET_DATA:
        return read_stat(r)
    if op_type in (OpCode.DELETE, OpCode.CHECK):
        return True
    if op_type == OpCode.GET_DATA:
        data = r.buffer()
        return (b"" if data is None else data), read_stat(r)
    if op_type == OpCode.GET_CHILDREN:
        return r.ustring_vector()
    raise ProtocolError(f"unexpected operation type {op_type} in a multi reply")


class Multi(Request):
    """A transaction (multi) of Create/Delete/SetData/Check, or, with
    `read=True`, a multiRead of GetData/GetChildren.

    The reply is a list with one entry per operation: its result, or the
    exception its error code stands for.
    """

    __slots__ = ("ops", "read")

    def __init__(self, ops: Sequence[Request], read: bool = False) -> None:
        self.path = None
        self.ops = list(ops)
        self.read = read

    @property
    def opcode(self) -> int:  # type: ignore[override]  # (property over a class attr)
        return OpCode.MULTI_READ if self.read else OpCode.MULTI

    @property
    def idempotent(self) -> bool:  # type: ignore[override]  # (property over a class attr)
        return self.read

    def write(self, w: Writer, chroot: str) -> None:
        for op in self.ops:
            # multiRead's getChildren is the plain (opcode 8) form.
            opcode = OpCode.GET_CHILDREN if op.opcode == OpCode.GET_CHILDREN2 else op.opcode
            w.int(opcode)
            w.bool(False)
            w.int(-1)
            if isinstance(op, _WatchableRead):
                # Watches cannot be set from inside a multiRead.
                w.ustring(full_path(chroot, op.path))
                w.bool(False)
            else:
                op.write(w, chroot)
        w.int(-1)
        w.bool(True)
        w.int(-1)

    def read_response(self, r: Reader, chroot: str) -> List[Any]:
        results: List[Any] = []
        while True:
            op_type = r.int()
            done = r.bool()
            r.int()  # the header's err; an error result repeats it in its body
            if done:
                break
            if op_type == OpCode.ERROR:
                code = r.int()
                index = len(results)
                path = self.ops[index].path if index < len(self.ops) else None
                results.append(exception_for(code, path))
            else:
                results.append(_read_multi_result(op_type, r, chroot))
            if len(results) > len(self.ops):
                raise ProtocolError("multi reply has more results than operations")
        return results
