"""The official binding's constants, with the values its C library gives
them, and `zerror()`'s texts."""

from __future__ import annotations

import os

__all__ = [
    "APIERROR", "ASSOCIATING_STATE", "AUTHFAILED", "AUTH_FAILED_STATE", "BADARGUMENTS",
    "BADVERSION", "CHANGED_EVENT", "CHILD_EVENT", "CLOSED_STATE", "CLOSING", "CONNECTED_STATE",
    "CONNECTING_STATE", "CONNECTIONLOSS", "CONTAINER", "CREATED_EVENT", "DATAINCONSISTENCY",
    "DELETED_EVENT", "EPHEMERAL", "EPHEMERALONLOCALSESSION", "EXPIRED_SESSION_STATE",
    "INVALIDACL", "INVALIDCALLBACK", "INVALIDSTATE", "LOG_LEVEL_DEBUG", "LOG_LEVEL_ERROR",
    "LOG_LEVEL_INFO", "LOG_LEVEL_WARN", "MARSHALLINGERROR", "NEWCONFIGNOQUORUM", "NOAUTH",
    "NOCHILDRENFOREPHEMERALS", "NODEEXISTS", "NONODE", "NOTCONNECTED_STATE", "NOTEMPTY",
    "NOTHING", "NOTREADONLY", "NOTWATCHING_EVENT", "NOWATCHER", "OK", "OPERATIONTIMEOUT",
    "PERM_ADMIN", "PERM_ALL", "PERM_CREATE", "PERM_DELETE", "PERM_READ", "PERM_WRITE",
    "READONLY_STATE", "RECONFIGDISABLED", "RECONFIGINPROGRESS", "RUNTIMEINCONSISTENCY",
    "SEQUENCE", "SESSIONCLOSEDREQUIRESASLAUTH", "SESSIONEXPIRED", "SESSIONMOVED",
    "SESSION_EVENT", "SYSTEMERROR", "THROTTLEDOP", "UNIMPLEMENTED", "ZOO_VERSION", "zerror",
]

# The C library version the module's behaviour follows (its __version__).
ZOO_VERSION = "3.8.0"

# Return codes: client-side errors, then server (API) errors.
OK = 0
SYSTEMERROR = -1
RUNTIMEINCONSISTENCY = -2
DATAINCONSISTENCY = -3
CONNECTIONLOSS = -4
MARSHALLINGERROR = -5
UNIMPLEMENTED = -6
OPERATIONTIMEOUT = -7
BADARGUMENTS = -8
INVALIDSTATE = -9
NEWCONFIGNOQUORUM = -13
RECONFIGINPROGRESS = -14
APIERROR = -100
NONODE = -101
NOAUTH = -102
BADVERSION = -103
NOCHILDRENFOREPHEMERALS = -108
NODEEXISTS = -110
NOTEMPTY = -111
SESSIONEXPIRED = -112
INVALIDCALLBACK = -113
INVALIDACL = -114
AUTHFAILED = -115
CLOSING = -116
NOTHING = -117
SESSIONMOVED = -118
NOTREADONLY = -119
EPHEMERALONLOCALSESSION = -120
NOWATCHER = -121
RECONFIGDISABLED = -123
SESSIONCLOSEDREQUIRESASLAUTH = -124
THROTTLEDOP = -127

PERM_READ = 1
PERM_WRITE = 2
PERM_CREATE = 4
PERM_DELETE = 8
PERM_ADMIN = 16
PERM_ALL = 31

# create() flags (OR-ed); CONTAINER is the C library's mode 4, alone.
EPHEMERAL = 1
SEQUENCE = 2
CONTAINER = 4

# Connection states, as state() and the session watcher report them.
EXPIRED_SESSION_STATE = -112
AUTH_FAILED_STATE = -113
CLOSED_STATE = 0
CONNECTING_STATE = 1
ASSOCIATING_STATE = 2
CONNECTED_STATE = 3
READONLY_STATE = 5
NOTCONNECTED_STATE = 999

# Watch event types.
CREATED_EVENT = 1
DELETED_EVENT = 2
CHANGED_EVENT = 3
CHILD_EVENT = 4
SESSION_EVENT = -1
NOTWATCHING_EVENT = -2

LOG_LEVEL_ERROR = 1
LOG_LEVEL_WARN = 2
LOG_LEVEL_INFO = 3
LOG_LEVEL_DEBUG = 4

_TEXTS = {
    OK: "ok",
    SYSTEMERROR: "system error",
    RUNTIMEINCONSISTENCY: "run time inconsistency",
    DATAINCONSISTENCY: "data inconsistency",
    CONNECTIONLOSS: "connection loss",
    MARSHALLINGERROR: "marshalling error",
    UNIMPLEMENTED: "unimplemented",
    OPERATIONTIMEOUT: "operation timeout",
    BADARGUMENTS: "bad arguments",
    INVALIDSTATE: "invalid zhandle state",
    NEWCONFIGNOQUORUM: "no quorum of new config is connected and up-to-date with the leader "
                       "of last committed config - try invoking reconfiguration after new "
                       "servers are connected and synced",
    RECONFIGINPROGRESS: "Another reconfiguration is in progress -- concurrent reconfigs not "
                        "supported (yet)",
    APIERROR: "api error",
    NONODE: "no node",
    NOAUTH: "not authenticated",
    BADVERSION: "bad version",
    NOCHILDRENFOREPHEMERALS: "no children for ephemerals",
    NODEEXISTS: "node exists",
    NOTEMPTY: "not empty",
    SESSIONEXPIRED: "session expired",
    INVALIDCALLBACK: "invalid callback",
    INVALIDACL: "invalid acl",
    AUTHFAILED: "authentication failed",
    CLOSING: "zookeeper is closing",
    NOTHING: "(not error) no server responses to process",
    SESSIONMOVED: "session moved to another server, so operation is ignored",
    NOTREADONLY: "state-changing request is passed to read-only server",
    EPHEMERALONLOCALSESSION: "attempt to create ephemeral node on a local session",
    NOWATCHER: "the watcher couldn't be found",
    RECONFIGDISABLED: "attempts to perform a reconfiguration operation when reconfiguration "
                      "feature is disable",
    SESSIONCLOSEDREQUIRESASLAUTH: "session closed by server because client is required to do "
                                  "SASL authentication",
    THROTTLEDOP: "Operation was throttled due to high load",
}


def zerror(code: int, /) -> str:
    """The C library's text for return code `code` ("no node" for NONODE);
    a positive code is an errno, named as the OS names it. TypeError if
    `code` is not an int."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"zerror() takes an int return code, not {type(code).__name__}")
    if code in _TEXTS:
        return _TEXTS[code]
    return os.strerror(code) if code > 0 else "unknown error"
