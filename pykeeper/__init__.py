"""pykeeper: a high-level, pure-Python client for Apache ZooKeeper.

    import pykeeper
    client = pykeeper.ZooKeeper("127.0.0.1:2181")
    client.connect()
    client.create_recursive("/app/config/db", '{"ok": true}')
    data, stat = client.get("/app/config/db")

The guides, the concepts and this reference are on the documentation site
(`make docs`, from docs/).
"""

from .core.acl import (
    make_acl, make_digest_acl, make_digest_acl_credential, make_ip_acl, make_sasl_acl,
    make_x509_acl,
)
from .clients.sync import EPHEMERAL, SEQUENCE, ZooKeeper
from .clients.base import State
from .clients.logstream import install_log_stream, uninstall_log_stream
from .core.paths import join
from .protocol.errors import (
    ALL_EXCEPTIONS, ApiErrorException, AuthFailedException, BadArgumentsException,
    BadVersionException, ClientClosedException, ClosingException, ConnectionLossException,
    DataInconsistencyException, EphemeralOnLocalSessionException, InvalidACLException,
    InvalidCallbackException, InvalidStateException, MarshallingErrorException,
    NewConfigNoQuorumException, NoAuthException, NoChildrenForEphemeralsException,
    NodeExistsException, NoNodeException, NotEmptyException, NothingException,
    NotReadOnlyException, NoWatcherException, OperationTimeoutException, ProtocolError,
    QuotaExceededException, ReconfigDisabledException, ReconfigInProgressException,
    RequestTimeoutException, RolledBackException, RuntimeInconsistencyException,
    SessionClosedRequireSaslException, SessionExpiredException, SessionMovedException,
    SystemErrorException, ThrottledOpException, TimeoutException, UnimplementedException,
    UnknownSessionException, ZooKeeperException,
)
from .protocol.records import (
    ACL, ClientInfo, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, EventType, Id, KeeperState,
    Permission, Perms, Stat, WatchedEvent,
)
from .core.retry import RetryPolicy
from .clients.transaction import ReadTransaction, Transaction
from .core.config import EnsembleConfig, Member, parse_config
from .clients.treecache import TreeCache, TreeEvent
from .clients.watchers import ChildrenWatch, ConfigWatch, DataWatch

# The original API's names.
ClientEvent = WatchedEvent
"""The original pykeeper's name of `WatchedEvent`."""
ZOO_OPEN_ACL_UNSAFE = OPEN_ACL_UNSAFE[0]
"""The original pykeeper's open ACL entry (everything to everyone)."""

__version__ = "0.2.0.dev0"

__all__ = [
    "ACL", "ALL_EXCEPTIONS", "ApiErrorException", "AuthFailedException",
    "BadArgumentsException", "BadVersionException", "ChildrenWatch", "ClientClosedException",
    "ClientEvent", "ClosingException", "ConnectionLossException", "CREATOR_ALL_ACL",
    "ConfigWatch", "DataInconsistencyException", "DataWatch", "EPHEMERAL", "EphemeralOnLocalSessionException",
    "EventType", "Id", "install_log_stream", "InvalidACLException", "InvalidCallbackException",
    "InvalidStateException", "join", "KeeperState", "make_acl", "make_digest_acl",
    "make_digest_acl_credential", "make_ip_acl", "make_sasl_acl", "make_x509_acl",
    "MarshallingErrorException", "NewConfigNoQuorumException",
    "NoAuthException", "NoChildrenForEphemeralsException", "NodeExistsException",
    "NoNodeException", "NotEmptyException", "NothingException", "NotReadOnlyException",
    "NoWatcherException", "OPEN_ACL_UNSAFE", "OperationTimeoutException", "Permission",
    "Perms", "ProtocolError", "QuotaExceededException", "READ_ACL_UNSAFE",
    "ReconfigDisabledException", "ReconfigInProgressException", "RequestTimeoutException",
    "RetryPolicy", "RolledBackException", "RuntimeInconsistencyException", "SEQUENCE",
    "SessionClosedRequireSaslException", "SessionExpiredException", "SessionMovedException",
    "Stat", "State", "SystemErrorException", "ThrottledOpException", "TimeoutException",
    "ReadTransaction", "EnsembleConfig", "Member", "parse_config", "ClientInfo",
    "Transaction", "TreeCache", "TreeEvent", "UnimplementedException", "uninstall_log_stream",
    "UnknownSessionException", "WatchedEvent", "ZOO_OPEN_ACL_UNSAFE", "ZooKeeper",
    "ZooKeeperException",
]
