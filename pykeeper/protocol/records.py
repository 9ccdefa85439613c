"""The data records of the protocol: Stat, Id, ACL, WatchedEvent, and the
protocol's numeric constants (opcodes, event types, states, create modes)."""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Dict, Iterator, List, NamedTuple, Optional, Tuple

from .errors import ProtocolError
from .jute import Reader, Writer

__all__ = [
    "ACL", "AddWatchMode", "ClientInfo", "CREATOR_ALL_ACL", "CreateFlags", "EventType", "Id",
    "KeeperState",
    "OPEN_ACL_UNSAFE", "OpCode", "Permission", "Perms", "READ_ACL_UNSAFE", "Stat", "WatchKind",
    "WatchedEvent", "WatcherType", "WireInt", "Xid", "read_acl_list", "read_stat",
    "write_acl_list",
]


class WireInt(enum.IntEnum):
    """Base of the protocol's numbered constants: each member is the int
    the wire carries (compares, hashes and packs as it), and str() gives
    that number, as the plain ints these constants were."""

    def __str__(self) -> str:
        return str(self.value)

    # (As an int on every Python: before 3.12 an Enum with its own __str__
    # formats through str, so f"{code:d}" would fail.)
    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)


class OpCode(WireInt):
    """Request types, as sent in a request header."""

    NOTIFICATION = 0
    CREATE = 1
    DELETE = 2
    EXISTS = 3
    GET_DATA = 4
    SET_DATA = 5
    GET_ACL = 6
    SET_ACL = 7
    GET_CHILDREN = 8
    SYNC = 9
    PING = 11
    GET_CHILDREN2 = 12
    CHECK = 13
    MULTI = 14
    CREATE2 = 15
    RECONFIG = 16
    CHECK_WATCHES = 17
    REMOVE_WATCHES = 18
    CREATE_CONTAINER = 19
    DELETE_CONTAINER = 20
    CREATE_TTL = 21
    MULTI_READ = 22
    AUTH = 100
    SET_WATCHES = 101
    SASL = 102
    GET_EPHEMERALS = 103
    GET_ALL_CHILDREN_NUMBER = 104
    SET_WATCHES2 = 105
    ADD_WATCH = 106
    WHO_AM_I = 107
    CREATE_SESSION = -10
    CLOSE_SESSION = -11
    ERROR = -1


class Xid(WireInt):
    """Reserved xids the server uses for replies that answer no request."""

    NOTIFICATION = -1
    PING = -2
    AUTH = -4
    SET_WATCHES = -8


class EventType(WireInt):
    """A watch event's type; `EventType.NAMES` maps each number to its word."""

    NONE = -1
    CREATED = 1
    DELETED = 2
    CHANGED = 3
    CHILD = 4
    DATA_WATCH_REMOVED = 5
    CHILD_WATCH_REMOVED = 6
    PERSISTENT_WATCH_REMOVED = 7

    NAMES: ClassVar[Dict[int, str]]  # (set below: in the body it would be a member)


EventType.NAMES = {
    -1: "none", 1: "created", 2: "deleted", 3: "changed", 4: "child",
    5: "data_watch_removed", 6: "child_watch_removed", 7: "persistent_watch_removed",
}


class KeeperState(WireInt):
    """The session state a watch event carries; `KeeperState.NAMES` maps
    each number to the client state word it stands for."""

    DISCONNECTED = 0
    SYNC_CONNECTED = 3
    AUTH_FAILED = 4
    CONNECTED_READ_ONLY = 5
    SASL_AUTHENTICATED = 6
    CLOSED = 7
    EXPIRED = -112

    NAMES: ClassVar[Dict[int, str]]  # (set below: in the body it would be a member)


KeeperState.NAMES = {
    0: "connecting", 3: "connected", 4: "auth_failed", 5: "connected_readonly",
    6: "sasl_authenticated", 7: "closed", -112: "expired_session",
}


class CreateFlags(WireInt):
    """Create-mode numbers as sent in CreateRequest.flags."""

    PERSISTENT = 0
    EPHEMERAL = 1
    SEQUENTIAL = 2
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


class ClientInfo(NamedTuple):
    """One identity the server gave a session (whoami): its scheme ("ip",
    "digest", "sasl", "x509", "super") and the user in that scheme."""

    auth_scheme: str
    user: str


class WatcherType(WireInt):
    """Watch kinds for removeWatches / checkWatches."""

    CHILDREN = 1
    DATA = 2
    ANY = 3
    PERSISTENT = 4
    PERSISTENT_RECURSIVE = 5


class AddWatchMode(WireInt):
    """The mode of an addWatch request."""

    PERSISTENT = 0
    PERSISTENT_RECURSIVE = 1


class WatchKind(str, enum.Enum):
    """The client's watch tables: which one a read arms (exist: an exists()
    on a missing node), and what a persistent watch is. Each compares
    equal to its word."""

    DATA = "data"
    EXIST = "exist"
    CHILD = "child"
    PERSISTENT = "persistent"
    RECURSIVE = "recursive"

    def __str__(self) -> str:
        return self.value


class Permission(enum.IntFlag):
    """What an ACL entry allows; combine with |, e.g. READ | WRITE."""

    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


Perms = Permission  # (the name used before Permission)
"""The earlier name of `Permission`."""


_STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                "ephemeralOwner", "dataLength", "numChildren", "pzxid")


class Stat(NamedTuple):
    """A node's metadata.

    Read it as attributes (`stat.version`) or, as the original pykeeper's
    dicts were read, by key (`stat['version']`, `stat.keys()`, `dict(stat.items())`).
    """

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeralOwner: int
    dataLength: int
    numChildren: int
    pzxid: int

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in _STAT_FIELDS:
                raise KeyError(key)
            return getattr(self, key)
        return tuple.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in _STAT_FIELDS else default

    def keys(self) -> Tuple[str, ...]:
        return _STAT_FIELDS

    def items(self) -> Iterator[Tuple[str, int]]:
        return zip(_STAT_FIELDS, self)

    def values(self) -> Tuple[int, ...]:
        return tuple(self)

    def __contains__(self, key: object) -> bool:
        return key in _STAT_FIELDS

    def as_dict(self) -> Dict[str, int]:
        return dict(zip(_STAT_FIELDS, self))

    @property
    def owner_session_id(self) -> Optional[int]:
        """The session owning this ephemeral node, or None for a persistent one."""
        return self.ephemeralOwner or None


def read_stat(reader: Reader) -> Stat:
    return Stat._make(reader.stat_fields())


class Id(NamedTuple):
    """An ACL identity: a scheme ('world', 'digest', 'ip', 'auth', ...) and an id in it."""

    scheme: str
    id: str


class ACL(NamedTuple):
    """One access-control entry: a permission bit set granted to an `Id`."""

    perms: int
    id: Id

    def __repr__(self) -> str:
        return f"ACL(perms={_perms_repr(self.perms)}, id={self.id!r})"


def _perms_repr(perms: int) -> str:
    if perms == Permission.ALL:
        return "Permission.ALL"
    names = [f"Permission.{p.name}" for p in Permission if p != Permission.ALL and perms & p]
    rest = int(perms) & ~int(Permission.ALL)
    if rest or not names:
        names.append(str(int(rest)))
    return "|".join(names)


def write_acl_list(writer: Writer, acl: List[ACL]) -> None:
    writer.int(len(acl))
    for entry in acl:
        writer.int(entry.perms)
        writer.ustring(entry.id.scheme)
        writer.ustring(entry.id.id)


def read_acl_list(reader: Reader) -> List[ACL]:
    count = reader.vector_length(12)
    out = []
    for _ in range(count):
        perms = reader.int()
        scheme = reader.ustring()
        ident = reader.ustring()
        if scheme is None or ident is None:
            raise ProtocolError("null scheme or id in an ACL")
        # (Bits the flags do not name, or a negative int, are kept as the
        # server sent them: an ACL read and written back must not change.)
        out.append(ACL(perms if perms & ~0x1F else Permission(perms), Id(scheme, ident)))
    return out


OPEN_ACL_UNSAFE = [ACL(Perms.ALL, Id("world", "anyone"))]
"""Everything to everyone: the default ACL of a create."""
CREATOR_ALL_ACL = [ACL(Perms.ALL, Id("auth", ""))]
"""Everything to the credentials of the connection that creates the node."""
READ_ACL_UNSAFE = [ACL(Perms.READ, Id("world", "anyone"))]
"""Reading to everyone, nothing else."""


class WatchedEvent(NamedTuple):
    """What a watcher receives: the event `type`, the session `state` and the `path`.

    `type_name` and `state_name` give them as words ('changed', 'connected').
    """

    type: int
    state: int
    path: Optional[str]

    @property
    def type_name(self) -> str:
        return EventType.NAMES.get(self.type, str(self.type))

    @property
    def state_name(self) -> str:
        return KeeperState.NAMES.get(self.state, str(self.state))

    def __repr__(self) -> str:
        return (f"WatchedEvent(type={self.type_name}, state={self.state_name}, "
                f"path={self.path!r})")

    # The original pykeeper's ClientEvent called the state `connection_state`.
    @property
    def connection_state(self) -> int:
        return self.state
