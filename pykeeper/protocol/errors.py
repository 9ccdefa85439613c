"""ZooKeeper error codes and the exception class for each.

Class names follow the official bindings (`NoNodeException`, ...), all
under `ZooKeeperException`. Each exception carries the server's `code` and,
where the request had one, the `path`.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class ZooKeeperException(Exception):
    """Base of every error pykeeper raises for a ZooKeeper operation."""

    code: int = 0
    default_message: str = "zookeeper error"

    def __init__(self, message: Optional[str] = None, path: Optional[str] = None) -> None:
        self.path = path
        text = message or self.default_message
        if path is not None and message is None:
            text = f"{text}: {path}"
        super().__init__(text)


class TimeoutException(ZooKeeperException):
    """A client-side wait (for a connection or a reply) ran out of time."""

    default_message = "timed out"


class ProtocolError(ZooKeeperException):
    """Bytes from the server that do not follow the protocol.

    The connection they arrived on cannot be trusted any more and is reset.
    """

    default_message = "protocol error"


class ClientClosedException(ZooKeeperException):
    """The client was closed, or never connected; call `connect()`."""

    default_message = "the client is closed"


class RolledBackException(ZooKeeperException):
    """In a failed transaction: this operation succeeded but was rolled back
    because another operation of the transaction failed."""

    default_message = "rolled back: another operation of the transaction failed"


_BY_CODE: Dict[int, Type[ZooKeeperException]] = {}


def _define(name: str, code: int, message: str) -> Type[ZooKeeperException]:
    cls = type(name, (ZooKeeperException,), {"code": code, "default_message": message,
                                              "__doc__": f"Server error {code}: {message}."})
    cls.__module__ = "pykeeper"
    _BY_CODE[code] = cls
    return cls


SystemErrorException = _define("SystemErrorException", -1, "system error")
RuntimeInconsistencyException = _define("RuntimeInconsistencyException", -2, "runtime inconsistency")
DataInconsistencyException = _define("DataInconsistencyException", -3, "data inconsistency")
ConnectionLossException = _define("ConnectionLossException", -4, "connection loss")
MarshallingErrorException = _define("MarshallingErrorException", -5, "marshalling error")
UnimplementedException = _define("UnimplementedException", -6, "unimplemented")
OperationTimeoutException = _define("OperationTimeoutException", -7, "operation timeout")
BadArgumentsException = _define("BadArgumentsException", -8, "bad arguments")
InvalidStateException = _define("InvalidStateException", -9, "invalid zhandle state")
UnknownSessionException = _define("UnknownSessionException", -12, "unknown session")
NewConfigNoQuorumException = _define("NewConfigNoQuorumException", -13, "no quorum of new config is connected")
ReconfigInProgressException = _define("ReconfigInProgressException", -14, "reconfiguration requested while another is in progress")
ApiErrorException = _define("ApiErrorException", -100, "api error")
NoNodeException = _define("NoNodeException", -101, "no node")
NoAuthException = _define("NoAuthException", -102, "no permission: the node's ACL does not grant it to this client")
BadVersionException = _define("BadVersionException", -103, "bad version")
NoChildrenForEphemeralsException = _define("NoChildrenForEphemeralsException", -108, "no children for ephemerals")
NodeExistsException = _define("NodeExistsException", -110, "node exists")
NotEmptyException = _define("NotEmptyException", -111, "not empty")
SessionExpiredException = _define("SessionExpiredException", -112, "session expired")
InvalidCallbackException = _define("InvalidCallbackException", -113, "invalid callback")
InvalidACLException = _define("InvalidACLException", -114, "invalid acl")
AuthFailedException = _define("AuthFailedException", -115, "authentication failed")
ClosingException = _define("ClosingException", -116, "zookeeper is closing")
NothingException = _define("NothingException", -117, "(not error) no server responses to process")
SessionMovedException = _define("SessionMovedException", -118, "session moved to another server")
NotReadOnlyException = _define("NotReadOnlyException", -119, "state-changing request sent to a read-only server")
EphemeralOnLocalSessionException = _define("EphemeralOnLocalSessionException", -120, "attempt to create an ephemeral node on a local session")
NoWatcherException = _define("NoWatcherException", -121, "no such watcher")
RequestTimeoutException = _define("RequestTimeoutException", -122, "request timed out")
ReconfigDisabledException = _define("ReconfigDisabledException", -123, "reconfiguration is disabled")
SessionClosedRequireSaslException = _define("SessionClosedRequireSaslException", -124, "session closed: SASL authentication is required")
QuotaExceededException = _define("QuotaExceededException", -125, "quota exceeded")
ThrottledOpException = _define("ThrottledOpException", -127, "operation throttled by the server")

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


ALL_EXCEPTIONS = tuple(_BY_CODE.values())
