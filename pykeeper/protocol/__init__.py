"""The ZooKeeper client protocol, sans-I/O: records, requests, errors and
the `ClientProtocol` state machine. Nothing here opens a socket, starts a
thread, reads a clock or logs."""

from .client_protocol import (
    AuthReply, ClientProtocol, Connected, Notification, PingReply, Reply, SessionExpired,
    SetWatchesReply,
)
from .errors import ProtocolError, ZooKeeperException, exception_for
from .records import (
    ACL, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CreateFlags, EventType, Id,
    KeeperState, OpCode, Perms, Stat, WatchedEvent, WatcherType, Xid,
)

__all__ = [
    "ACL", "AuthReply", "CREATOR_ALL_ACL", "ClientProtocol", "Connected", "CreateFlags",
    "EventType", "Id", "KeeperState", "Notification", "OPEN_ACL_UNSAFE", "OpCode", "Perms",
    "PingReply", "ProtocolError", "READ_ACL_UNSAFE", "Reply", "SessionExpired",
    "SetWatchesReply", "Stat", "WatchedEvent", "WatcherType", "Xid", "ZooKeeperException",
    "exception_for",
]
