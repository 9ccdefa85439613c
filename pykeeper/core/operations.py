"""Every client operation, written once for all the clients.

An operation checks its arguments (raising ValueError/TypeError before
anything is sent) and returns either a `Request` whose reply result is
the answer, or a generator that yields requests, receives each reply's
result (or has its exception thrown in) and returns the answer. The sync
client, its future-returning twins and the asyncio client each *drive*
operations their own way (blocking, by callbacks, by awaiting); none of
them repeats what an operation means.

`client` gives the settings an operation needs (`max_data_size`,
`last_zxid`, `session_id`).
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future
from typing import (
    Any, Callable, Dict, Generator, Iterable, List, Optional, Tuple, TypeVar, Union,
)

from .paths import check_version, to_bytes, validate_path
from ..protocol import requests as rq
from ..protocol.client_protocol import ClientProtocol
from ..protocol.errors import (
    BadVersionException, NewConfigNoQuorumException, NoAuthException, NodeExistsException,
    NoNodeException, NotEmptyException, NoWatcherException, ReconfigDisabledException,
    ReconfigInProgressException, RolledBackException, RuntimeInconsistencyException,
    UnimplementedException, ZooKeeperException,
)
from ..protocol.records import (
    ACL, OPEN_ACL_UNSAFE, ClientInfo, CreateFlags, EventType, Id, Stat, WatcherType,
)
from ..protocol.watches import KINDS
from .retry import Attempt, current_attempt
from .session import resolve

__all__ = [
    "CLIENT_OPERATIONS", "MAX_ROUNDS", "Operation", "PROTECTION_PREFIX", "acl_list", "acl_of",
    "add_auth", "add_watch", "check_watcher", "check_watches", "commit", "create", "create2",
    "create_marked", "create_recursive", "create_request", "delete", "delete_recursive", "drive_future",
    "exists", "get", "get_acl", "get_all_children_number", "get_children", "get_ephemerals",
    "get_config", "is_ephemeral", "read_commit", "reconfig", "remove_watches_on_server",
    "set_acl", "set_data", "sync", "whoami",
]

T = TypeVar("T")

# What an operation returns: one request (whose reply's result is the answer,
# of type T), or a generator of requests that returns the answer.
Operation = Union[rq.Request, Generator[rq.Request, Any, T]]

EPHEMERAL = CreateFlags.EPHEMERAL
SEQUENCE = CreateFlags.SEQUENTIAL
PROTECTION_PREFIX = "_c_"
# Bounds the rounds when other clients keep deleting parents (create) or
# adding children (delete) while we work: a livelock gets an error.
MAX_ROUNDS = 20


def acl_list(acl: Optional[Iterable[Any]]) -> List[ACL]:
    """ACL entries from ACL tuples or the original binding's dicts."""
    if acl is None:
        return list(OPEN_ACL_UNSAFE)
    if isinstance(acl, (ACL, dict)):
        acl = [acl]
    out = []
    for entry in acl:
        if isinstance(entry, ACL):
            out.append(entry)
        elif isinstance(entry, dict) and {"perms", "scheme", "id"} <= set(entry):
            out.append(ACL(int(entry["perms"]), Id(str(entry["scheme"]), str(entry["id"]))))
        else:
            raise TypeError(f"ACL entries must be pykeeper.ACL or dicts with perms/scheme/id, "
                            f"not {entry!r}")
    if not out:
        raise ValueError("an ACL list must not be empty")
    return out


def acl_of(client: Any, acl: Optional[Iterable[Any]]) -> List[ACL]:
    """The ACL a create sends: `acl`, else the client's `default_acl`
    (else open to anyone)."""
    if acl is None:
        acl = client.default_acl
    return acl_list(acl)


def check_watcher(watcher: Any) -> None:
    if watcher is not None and not callable(watcher):
        raise TypeError(f"watcher must be callable, not {type(watcher).__name__}")


# send(request, future): send `request`, its reply to resolve `future` (a
# new Future if None); returns that future.
Send = Callable[[rq.Request, Optional["Future[Any]"]], "Future[Any]"]


def drive_future(op: Operation[T], send: Send,
                 outer: Optional["Future[T]"] = None) -> Future[T]:
    """Start `op`; a Future of its answer (`outer`, if given: a caller that
    attached its callbacks first has them run where the answer is made, on
    the driver's I/O thread or loop, in reply order).

    The first request is sent from the calling thread (so bad arguments or
    a client that cannot send raise here); later steps run in the reply
    callbacks, on the driver's I/O thread or loop, and only send. Each
    reply's callback is attached before its request goes out, so a reply
    that comes at once is still handled there.
    """
    if isinstance(op, rq.Request):
        first_reply: Future[T] = send(op, outer)
        return first_reply
    if outer is None:
        outer = Future()
    result: Future[T] = outer

    def step(value: Any = None, error: Optional[BaseException] = None) -> None:
        while True:
            try:
                request = op.send(value) if error is None else op.throw(error)
            except StopIteration as stop:
                resolve(result, stop.value)
                return
            except BaseException as exc:
                resolve(result, error=exc)
                return
            try:
                send(request, _replying(on_reply))
            except BaseException as exc:
                value, error = None, exc
                continue
            return

    def on_reply(reply: Future[Any]) -> None:
        error = reply.exception()
        step(None if error is not None else reply.result(), error)

    try:
        first = next(op)
    except StopIteration as stop:
        resolve(result, stop.value)
        return result
    send(first, _replying(on_reply))
    return result


def _replying(on_reply: Callable[["Future[Any]"], None]) -> "Future[Any]":
    reply: Future[Any] = Future()
    reply.add_done_callback(on_reply)
    return reply


# -- reads -------------------------------------------------------------------------

def exists(client: Any, path: str,
           watcher: Any = None) -> Generator[rq.Request, Any, Optional[Stat]]:
    validate_path(path)
    check_watcher(watcher)
    return _stat_or_none(rq.Exists(path, watcher))


def _stat_or_none(request: rq.Request) -> Generator[rq.Request, Any, Optional[Stat]]:
    try:
        stat: Optional[Stat] = yield request
        return stat
    except NoNodeException:
        return None


def get(client: Any, path: str, watcher: Any = None) -> Operation[Tuple[bytes, Stat]]:
    validate_path(path)
    check_watcher(watcher)
    return rq.GetData(path, watcher)


def get_children(
        client: Any, path: str, watcher: Any = None, include_stat: bool = False,
) -> Operation[Union[List[str], Tuple[List[str], Stat]]]:
    validate_path(path)
    check_watcher(watcher)
    request = rq.GetChildren(path, watcher)
    return request if include_stat else _names_only(request)


def _names_only(request: rq.Request) -> Generator[rq.Request, Any, List[str]]:
    children: List[str]
    children, _ = yield request
    return children


def get_acl(client: Any, path: str) -> Operation[Tuple[List[ACL], Stat]]:
    validate_path(path)
    return rq.GetACL(path)


def sync(client: Any, path: str = "/") -> Operation[str]:
    validate_path(path)
    return rq.Sync(path)


def get_ephemerals(client: Any, prefix: str = "/") -> Operation[List[str]]:
    validate_path(prefix)
    return rq.GetEphemerals(prefix)


def get_all_children_number(client: Any, path: str) -> Operation[int]:
    validate_path(path)
    return rq.GetAllChildrenNumber(path)


def is_ephemeral(client: Any, path: str) -> Generator[rq.Request, Any, bool]:
    validate_path(path)
    _, stat = yield rq.GetData(path)
    return bool(stat.ephemeralOwner)


def add_watch(client: Any, path: str, watcher: Any,
              recursive: bool = False) -> Generator[rq.Request, Any, None]:
    validate_path(path)
    if not callable(watcher):
        raise TypeError(f"watcher must be callable, not {type(watcher).__name__}")
    try:
        yield rq.AddWatch(path, watcher, recursive)
    except UnimplementedException:
        raise UnimplementedException(
            "persistent watches need a ZooKeeper server 3.6 or newer", path) from None


def whoami(client: Any) -> Generator[rq.Request, Any, List[ClientInfo]]:
    try:
        identities = yield rq.WhoAmI()
    except UnimplementedException:
        raise UnimplementedException("whoami needs a ZooKeeper server 3.7 or newer") from None
    return [ClientInfo(scheme, user) for scheme, user in identities]


CHECKABLE = {"data": WatcherType.DATA, "child": WatcherType.CHILDREN, "any": WatcherType.ANY}


def check_watches(client: Any, path: str, kind: str = "any") -> Generator[rq.Request, Any, bool]:
    validate_path(path)
    watcher_type = CHECKABLE.get(kind)
    if watcher_type is None:
        raise ValueError(f"kind must be one of {', '.join(CHECKABLE)}, not {kind!r}")
    try:
        yield rq.RemoveWatches(path, watcher_type, check_only=True)
    except NoWatcherException:
        return False
    return True


def read_commit(client: Any, reads: List[rq.Request]) -> Operation[List[Any]]:
    """A read transaction: one result per read (data and Stat for a get,
    the names for a get_children), or the exception it met, in order."""
    return rq.Multi(reads, read=True)


# -- the ensemble's configuration -----------------------------------------------------

def get_config(client: Any, watcher: Any = None) -> Operation[Tuple[bytes, Stat]]:
    check_watcher(watcher)
    return rq.GetConfig(watcher)


_RECONFIG_ERRORS = {
    ReconfigDisabledException: "reconfiguration is disabled on the servers (they need "
                               "reconfigEnabled=true)",
    NewConfigNoQuorumException: "the new configuration was not applied: no quorum of its "
                                "voting members is connected to the leader and up to date",
    ReconfigInProgressException: "another reconfiguration is in progress: try again once "
                                 "it ends",
    NoAuthException: "reconfig needs the super user's credentials (or, on servers with "
                     "skipACL, none)",
    BadVersionException: "the configuration is no longer the version from_config names: "
                         "read it again (get_config) and retry",
}


def _servers(name: str, value: Any, ids: bool = False) -> Optional[str]:
    """A reconfig argument as the server takes it: comma-separated."""
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise TypeError(f"{name} must be a str or a list, not {type(value).__name__}")
    parts = []
    for item in items:
        if ids and isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            raise TypeError(f"{name} entries must be non-empty str"
                            f"{' or int server ids' if ids else ''}, not {item!r}")
        if ids and not all(part.strip().isdigit() for part in item.split(",")):
            raise ValueError(f"{name} names servers by their ids (2, or '2,3'), not {item!r}")
        parts.append(item.strip())
    if not parts:
        raise ValueError(f"{name} must not be empty")
    return ",".join(parts)


def reconfig(client: Any, joining: Any = None, leaving: Any = None, new_members: Any = None,
             from_config: int = -1) -> Generator[rq.Request, Any, Tuple[bytes, Stat]]:
    join = _servers("joining", joining)
    leave = _servers("leaving", leaving, ids=True)
    members = _servers("new_members", new_members)
    if members is not None and (join is not None or leave is not None):
        raise ValueError("give new_members (the whole new membership) or joining/leaving "
                         "(changes to the current one), not both")
    if members is None and join is None and leave is None:
        raise ValueError("reconfig needs joining, leaving or new_members")
    if isinstance(from_config, bool) or not isinstance(from_config, int):
        raise TypeError(f"from_config must be an int (a config version, -1 for any), "
                        f"not {type(from_config).__name__}")
    try:
        result: Tuple[bytes, Stat] = yield rq.Reconfig(join, leave, members, from_config)
    except tuple(_RECONFIG_ERRORS) as exc:
        raise type(exc)(f"{_RECONFIG_ERRORS[type(exc)]} ({exc})") from None
    return result


# -- writes ------------------------------------------------------------------------

def create_request(client: Any, path: str, value: Any, acl: Any, flags: int, ephemeral: bool,
                   sequence: bool, container: bool, ttl: Optional[int]) -> rq.Create:
    if isinstance(flags, bool) or not isinstance(flags, int) or flags & ~3:
        raise ValueError(f"flags must be a combination of EPHEMERAL (1) and SEQUENCE (2), "
                         f"not {flags!r}")
    ephemeral = ephemeral or bool(flags & EPHEMERAL)
    sequence = sequence or bool(flags & SEQUENCE)
    validate_path(path, sequential=sequence)
    if path == "/":
        raise ValueError("cannot create the root node '/'")
    data = to_bytes(value, client.max_data_size)
    if container and (ephemeral or sequence or ttl is not None):
        raise ValueError("a container node cannot be ephemeral, sequential or have a TTL")
    if ttl is not None:
        if ephemeral:
            raise ValueError("a TTL node cannot be ephemeral")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 0xFFFFFFFFFF:
            raise ValueError(f"ttl must be positive milliseconds, not {ttl!r}")
        mode: int = (CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL if sequence
                else CreateFlags.PERSISTENT_WITH_TTL)
    elif container:
        mode = CreateFlags.CONTAINER
    else:
        mode = (EPHEMERAL if ephemeral else 0) | (SEQUENCE if sequence else 0)
    return rq.Create(path, data, acl_of(client, acl), mode, ttl or 0)


def create2(client: Any, path: str, value: Any = b"", acl: Any = None, flags: int = 0, *,
            ephemeral: bool = False, sequence: bool = False, container: bool = False,
            ttl: Optional[int] = None) -> Operation[Tuple[str, Stat]]:
    request = create_request(client, path, value, acl, flags, ephemeral, sequence,
                             container, ttl)
    attempt = current_attempt()
    if attempt is not None:
        return _retried_create(client, request, attempt)
    return request


def create(client: Any, path: str, value: Any = b"", acl: Any = None, flags: int = 0, *,
           ephemeral: bool = False, sequence: bool = False, container: bool = False,
           ttl: Optional[int] = None) -> Generator[rq.Request, Any, str]:
    created_path, _ = yield from _as_generator(create2(
        client, path, value, acl, flags, ephemeral=ephemeral, sequence=sequence,
        container=container, ttl=ttl))
    return created_path


def set_data(client: Any, path: str, value: Any, version: int = -1) -> Operation[Stat]:
    validate_path(path)
    request = rq.SetData(path, to_bytes(value, client.max_data_size), check_version(version))
    attempt = current_attempt()
    if attempt is not None:
        return _retried_set(client, request, attempt)
    return request


def delete(client: Any, path: str, version: int = -1) -> Operation[None]:
    validate_path(path)
    if path == "/":
        raise ValueError("cannot delete the root node '/'")
    request = rq.Delete(path, check_version(version))
    attempt = current_attempt()
    if attempt is not None:
        return _retried_delete(request, attempt)
    return request


def set_acl(client: Any, path: str, acl: Any, version: Any = -1) -> Operation[Stat]:
    validate_path(path)
    if isinstance(acl, int) and not isinstance(acl, bool) and not isinstance(version, int):
        acl, version = version, acl  # the original API's set_acl(path, version, acl)
    return rq.SetACL(path, acl_list(acl), check_version(version))


def add_auth(client: Any, scheme: str, credential: Union[str, bytes]) -> Operation[None]:
    if not isinstance(scheme, str) or not scheme:
        raise TypeError("scheme must be a non-empty str such as 'digest'")
    return rq.Auth(scheme, to_bytes(credential, None, "credential"))


def _as_generator(op: Operation[T]) -> Generator[rq.Request, Any, T]:
    if isinstance(op, rq.Request):
        answer: T = yield op
        return answer
    return (yield from op)


# -- writes retried after a connection loss -----------------------------------------
#
# Inside client.retry() a write's first try may have been applied although
# its reply was lost. Find out rather than apply it twice or fail wrongly:
# - a plain create meeting NodeExists on a later try is ours if the node was
#   created after our first try was sent (czxid above the last zxid seen
#   then), holds our data and, if ephemeral, belongs to our session;
# - a sequential create gets a protected name, "_c_<guid>-<name>" (Curator's
#   protection mode), and a later try first looks for a child with the guid;
# - a versioned set meeting BadVersion is ours if the node is now at the next
#   version, was modified after our first try, and holds our data;
# - a delete meeting NoNode on a later try has done its job either way.

_SEQUENTIAL_FLAGS = (CreateFlags.SEQUENTIAL, CreateFlags.SEQUENTIAL | CreateFlags.EPHEMERAL,
                     CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL)


def _first_try(client: Any, attempt: Attempt) -> None:
    if "zxid" not in attempt.state:
        attempt.state["zxid"] = client.last_zxid


def _retried_create(client: Any, request: rq.Create,
                    attempt: Attempt) -> Generator[rq.Request, Any, Tuple[str, Stat]]:
    _first_try(client, attempt)
    if request.flags in _SEQUENTIAL_FLAGS:
        return (yield from _create_protected(request, attempt))
    try:
        created: Tuple[str, Stat] = yield request
        return created
    except NodeExistsException:
        if attempt.number == 0:
            raise
        stat = yield from _stat_or_none(rq.Exists(request.path))
        if stat is None or stat.czxid <= attempt.state["zxid"]:
            raise
        if request.flags == CreateFlags.EPHEMERAL and stat.ephemeralOwner != client.session_id:
            raise
        data, _ = yield rq.GetData(request.path)
        if data != request.data:
            raise
        return request.path, stat


def create_marked(client: Any, path: str, value: Any, acl: Any, flags: int,
                  guid: str) -> Generator[rq.Request, Any, str]:
    """(For recipes.) A sequential create whose protected name carries
    `guid` ("_c_<guid>-<name>"), so the caller can find its node by it."""
    request = create_request(client, path, value, acl, flags, False, False, False, None)
    if request.flags not in _SEQUENTIAL_FLAGS:
        raise ValueError("create_marked makes sequential nodes only")
    attempt = current_attempt()
    made: Tuple[str, Stat]
    if attempt is not None:
        attempt.state.setdefault("guid", guid)
        made = yield from _retried_create(client, request, attempt)
        return made[0]
    parent, _, name = request.path.rpartition("/")
    request.path = f"{parent}/{PROTECTION_PREFIX}{guid}-{name}"
    made = yield request
    return made[0]


def _create_protected(request: rq.Create,
                      attempt: Attempt) -> Generator[rq.Request, Any, Tuple[str, Stat]]:
    parent, _, name = request.path.rpartition("/")
    first = "guid" not in attempt.state
    guid = attempt.state.setdefault("guid", uuid.uuid4().hex)
    marker = f"{PROTECTION_PREFIX}{guid}-"
    if not first and attempt.number:
        children, _ = yield rq.GetChildren(parent or "/")
        for child in children:
            if child.startswith(marker):
                path = f"{parent}/{child}"
                stat = yield from _stat_or_none(rq.Exists(path))
                if stat is not None:
                    return path, stat
    request.path = f"{parent}/{marker}{name}"
    created: Tuple[str, Stat] = yield request
    return created


def _retried_set(client: Any, request: rq.SetData,
                 attempt: Attempt) -> Generator[rq.Request, Any, Stat]:
    _first_try(client, attempt)
    try:
        new_stat: Stat = yield request
        return new_stat
    except BadVersionException:
        if attempt.number == 0 or request.version < 0:
            raise
        data: bytes
        stat: Stat
        data, stat = yield rq.GetData(request.path)
        if (stat.version == request.version + 1 and stat.mzxid > attempt.state["zxid"]
                and data == request.data):
            return stat
        raise


def _retried_delete(request: rq.Delete, attempt: Attempt) -> Generator[rq.Request, Any, None]:
    try:
        yield request
    except NoNodeException:
        if attempt.number == 0:
            raise


# -- transactions and watch removal -----------------------------------------------

def commit(client: Any, operations: List[rq.Request]) -> Generator[rq.Request, Any, List[Any]]:
    results = yield rq.Multi(operations)
    # Servers differ in whether a create inside a multi answers with
    # (path, stat) or the path alone (ZOOKEEPER-4026): give the path.
    results = [r[0] if isinstance(op, rq.Create) and isinstance(r, tuple) else r
               for op, r in zip(operations, results)]
    failure = failed_operation(results)
    if failure is not None:
        failure.results = results
        raise failure
    return results


def failed_operation(results: List[Any]) -> Optional[ZooKeeperException]:
    """The exception of the operation that made a transaction fail, if any."""
    errors = [r for r in results if isinstance(r, ZooKeeperException)]
    for error in errors:
        if not isinstance(error, (RolledBackException, RuntimeInconsistencyException)):
            return error
    return errors[0] if errors else None


# remove_watches kinds: (client watch tables, server WatcherType, removal event type).
REMOVABLE: Dict[str, List[Tuple[Tuple[str, ...], int, int]]] = {
    "data": [(("data", "exist"), WatcherType.DATA, EventType.DATA_WATCH_REMOVED)],
    "child": [(("child",), WatcherType.CHILDREN, EventType.CHILD_WATCH_REMOVED)],
    "persistent": [(("persistent",), WatcherType.PERSISTENT,
                    EventType.PERSISTENT_WATCH_REMOVED)],
    "recursive": [(("recursive",), WatcherType.PERSISTENT_RECURSIVE,
                   EventType.PERSISTENT_WATCH_REMOVED)],
}
REMOVABLE["any"] = [group for groups in list(REMOVABLE.values()) for group in groups]



def take_watches(protocol: ClientProtocol, path: str, watcher: Any,
                 kind: str) -> Tuple[List[Tuple[Any, int]], List[rq.RemoveWatches]]:
    """Drop matching watchers from the client's table; returns them (with
    their removal event type) and the requests that tell the server."""
    validate_path(path)
    groups = REMOVABLE.get(kind)
    if groups is None:
        raise ValueError(f"kind must be one of {', '.join(REMOVABLE)}, not {kind!r}")
    removed: List[Tuple[Any, int]] = []
    emptied: List[int] = []
    # A read in flight that will arm a watch of the same kind needs the
    # server's watch: removing it there would leave that watcher deaf.
    arming = set(protocol.arming(path))
    for tables, server_type, event_type in groups:
        gone = [w for table in tables for w in protocol.watches.remove(table, path, watcher)]
        if gone:
            removed.extend((w, event_type) for w in gone)
            if not any(protocol.watches.has(table, path) or table in arming
                       for table in tables):
                emptied.append(server_type)
    if any(t in (WatcherType.PERSISTENT, WatcherType.PERSISTENT_RECURSIVE) for t in emptied):
        # Servers up to 3.8 refuse the persistent watcher types here
        # (MarshallingError) and remove persistent watches only with
        # ANY, which would take the path's other watches too: send it
        # only when the client has nothing else armed on the path. A
        # persistent watch left on the server just sends events no
        # watcher receives, until the session ends.
        emptied = [t for t in emptied if t in (WatcherType.DATA, WatcherType.CHILDREN)]
        if not arming and not any(protocol.watches.has(kind_, path) for kind_ in KINDS):
            emptied = [WatcherType.ANY]
    if not removed:
        raise NoWatcherException(path=path)
    return removed, [rq.RemoveWatches(path, t) for t in emptied]


def remove_watches_on_server(requests: List[rq.RemoveWatches]) -> Generator[rq.Request, Any, None]:
    for request in requests:
        try:
            yield request
        except NoWatcherException:
            pass  # it fired on the server meanwhile: gone all the same


# -- recursive create and delete -----------------------------------------------------

def create_recursive(client: Any, path: str, value: Any = b"",
                     acl: Any = None) -> Generator[rq.Request, Any, str]:
    validate_path(path)
    data = to_bytes(value, client.max_data_size)
    parents = []
    prefix = ""
    for part in path.split("/")[1:-1]:
        prefix += "/" + part
        parents.append(prefix)
    for _ in range(MAX_ROUNDS):
        try:
            return (yield from create(client, path, data, acl))
        except NoNodeException:
            pass
        # Top-down, ignoring parents that exist: racing creators all succeed.
        for parent in parents:
            try:
                yield from create(client, parent, b"", acl)
            except NodeExistsException:
                pass
            except NoNodeException:
                break  # an ancestor vanished under us; start over
    raise NoNodeException(f"parents of {path} kept disappearing while creating it", path)


def delete_recursive(client: Any, path: str, dry_run: bool = False,
                     force: bool = False) -> Generator[rq.Request, Any, List[str]]:
    validate_path(path)
    removed: List[str] = []
    if path == "/":
        # The root cannot be deleted, and /zookeeper belongs to the server.
        children, _ = yield rq.GetChildren("/")
        for name in children:
            if name != "zookeeper":
                yield from _delete_tree("/" + name, dry_run, force, removed)
        return removed
    yield from _delete_tree(path, dry_run, force, removed)
    return removed


def _delete_tree(path: str, dry_run: bool, force: bool,
                 removed: List[str]) -> Generator[rq.Request, Any, bool]:
    """Delete below and at `path`; True if something had to be kept."""
    for _ in range(MAX_ROUNDS):
        try:
            children, _ = yield rq.GetChildren(path)
        except NoNodeException:
            return False
        kept = False
        for name in children:
            child = "/" + name if path == "/" else path + "/" + name
            kept = (yield from _delete_tree(child, dry_run, force, removed)) or kept
        if kept:
            return True  # an ephemeral descendant stays, so its ancestors do
        stat = yield from _stat_or_none(rq.Exists(path))
        if stat is None:
            return False
        if stat.ephemeralOwner and not force:
            return True
        if dry_run:
            removed.append(path)
            return False
        try:
            yield rq.Delete(path)
        except NoNodeException:
            return False
        except NotEmptyException:
            continue  # children were created meanwhile: delete them too
        removed.append(path)
        return False
    raise NotEmptyException(f"children kept appearing under {path} while deleting it", path)


# The operations every client offers, by method name.
CLIENT_OPERATIONS = {
    "exists": exists, "get": get, "get_children": get_children, "get_acl": get_acl,
    "sync": sync, "get_ephemerals": get_ephemerals,
    "get_all_children_number": get_all_children_number, "is_ephemeral": is_ephemeral,
    "add_watch": add_watch, "create": create, "create2": create2, "set": set_data,
    "whoami": whoami, "check_watches": check_watches, "get_config": get_config,
    "reconfig": reconfig,
    "delete": delete, "set_acl": set_acl, "add_auth": add_auth,
    "create_recursive": create_recursive, "delete_recursive": delete_recursive,
}
