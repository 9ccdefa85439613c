"""pykeeper: a high-level, pure-Python client for Apache ZooKeeper.

    import pykeeper
    client = pykeeper.ZooKeeper("127.0.0.1:2181")
    client.connect()
    client.create_recursive("/app/config/db", '{"ok": true}')
    data, stat = client.get("/app/config/db")
"""

from .acl import make_acl, make_digest_acl, make_digest_acl_credential
from .client import EPHEMERAL, SEQUENCE, State, ZooKeeper
from .logstream import install_log_stream, uninstall_log_stream
from .paths import join
from .protocol.errors import *  # noqa: F401,F403  (one class per error code)
from .protocol.errors import (
    ALL_EXCEPTIONS, ClientClosedException, ProtocolError, RolledBackException,
    TimeoutException, ZooKeeperException,
)
from .protocol.records import (
    ACL, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, EventType, Id, KeeperState,
    Permission, Perms, Stat, WatchedEvent,
)
from .retry import RetryPolicy
from .transaction import Transaction
from .treecache import TreeCache, TreeEvent
from .watchers import ChildrenWatch, DataWatch

# The original API's names.
ClientEvent = WatchedEvent
ZOO_OPEN_ACL_UNSAFE = OPEN_ACL_UNSAFE[0]

__version__ = "0.2.0.dev0"

__all__ = [
    "ACL", "ALL_EXCEPTIONS", "CREATOR_ALL_ACL", "ChildrenWatch", "ClientClosedException",
    "ClientEvent", "DataWatch", "TreeCache", "TreeEvent",
    "EPHEMERAL", "EventType", "Id", "KeeperState", "OPEN_ACL_UNSAFE", "Perms",
    "ProtocolError", "READ_ACL_UNSAFE", "RetryPolicy", "RolledBackException", "SEQUENCE", "Stat", "State",
    "TimeoutException", "Transaction", "WatchedEvent", "ZOO_OPEN_ACL_UNSAFE", "ZooKeeper",
    "ZooKeeperException", "install_log_stream", "join", "uninstall_log_stream",
    "Permission", "make_acl", "make_digest_acl", "make_digest_acl_credential",
] + [cls.__name__ for cls in ALL_EXCEPTIONS]
