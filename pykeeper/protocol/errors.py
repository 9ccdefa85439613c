"""ZooKeeper error codes and the exception class for each.

Class names follow the official bindings (`NoNodeException`, ...), all
under `ZooKeeperException`. Each exception carries the server's `code` and,
where the request had one, the `path`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Type

__all__ = [
    "ALL_EXCEPTIONS", "CONNECTION_GONE", "RETRYABLE", "ApiErrorException", "AuthFailedException",
    "BadArgumentsException",
    "BadVersionException", "ClientClosedException", "ClosingException",
    "ConnectionLossException", "DataInconsistencyException",
    "EphemeralOnLocalSessionException", "exception_class", "exception_for",
    "InvalidACLException", "InvalidCallbackException", "InvalidStateException",
    "MarshallingErrorException", "NewConfigNoQuorumException", "NoAuthException",
    "NoChildrenForEphemeralsException", "NodeExistsException", "NoNodeException",
    "NotEmptyException", "NothingException", "NotReadOnlyException", "NoWatcherException",
    "OK", "OperationTimeoutException", "ProtocolError", "QuotaExceededException",
    "ReconfigDisabledException", "ReconfigInProgressException", "RequestTimeoutException",
    "RolledBackException", "RuntimeInconsistencyException", "SERVER_ERRORS",
    "SessionClosedRequireSaslException", "SessionExpiredException", "SessionMovedException",
    "SystemErrorException", "ThrottledOpException", "TimeoutException",
    "UnimplementedException", "UnknownSessionException", "ZooKeeperException",
]


class ZooKeeperException(Exception):
    """Base of every error pykeeper raises for a ZooKeeper operation."""

    code: int = 0
    default_message: str = "zookeeper error"
    #: The path of the request that failed, where it had one.
    path: Optional[str]
    #: Raised by a transaction's commit(): every operation's outcome, in
    #: order (RolledBackException for those that would have succeeded).
    results: Optional[List[Any]] = None

    def __init__(self, message: Optional[str] = None, path: Optional[str] = None) -> None:
        self.path = path
        text = message or self.default_message
        if path is not None and message is None:
            text = f"{text}: {path}"
        super().__init__(text)


class TimeoutException(ZooKeeperException):
    """A client-side wait (for a connection or a reply) ran out of time."""

    default_message = "timed out"
    #: Why the last connection attempt failed ("host:port: reason"), if known.
    last_error: Optional[str] = None


class ProtocolError(ZooKeeperException):
    """Bytes from the server that do not follow the protocol.

    The connection they arrived on cannot be trusted any more and is reset.
    """

    default_message = "protocol error"

    def __init__(self, message: Optional[str] = None, path: Optional[str] = None) -> None:
        super().__init__(message, path)
        #: What the same bytes decoded to before the bad frame: still to be
        #: delivered, as if it had come alone.
        self.events: List[Any] = []


class ClientClosedException(ZooKeeperException):
    """The client was closed, or never connected; call `connect()`."""

    default_message = "the client is closed"


class RolledBackException(ZooKeeperException):
    """In a failed transaction: this operation succeeded but was rolled back
    because another operation of the transaction failed."""

    default_message = "rolled back: another operation of the transaction failed"


# One class per server error code, named as the official bindings name them.

class SystemErrorException(ZooKeeperException):
    """Server error -1: system error."""

    code = -1
    default_message = "system error"


class RuntimeInconsistencyException(ZooKeeperException):
    """Server error -2: runtime inconsistency."""

    code = -2
    default_message = "runtime inconsistency"


class DataInconsistencyException(ZooKeeperException):
    """Server error -3: data inconsistency."""

    code = -3
    default_message = "data inconsistency"


class ConnectionLossException(ZooKeeperException):
    """Server error -4: connection loss."""

    code = -4
    default_message = "connection loss"


class MarshallingErrorException(ZooKeeperException):
    """Server error -5: marshalling error."""

    code = -5
    default_message = "marshalling error"


class UnimplementedException(ZooKeeperException):
    """Server error -6: unimplemented."""

    code = -6
    default_message = "unimplemented"


class OperationTimeoutException(ZooKeeperException):
    """Server error -7: operation timeout."""

    code = -7
    default_message = "operation timeout"


class BadArgumentsException(ZooKeeperException):
    """Server error -8: bad arguments."""

    code = -8
    default_message = "bad arguments"


class InvalidStateException(ZooKeeperException):
    """Server error -9: invalid zhandle state."""

    code = -9
    default_message = "invalid zhandle state"


class UnknownSessionException(ZooKeeperException):
    """Server error -12: unknown session."""

    code = -12
    default_message = "unknown session"


class NewConfigNoQuorumException(ZooKeeperException):
    """Server error -13: no quorum of new config is connected."""

    code = -13
    default_message = "no quorum of new config is connected"


class ReconfigInProgressException(ZooKeeperException):
    """Server error -14: reconfiguration requested while another is in progress."""

    code = -14
    default_message = "reconfiguration requested while another is in progress"


class ApiErrorException(ZooKeeperException):
    """Server error -100: api error."""

    code = -100
    default_message = "api error"


class NoNodeException(ZooKeeperException):
    """Server error -101: no node."""

    code = -101
    default_message = "no node"


class NoAuthException(ZooKeeperException):
    """Server error -102: the node's ACL does not grant the operation to this
    client (no matching identity, or too few permissions)."""

    code = -102
    default_message = "no permission: the node's ACL does not grant it to this client"


class BadVersionException(ZooKeeperException):
    """Server error -103: bad version."""

    code = -103
    default_message = "bad version"


class NoChildrenForEphemeralsException(ZooKeeperException):
    """Server error -108: no children for ephemerals."""

    code = -108
    default_message = "no children for ephemerals"


class NodeExistsException(ZooKeeperException):
    """Server error -110: node exists."""

    code = -110
    default_message = "node exists"


class NotEmptyException(ZooKeeperException):
    """Server error -111: not empty."""

    code = -111
    default_message = "not empty"


class SessionExpiredException(ZooKeeperException):
    """Server error -112: session expired."""

    code = -112
    default_message = "session expired"


class InvalidCallbackException(ZooKeeperException):
    """Server error -113: invalid callback."""

    code = -113
    default_message = "invalid callback"


class InvalidACLException(ZooKeeperException):
    """Server error -114: invalid acl."""

    code = -114
    default_message = "invalid acl"


class AuthFailedException(ZooKeeperException):
    """Server error -115: authentication failed."""

    code = -115
    default_message = "authentication failed"


class ClosingException(ZooKeeperException):
    """Server error -116: zookeeper is closing."""

    code = -116
    default_message = "zookeeper is closing"


class NothingException(ZooKeeperException):
    """Server error -117: (not error) no server responses to process."""

    code = -117
    default_message = "(not error) no server responses to process"


class SessionMovedException(ZooKeeperException):
    """Server error -118: session moved to another server."""

    code = -118
    default_message = "session moved to another server"


class NotReadOnlyException(ZooKeeperException):
    """Server error -119: state-changing request sent to a read-only server."""

    code = -119
    default_message = "state-changing request sent to a read-only server"


class EphemeralOnLocalSessionException(ZooKeeperException):
    """Server error -120: attempt to create an ephemeral node on a local session."""

    code = -120
    default_message = "attempt to create an ephemeral node on a local session"


class NoWatcherException(ZooKeeperException):
    """Server error -121: no such watcher."""

    code = -121
    default_message = "no such watcher"


class RequestTimeoutException(ZooKeeperException):
    """Server error -122: request timed out."""

    code = -122
    default_message = "request timed out"


class ReconfigDisabledException(ZooKeeperException):
    """Server error -123: reconfiguration is disabled."""

    code = -123
    default_message = "reconfiguration is disabled"


class SessionClosedRequireSaslException(ZooKeeperException):
    """Server error -124: session closed: SASL authentication is required."""

    code = -124
    default_message = "session closed: SASL authentication is required"


class QuotaExceededException(ZooKeeperException):
    """Server error -125: quota exceeded."""

    code = -125
    default_message = "quota exceeded"


class ThrottledOpException(ZooKeeperException):
    """Server error -127: operation throttled by the server."""

    code = -127
    default_message = "operation throttled by the server"


# The server error classes, in code order as the server lists them.
SERVER_ERRORS: Tuple[Type[ZooKeeperException], ...] = (
    SystemErrorException,
    RuntimeInconsistencyException,
    DataInconsistencyException,
    ConnectionLossException,
    MarshallingErrorException,
    UnimplementedException,
    OperationTimeoutException,
    BadArgumentsException,
    InvalidStateException,
    UnknownSessionException,
    NewConfigNoQuorumException,
    ReconfigInProgressException,
    ApiErrorException,
    NoNodeException,
    NoAuthException,
    BadVersionException,
    NoChildrenForEphemeralsException,
    NodeExistsException,
    NotEmptyException,
    SessionExpiredException,
    InvalidCallbackException,
    InvalidACLException,
    AuthFailedException,
    ClosingException,
    NothingException,
    SessionMovedException,
    NotReadOnlyException,
    EphemeralOnLocalSessionException,
    NoWatcherException,
    RequestTimeoutException,
    ReconfigDisabledException,
    SessionClosedRequireSaslException,
    QuotaExceededException,
    ThrottledOpException,
)
_BY_CODE: Dict[int, Type[ZooKeeperException]] = {cls.code: cls for cls in SERVER_ERRORS}
for _cls in SERVER_ERRORS:
    _cls.__module__ = "pykeeper"  # (as users import them: pykeeper.NoNodeException)
del _cls

OK = 0


def exception_for(code: int, path: Optional[str] = None) -> ZooKeeperException:
    """The exception instance for server error `code` (unknown codes keep their number)."""
    cls = RolledBackException if code == OK else _BY_CODE.get(code)
    if cls is None:
        exc = ZooKeeperException(f"unknown zookeeper error {code}", path)
        exc.code = code
        return exc
    return cls(path=path)


def exception_class(code: int) -> Optional[Type[ZooKeeperException]]:
    """The exception class for server error `code`, or None if there is none."""
    return _BY_CODE.get(code)


ALL_EXCEPTIONS = SERVER_ERRORS
"""Every server error's exception class, in code order."""

# A call that failed with the connection: it may have been applied; it may
# be retried within the session.
RETRYABLE: Tuple[Type[ZooKeeperException], ...] = (
    ConnectionLossException, OperationTimeoutException)
# ... or because the connection or the session is gone: a helper reads
# again once the client is connected.
CONNECTION_GONE: Tuple[Type[ZooKeeperException], ...] = RETRYABLE + (
    SessionExpiredException, ClientClosedException)
