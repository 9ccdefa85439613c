"""`pykeeper.zookeeper`: the official C binding's module API (zkpython,
`import zookeeper`) on pykeeper, so code written for it runs on Python 3.

    from pykeeper import zookeeper          # or: pykeeper.zookeeper.install()

    handle = zookeeper.init("127.0.0.1:2181", watcher)
    zookeeper.create(handle, "/app", "on", [ZOO_OPEN_ACL_UNSAFE], zookeeper.EPHEMERAL)
    value, stat = zookeeper.get(handle, "/app")    # ("on", {"version": 0, ...})

Handles are small ints (a closed handle's number is reused). Every call
is positional, as the binding's were. Node data goes in as str (UTF-8) or
bytes and comes out as str, as the binding's Python 3 build gave it; a
handle opened with `init(..., binary=True)` returns bytes instead.

Thread safety: every function may be called from any thread. Synchronous
calls block the calling thread for one round trip, and before it for the
connection (at most the session timeout, then ConnectionLossException);
the a* calls do not wait for the server (only, with 1,000 requests already
in flight on the handle, for one of them to be answered). Watchers and
completions run one at a time on the handle's event thread, in the order
the server's replies and events arrived, and may call this module (even
its blocking calls). A watcher or completion that raises has its traceback
printed and the next one runs.
"""

from __future__ import annotations

import importlib.util
import logging
import ssl
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ..clients.sync import ZooKeeper
from ..core import operations as ops
from ..core.acl import acl_dicts
from ..protocol.errors import (
    ApiErrorException, AuthFailedException, BadArgumentsException, BadVersionException,
    ClosingException, ConnectionLossException, DataInconsistencyException,
    EphemeralOnLocalSessionException, InvalidACLException, InvalidCallbackException,
    InvalidStateException, MarshallingErrorException, NewConfigNoQuorumException,
    NoAuthException, NoChildrenForEphemeralsException, NodeExistsException, NoNodeException,
    NotEmptyException, NothingException, NotReadOnlyException, NoWatcherException,
    OperationTimeoutException, QuotaExceededException, ReconfigDisabledException,
    ReconfigInProgressException, RequestTimeoutException, RuntimeInconsistencyException,
    SessionClosedRequireSaslException, SessionExpiredException, SessionMovedException,
    SystemErrorException, ThrottledOpException, UnimplementedException,
    UnknownSessionException, ZooKeeperException,
)
from . import constants as _constants
from .constants import *  # noqa: F403 (the binding's constants, all of them)
from .constants import CONTAINER, NONODE, OK, SEQUENCE, ZOO_VERSION
from .convert import (
    StatDict, check_callback, check_data, check_flags, check_path,
    check_version_arg, data_out, parse_acls, stat_dict,
)
from .handles import Handle, OneShot, Shaped, free, lookup, register, release

__version__ = ZOO_VERSION

__all__ = [
    "ApiErrorException", "AuthFailedException", "BadArgumentsException", "BadVersionException",
    "ClosingException", "ConnectionLossException", "DataInconsistencyException",
    "EphemeralOnLocalSessionException", "InvalidACLException", "InvalidCallbackException",
    "InvalidStateException", "MarshallingErrorException", "NewConfigNoQuorumException",
    "NoAuthException", "NoChildrenForEphemeralsException", "NodeExistsException",
    "NoNodeException", "NotEmptyException", "NothingException", "NotReadOnlyException",
    "NoWatcherException", "OperationTimeoutException", "QuotaExceededException",
    "ReconfigDisabledException", "ReconfigInProgressException", "RequestTimeoutException",
    "RuntimeInconsistencyException", "SessionClosedRequireSaslException",
    "SessionExpiredException", "SessionMovedException", "SystemErrorException",
    "ThrottledOpException", "UnimplementedException", "UnknownSessionException",
    "ZooKeeperException",
    "acreate", "add_auth", "adelete", "aexists", "aget", "aget_acl", "aget_children", "aset",
    "aset_acl", "async_", "client_id", "close", "create", "delete", "deterministic_conn_order",
    "exists", "get", "get_acl", "get_children", "get_children2", "init", "init_ssl",
    "install", "is_unrecoverable", "recv_timeout", "set", "set2", "set_acl", "set_debug_level",
    "set_log_stream", "set_watcher", "state", "sync",
]
__all__ += _constants.__all__

Callback = Callable[..., Any]
Data = Union[str, bytes]
# get()'s default buffer: the binding read at most 1 MiB of a node's data.
_GET_BUFFER_SIZE = 1024 * 1024
_random_order = True  # (deterministic_conn_order)
_log_handler: Optional[logging.Handler] = None
_level_set = False
_LOGGERS = ("pykeeper", "zookeeper")
_LOG_LEVELS = {0: logging.CRITICAL + 10, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO,
               4: logging.DEBUG}


# -- handles ----------------------------------------------------------------------------

def init(host: str, watcher: Optional[Callback] = None, recv_timeout: int = 10000,
         client_id: Optional[Tuple[int, Union[str, bytes]]] = None, /, *,
         binary: bool = False) -> int:
    """Open a handle to the servers `host` ("host:port,...[/chroot]") and
    start connecting; returns its number at once, without waiting.

    `watcher(handle, type, state, path)` is the session watcher: it hears
    every session event (type SESSION_EVENT, path "") -- CONNECTED_STATE
    on each connect, CONNECTING_STATE when the connection drops,
    EXPIRED_SESSION_STATE or AUTH_FAILED_STATE when the session is over
    (the handle can then only be closed). `recv_timeout` is the session
    timeout in ms; `client_id` a (session id, password) from client_id()
    resumes that session. With `binary` node data comes back as bytes.
    Raises BadArgumentsException for bad hosts or timeout, TypeError and
    InvalidCallbackException for arguments of the wrong kind.
    """
    return _open(host, watcher, recv_timeout, client_id, binary, {})


def init_ssl(host: str, cert_string: str, watcher: Optional[Callback] = None,
             recv_timeout: int = 10000,
             client_id: Optional[Tuple[int, Union[str, bytes]]] = None, /, *,
             binary: bool = False) -> int:
    """init() to a server's TLS port. `cert_string` is the C library's
    "ca_file,cert_file,key_file,key_password": the CA that signed the
    server's certificate, then (optional) the client certificate, its key
    and the key's password. The server's certificate must match its host
    name. BadArgumentsException for unreadable or bad files."""
    if not isinstance(cert_string, str):
        raise TypeError(f"cert_string must be a str, not {type(cert_string).__name__}")
    parts = cert_string.split(",")
    if not parts[0]:
        raise BadArgumentsException("bad arguments: cert_string must start with the CA file")
    tls: Dict[str, Any] = {"use_ssl": True, "ca": parts[0]}
    if len(parts) >= 3 and parts[1] and parts[2]:
        tls.update(certfile=parts[1], keyfile=parts[2])
        if len(parts) >= 4 and parts[3]:
            tls["keyfile_password"] = ",".join(parts[3:])
    return _open(host, watcher, recv_timeout, client_id, binary, tls)


def _open(host: Any, watcher: Any, recv_timeout: Any, client_id: Any, binary: bool,
          tls: Dict[str, Any]) -> int:
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    check_callback(watcher, "watcher")
    if isinstance(recv_timeout, bool) or not isinstance(recv_timeout, int):
        raise TypeError(f"recv_timeout must be an int of ms, not {type(recv_timeout).__name__}")
    if recv_timeout <= 0:
        raise BadArgumentsException(f"bad arguments: recv_timeout must be > 0 ms, not "
                                    f"{recv_timeout}")
    resume, first_id = _client_id_arg(client_id)

    def make(number: int) -> Handle:
        try:
            client = ZooKeeper(host, reconnect=False, session_timeout=recv_timeout / 1000.0,
                               client_id=resume, randomize_hosts=_random_order, **tls)
        except (ValueError, OSError, ssl.SSLError) as exc:
            raise BadArgumentsException(
                f"could not obtain a zookeeper handle for {host!r}: {exc}") from None
        return Handle(number, client, watcher, bool(binary), first_id)

    handle = register(make)
    handle.client.start()
    return handle.number


def _client_id_arg(client_id: Any) -> Tuple[Optional[Tuple[int, bytes]], Tuple[int, bytes]]:
    """(the session to resume or None, what client_id() says until connected)."""
    if client_id is None:
        return None, (0, b"")
    if not isinstance(client_id, (tuple, list)) or len(client_id) != 2:
        raise TypeError("client_id must be a (session id, password) pair, as client_id() gives it")
    session_id, password = client_id
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        raise TypeError(f"the session id must be an int, not {type(session_id).__name__}")
    if isinstance(password, str):
        try:
            raw = password.encode("latin-1")
        except UnicodeEncodeError:
            raw = password.encode("utf-8")
    elif isinstance(password, (bytes, bytearray)):
        raw = bytes(password)
    else:
        raise TypeError(f"the password must be str or bytes, not {type(password).__name__}")
    if session_id in (0, -1):  # (the binding's "no session": a new one)
        return None, (0, b"")
    if session_id < 0:
        raise BadArgumentsException(f"bad arguments: session id {session_id}")
    # (the C library copies the password into a 16-byte field)
    return (session_id, raw[:16].ljust(16, b"\0")), (session_id, raw)


def close(zh: int, /) -> int:
    """Close the handle: ends the session (ephemeral nodes go), frees the
    number for reuse. Blocks until requests in flight are answered, at most
    5 s. Returns OK; ZooKeeperException for a handle already closed."""
    handle = release(zh)
    try:
        return handle.close()
    finally:
        free(handle)


def state(zh: int, /) -> int:
    """The connection state: CONNECTING_STATE, ASSOCIATING_STATE,
    CONNECTED_STATE, READONLY_STATE, EXPIRED_SESSION_STATE or AUTH_FAILED_STATE."""
    return lookup(zh).state


def client_id(zh: int, /) -> Tuple[int, Union[str, bytes]]:
    """(session id, password) of the handle's session, to pass to init() to
    resume it; (0, "") before the first connect. The password is 16 raw
    bytes: as a str each byte is one character (latin-1), on a binary
    handle bytes."""
    handle = lookup(zh)
    session_id, password = handle.client_id
    return session_id, password if handle.binary else password.decode("latin-1")


def recv_timeout(zh: int, /) -> int:
    """The session timeout in ms: the server's grant once connected."""
    return lookup(zh).recv_timeout


def is_unrecoverable(zh: int, /) -> bool:
    """True once the session expired or auth failed: only close() is left."""
    return lookup(zh).state < 0


def set_watcher(zh: int, watcher: Optional[Callback], /) -> None:
    """Replace the handle's session watcher (None: none)."""
    check_callback(watcher, "watcher")
    lookup(zh).watcher = watcher


def add_auth(zh: int, scheme: str, cert: Data, completion: Optional[Callback] = None, /) -> int:
    """Send credentials (e.g. "digest", "user:password"); returns OK at once.
    `completion(handle, rc)` hears OK or AUTHFAILED; a refused credential
    also ends the session (AUTH_FAILED_STATE to the session watcher)."""
    handle = lookup(zh)
    if not isinstance(scheme, str):
        raise TypeError(f"scheme must be a str, not {type(scheme).__name__}")
    if not scheme:
        raise BadArgumentsException("bad arguments: the scheme is empty")
    credential = check_data(cert, handle.client.max_data_size)
    check_callback(completion, "completion")
    # (made before the connection, it waits for one however long: the C
    # library keeps credentials to send on connecting)
    return handle.call_async(ops.add_auth(handle.client, scheme, credential),
                             completion, _no_result, (), bounded=False)


def set_debug_level(level: int, /) -> None:
    """How much the client logs (loggers `pykeeper` and `zookeeper`):
    LOG_LEVEL_ERROR, _WARN, _INFO, _DEBUG, or 0 for nothing."""
    global _level_set
    if level not in _LOG_LEVELS:
        raise ValueError(f"level must be 0 or a LOG_LEVEL_* constant (1-4), not {level!r}")
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(_LOG_LEVELS[level])
    _level_set = True


def set_log_stream(stream: Any, /) -> None:
    """Write the client's log to `stream` (an open file), instead of only
    through the logging module's handlers; at INFO unless set_debug_level
    said otherwise. ValueError for an object that is not a file."""
    global _log_handler
    if not callable(getattr(stream, "write", None)):
        raise ValueError("Must supply a file object to set_log_stream")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s:%(name)s:%(levelname)s: %(message)s"))
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _log_handler is not None:
            logger.removeHandler(_log_handler)
        logger.addHandler(handler)
        if not _level_set:
            logger.setLevel(logging.INFO)
    _log_handler = handler


def deterministic_conn_order(yes_or_no: int, /) -> None:
    """Handles opened from now on try their servers in the order given
    (true) or shuffled (false, the default)."""
    global _random_order
    _random_order = not yes_or_no


# -- synchronous calls ------------------------------------------------------------------

def create(zh: int, path: str, value: Data, acl: List[Dict[str, Any]], flags: int = 0,
           /) -> str:
    """Create a node; returns its path (with the sequence number when
    `flags` has SEQUENCE). `acl` is a list of {"perms", "scheme", "id"}
    dicts; `flags` EPHEMERAL and/or SEQUENCE, or CONTAINER. Raises
    NodeExistsException, NoNodeException (no parent),
    NoChildrenForEphemeralsException, InvalidACLException, BadArgumentsException."""
    handle, create_args = _create_args(zh, path, value, acl, flags)
    return handle.call(_create, handle, *create_args)


def delete(zh: int, path: str, version: int = -1, /) -> int:
    """Delete the node (if at `version`; -1: any); returns OK. Raises
    NoNodeException, BadVersionException, NotEmptyException."""
    handle = lookup(zh)
    check_path(path)
    check_version_arg(version)
    handle.call(handle.client.delete, path, version)
    return OK


def exists(zh: int, path: str, watcher: Optional[Callback] = None, /) -> Optional[StatDict]:
    """The node's stat dict, or None if there is none. `watcher(handle,
    type, state, path)` fires once when the node is created, changed or deleted."""
    handle, watch = _read_args(zh, path, watcher)
    return stat_dict(_watched(handle, watch, handle.client.exists, path, watch))


def get(zh: int, path: str, watcher: Optional[Callback] = None,
        buffer_len: int = _GET_BUFFER_SIZE, /) -> Tuple[Data, StatDict]:
    """(data, stat dict): data as str (bytes on a binary handle), at most
    `buffer_len` bytes of it. `watcher` fires once when the node changes
    or is deleted. Raises NoNodeException; UnicodeDecodeError for data
    that is not UTF-8 on a str handle."""
    if isinstance(buffer_len, bool) or not isinstance(buffer_len, int):
        raise TypeError(f"buffer_len must be an int, not {type(buffer_len).__name__}")
    if buffer_len < 0:
        raise BadArgumentsException(f"bad arguments: buffer_len {buffer_len} < 0")
    handle, watch = _read_args(zh, path, watcher)
    data, stat = _watched(handle, watch, handle.client.get, path, watch)
    return data_out(data[:buffer_len], handle.binary, path), _stat(stat)


def set(zh: int, path: str, value: Data, version: int = -1, /) -> int:  # noqa: A001
    """Replace the node's data (if at `version`; -1: any); returns OK.
    Raises NoNodeException, BadVersionException."""
    set2(zh, path, value, version)
    return OK


def set2(zh: int, path: str, value: Data, version: int = -1, /) -> StatDict:
    """set(), returning the node's new stat dict."""
    handle, data = _set_args(zh, path, value, version)
    return _stat(handle.call(handle.client.set, path, data, version))


def get_children(zh: int, path: str, watcher: Optional[Callback] = None, /) -> List[str]:
    """The names of the node's children. `watcher` fires once when a child
    comes or goes, or the node is deleted. Raises NoNodeException."""
    handle, watch = _read_args(zh, path, watcher)
    return list(_watched(handle, watch, handle.client.get_children, path, watch))


def get_children2(zh: int, path: str,
                  watcher: Optional[Callback] = None, /) -> Tuple[List[str], StatDict]:
    """get_children() and the node's stat dict: (names, stat)."""
    handle, watch = _read_args(zh, path, watcher)
    names, stat = _watched(handle, watch, _children_and_stat, handle, path, watch)
    return list(names), _stat(stat)


def get_acl(zh: int, path: str, /) -> Tuple[StatDict, List[Dict[str, Any]]]:
    """(stat dict, ACL as {"perms", "scheme", "id"} dicts). Raises NoNodeException."""
    handle = lookup(zh)
    check_path(path)
    acls, stat = handle.call(handle.client.get_acl, path)
    return _stat(stat), acl_dicts(acls)


def set_acl(zh: int, path: str, version: int, acl: List[Dict[str, Any]], /) -> int:
    """Replace the node's ACL (if its ACL is at `version`; -1: any); returns
    OK. Raises NoNodeException, BadVersionException, InvalidACLException."""
    handle, acls = _set_acl_args(zh, path, version, acl)
    handle.call(handle.client.set_acl, path, acls, version)
    return OK


def sync(zh: int, path: str = "/", /) -> str:
    """Wait until the server this handle reads from has every write the
    leader had when it got this; returns `path`."""
    handle = lookup(zh)
    check_path(path)
    return handle.call(handle.client.sync, path)


# -- asynchronous calls: each returns OK at once; completion(handle, rc, ...) ----------------

def acreate(zh: int, path: str, value: Data, acl: List[Dict[str, Any]], flags: int = 0,
            completion: Optional[Callback] = None, /) -> int:
    """create() without waiting: `completion(handle, rc, path)`, the path
    created (None if rc is not OK)."""
    handle, create_args = _create_args(zh, path, value, acl, flags)
    check_callback(completion, "completion")
    return handle.call_async(_create_operation(handle, *create_args), completion, _one, (None,))


def adelete(zh: int, path: str, version: int = -1, completion: Optional[Callback] = None,
            /) -> int:
    """delete() without waiting: `completion(handle, rc)`."""
    handle = lookup(zh)
    check_path(path)
    check_version_arg(version)
    check_callback(completion, "completion")
    return handle.call_async(ops.delete(handle.client, path, version), completion, _no_result, ())


def aexists(zh: int, path: str, watcher: Optional[Callback] = None,
            completion: Optional[Callback] = None, /) -> int:
    """exists() without waiting: `completion(handle, rc, stat)`; rc NONODE
    and stat None for no node (the watcher is set all the same)."""
    handle, watch = _read_args(zh, path, watcher, completion)
    return handle.call_async(ops.exists(handle.client, path, watch), completion, _exists_result,
                             (None,), watch)


def aget(zh: int, path: str, watcher: Optional[Callback] = None,
         completion: Optional[Callback] = None, /) -> int:
    """get() without waiting: `completion(handle, rc, value, stat)` (None,
    None if rc is not OK; rc MARSHALLINGERROR for data that is not UTF-8 on
    a str handle)."""
    handle, watch = _read_args(zh, path, watcher, completion)

    def shape(result: Tuple[bytes, Any]) -> Shaped:
        return OK, (data_out(result[0], handle.binary, path), _stat(result[1]))

    return handle.call_async(ops.get(handle.client, path, watch), completion, shape,
                             (None, None), watch)


def aset(zh: int, path: str, value: Data, version: int = -1,
         completion: Optional[Callback] = None, /) -> int:
    """set() without waiting: `completion(handle, rc, stat)`."""
    handle, data = _set_args(zh, path, value, version)
    check_callback(completion, "completion")
    return handle.call_async(ops.set_data(handle.client, path, data, version), completion,
                             _stat_result, (None,))


def aget_children(zh: int, path: str, watcher: Optional[Callback] = None,
                  completion: Optional[Callback] = None, /) -> int:
    """get_children() without waiting: `completion(handle, rc, names)` ([]
    if rc is not OK)."""
    handle, watch = _read_args(zh, path, watcher, completion)
    return handle.call_async(ops.get_children(handle.client, path, watch), completion,
                             _names_result, ([],), watch)


def aget_acl(zh: int, path: str, completion: Optional[Callback] = None, /) -> int:
    """get_acl() without waiting: `completion(handle, rc, acls, stat)` (note
    the order: the ACL first; [] and None if rc is not OK)."""
    handle = lookup(zh)
    check_path(path)
    check_callback(completion, "completion")
    return handle.call_async(ops.get_acl(handle.client, path), completion, _acl_result,
                             ([], None))


def aset_acl(zh: int, path: str, version: int, acl: List[Dict[str, Any]],
             completion: Optional[Callback] = None, /) -> int:
    """set_acl() without waiting: `completion(handle, rc)`."""
    handle, acls = _set_acl_args(zh, path, version, acl)
    check_callback(completion, "completion")
    return handle.call_async(ops.set_acl(handle.client, path, acls, version), completion,
                             _no_result, ())


def async_(zh: int, path: str, completion: Optional[Callback] = None, /) -> int:
    """sync() without waiting: `completion(handle, rc, path)`. The module
    also has it under the binding's name `async` (a keyword since Python
    3.7: reach it as getattr(zookeeper, "async"))."""
    handle = lookup(zh)
    check_path(path)
    check_callback(completion, "completion")
    return handle.call_async(ops.sync(handle.client, path), completion, _one, (None,))


globals()["async"] = async_


# -- the alias ----------------------------------------------------------------------

def install() -> types.ModuleType:
    """Make `import zookeeper` give this module, so code written for the
    binding runs unchanged; returns it. Never shadows a real module named
    `zookeeper`: ImportError, naming it, if one is importable or imported."""
    this = sys.modules[__name__]
    current = sys.modules.get("zookeeper")
    if current is this:
        return this
    if current is not None:
        raise ImportError(f"a module named zookeeper is already imported ({current!r}); "
                          f"pykeeper.zookeeper.install() does not replace it")
    spec = importlib.util.find_spec("zookeeper")
    if spec is not None and spec.origin is not None:  # (a bare folder "zookeeper" is no module)
        raise ImportError(f"a module named zookeeper is installed ({spec.origin}); "
                          f"pykeeper.zookeeper.install() does not shadow it: uninstall it, "
                          f"or write `from pykeeper import zookeeper`")
    sys.modules["zookeeper"] = this
    return this


# -- argument checks and result shapes, each written once for a call and its a* twin ---------

def _read_args(zh: int, path: Any, watcher: Any,
               completion: Any = None) -> Tuple[Handle, Optional[OneShot]]:
    handle = lookup(zh)
    check_path(path)
    check_callback(watcher, "watcher")
    check_callback(completion, "completion")
    return handle, handle.watch(watcher)


def _watched(handle: Handle, watch: Optional[OneShot], fn: Callable[..., Any],
             *args: Any) -> Any:
    """handle.call(fn, *args): a read that succeeds has set its watch, one
    that fails none."""
    try:
        result = handle.call(fn, *args)
    except BaseException:
        handle.forget(watch)
        raise
    handle.activate(watch)
    return result


def _children_and_stat(handle: Handle, path: str, watch: Optional[OneShot]) -> Any:
    return handle.client.get_children(path, watch, include_stat=True)


def _create_args(zh: int, path: Any, value: Any, acl: Any,
                 flags: Any) -> Tuple[Handle, Tuple[str, bytes, List[Any], int]]:
    handle = lookup(zh)
    flags = check_flags(flags)
    check_path(path, sequential=bool(flags & SEQUENCE))
    data = check_data(value, handle.client.max_data_size)
    return handle, (path, data, parse_acls(acl), flags)


def _create_operation(handle: Handle, path: str, data: bytes, acls: List[Any],
                      flags: int) -> "ops.Operation[str]":
    if flags == CONTAINER:
        return ops.create(handle.client, path, data, acls, container=True)
    return ops.create(handle.client, path, data, acls, flags)


def _create(handle: Handle, path: str, data: bytes, acls: List[Any], flags: int) -> str:
    if flags == CONTAINER:
        return handle.client.create(path, data, acls, container=True)
    return handle.client.create(path, data, acls, flags)


def _set_args(zh: int, path: Any, value: Any, version: Any) -> Tuple[Handle, bytes]:
    handle = lookup(zh)
    check_path(path)
    data = check_data(value, handle.client.max_data_size)
    check_version_arg(version)
    return handle, data


def _set_acl_args(zh: int, path: Any, version: Any, acl: Any) -> Tuple[Handle, List[Any]]:
    handle = lookup(zh)
    check_path(path)
    check_version_arg(version)
    return handle, parse_acls(acl)


def _stat(stat: Any) -> StatDict:
    shaped = stat_dict(stat)
    assert shaped is not None
    return shaped


def _no_result(result: Any) -> Shaped:
    return OK, ()


def _one(result: Any) -> Shaped:
    return OK, (result,)


def _stat_result(stat: Any) -> Shaped:
    return OK, (stat_dict(stat),)


def _exists_result(stat: Any) -> Shaped:
    return (OK, (stat_dict(stat),)) if stat is not None else (NONODE, (None,))


def _names_result(names: Any) -> Shaped:
    return OK, (list(names),)


def _acl_result(result: Any) -> Shaped:
    acls, stat = result
    return OK, (acl_dicts(acls), stat_dict(stat))
