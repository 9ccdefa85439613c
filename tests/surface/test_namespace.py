"""`import pykeeper` exposes the API and nothing else; the protocol's
constants are enums that still compare, hash and print as the ints (and
words) they were."""

from __future__ import annotations

import enum
import importlib
import types
import typing

import pytest

import pykeeper
from pykeeper.protocol import errors
from pykeeper.protocol.records import (
    AddWatchMode, CreateFlags, EventType, KeeperState, OpCode, WatchedEvent, WatcherType,
    WatchKind, Xid,
)

TYPING_NAMES = set(typing.__all__) | {"annotations", "TYPE_CHECKING"}

# The modules of the protocol core, the client logic and the clients.
MODULES = [
    "pykeeper", "pykeeper.core.acl", "pykeeper.aio", "pykeeper.clients.sync", "pykeeper.clients.base",
    "pykeeper.clients.events", "pykeeper.clients.logstream", "pykeeper.core.operations", "pykeeper.core.paths",
    "pykeeper.core.retry", "pykeeper.clients.transaction", "pykeeper.protocol", "pykeeper.protocol.client_protocol",
    "pykeeper.protocol.errors", "pykeeper.protocol.jute", "pykeeper.protocol.records",
    "pykeeper.protocol.requests", "pykeeper.protocol.watches", "pykeeper.testing",
    "pykeeper.testing.pytest_plugin", "pykeeper.testing.server", "pykeeper.testing.ensemble",
    "pykeeper.testing.proxy", "pykeeper.zookeeper", "pykeeper.zookeeper.constants",
    "pykeeper.zookeeper.convert", "pykeeper.zookeeper.handles",
]


def test_pykeeper_exposes_its_all_and_submodules_only() -> None:
    extra = []
    for name in dir(pykeeper):
        if name.startswith(("__", "@")) or name in pykeeper.__all__:
            continue  # ("@py_builtins" and the like: pytest's assertion rewriting)
        if isinstance(getattr(pykeeper, name), types.ModuleType):
            assert getattr(pykeeper, name).__name__ == f"pykeeper.{name}", name
            continue
        extra.append(name)
    assert not extra, f"pykeeper exposes names outside __all__: {extra}"
    assert not TYPING_NAMES & set(dir(pykeeper))


@pytest.mark.parametrize("name", MODULES)
def test_each_module_declares_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    assert [n for n in exported if not hasattr(module, n)] == []
    # (a pykeeper class may share a typing name: the Counter recipe, as kazoo's)
    leaked = [n for n in TYPING_NAMES & set(exported)
              if not getattr(getattr(module, n), "__module__", "").startswith("pykeeper")]
    assert not leaked
    namespace: dict = {}
    exec(f"from {name} import *", namespace)
    assert {n for n in namespace if not n.startswith(("__", "@"))} == set(exported)


def test_every_server_error_is_exported_by_its_name() -> None:
    assert len(errors.ALL_EXCEPTIONS) == 34
    for cls in errors.ALL_EXCEPTIONS:
        assert getattr(pykeeper, cls.__name__) is cls
        assert cls.__name__ in pykeeper.__all__
        assert repr(cls) == f"<class 'pykeeper.{cls.__name__}'>"
        assert errors.exception_class(cls.code) is cls
        assert type(errors.exception_for(cls.code, "/p")) is cls


def test_exceptions_declare_their_extra_fields() -> None:
    assert pykeeper.NoNodeException("x").results is None
    assert pykeeper.TimeoutException("x").last_error is None
    assert pykeeper.ProtocolError("x").events == []
    assert "results" in pykeeper.ZooKeeperException.__annotations__
    assert "last_error" in pykeeper.TimeoutException.__annotations__


# Every constant of the int classes these enums replace, with its number.
OLD_VALUES = {
    EventType: {"NONE": -1, "CREATED": 1, "DELETED": 2, "CHANGED": 3, "CHILD": 4,
                "DATA_WATCH_REMOVED": 5, "CHILD_WATCH_REMOVED": 6,
                "PERSISTENT_WATCH_REMOVED": 7},
    KeeperState: {"DISCONNECTED": 0, "SYNC_CONNECTED": 3, "AUTH_FAILED": 4,
                  "CONNECTED_READ_ONLY": 5, "SASL_AUTHENTICATED": 6, "CLOSED": 7,
                  "EXPIRED": -112},
    CreateFlags: {"PERSISTENT": 0, "EPHEMERAL": 1, "SEQUENTIAL": 2, "CONTAINER": 4,
                  "PERSISTENT_WITH_TTL": 5, "PERSISTENT_SEQUENTIAL_WITH_TTL": 6},
    WatcherType: {"CHILDREN": 1, "DATA": 2, "ANY": 3, "PERSISTENT": 4,
                  "PERSISTENT_RECURSIVE": 5},
    AddWatchMode: {"PERSISTENT": 0, "PERSISTENT_RECURSIVE": 1},
    Xid: {"NOTIFICATION": -1, "PING": -2, "AUTH": -4, "SET_WATCHES": -8},
    OpCode: {"NOTIFICATION": 0, "CREATE": 1, "DELETE": 2, "EXISTS": 3, "GET_DATA": 4,
             "SET_DATA": 5, "GET_ACL": 6, "SET_ACL": 7, "GET_CHILDREN": 8, "SYNC": 9,
             "PING": 11, "GET_CHILDREN2": 12, "CHECK": 13, "MULTI": 14, "CREATE2": 15,
             "RECONFIG": 16, "CHECK_WATCHES": 17, "REMOVE_WATCHES": 18,
             "CREATE_CONTAINER": 19, "DELETE_CONTAINER": 20, "CREATE_TTL": 21,
             "MULTI_READ": 22, "AUTH": 100, "SET_WATCHES": 101, "SASL": 102,
             "GET_EPHEMERALS": 103, "GET_ALL_CHILDREN_NUMBER": 104, "SET_WATCHES2": 105,
             "ADD_WATCH": 106, "WHO_AM_I": 107, "CREATE_SESSION": -10,
             "CLOSE_SESSION": -11, "ERROR": -1},
}


@pytest.mark.parametrize("cls", list(OLD_VALUES), ids=lambda c: c.__name__)
def test_constants_are_int_enums_that_behave_as_their_ints(cls: type) -> None:
    assert issubclass(cls, enum.IntEnum)
    assert {m.name: m.value for m in cls} == OLD_VALUES[cls]  # type: ignore[attr-defined]
    for name, value in OLD_VALUES[cls].items():
        member = getattr(cls, name)
        assert member == value and hash(member) == hash(value)
        assert str(member) == str(value) and f"{member}" == str(value)
        assert f"{member:d}|{member:>4}" == f"{value:d}|{value:>4}"
        assert cls(value) is member


def test_event_and_state_words() -> None:
    assert pykeeper.EventType.CREATED == 1
    assert EventType.NAMES[EventType.CHANGED] == "changed"
    assert KeeperState.NAMES[KeeperState.SYNC_CONNECTED] == "connected"
    event = WatchedEvent(1, 3, "/w")
    assert (event.type_name, event.state_name) == ("created", "connected")
    assert repr(event) == "WatchedEvent(type=created, state=connected, path='/w')"
    assert repr(WatchedEvent(99, 42, None)) == "WatchedEvent(type=99, state=42, path=None)"
    assert event == (EventType.CREATED, KeeperState.SYNC_CONNECTED, "/w")


def test_watch_kinds_are_their_words() -> None:
    assert [str(k) for k in WatchKind] == ["data", "exist", "child", "persistent", "recursive"]
    for kind in WatchKind:
        assert kind == kind.value and hash(kind) == hash(kind.value)
        assert {kind.value: 1}[kind] == 1
        assert f"{kind}" == kind.value


def test_transaction_repr_shows_the_queued_operations() -> None:
    tx = pykeeper.ZooKeeper("127.0.0.1:1").transaction().create("/a").delete("/b")
    assert repr(tx) == ("<Transaction of 2 operations, not committed: "
                        "create '/a' (0 bytes); delete '/b'>")


def test_the_driver_callbacks_are_not_client_methods() -> None:
    import pykeeper.aio
    driver_callbacks = ["on_connecting", "on_associating", "on_connected", "on_disconnected",
                        "on_session_expired", "on_notification", "on_auth_failed", "on_closed"]
    for cls in (pykeeper.ZooKeeper, pykeeper.aio.ZooKeeper):
        assert [name for name in driver_callbacks if hasattr(cls, name)] == []
        client = cls("127.0.0.1:1")
        assert callable(client.on_state) and callable(client.on_event)  # the user hooks stay
