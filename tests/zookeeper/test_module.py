"""The module's face, no server needed: the binding's constants with its
C library's values, its exception classes (pykeeper's own, flat under
ZooKeeperException), zerror()'s texts, handle misuse, positional-only
calls, and install() -- which never shadows a real `zookeeper` module."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pykeeper
from pykeeper import zookeeper

# name -> value, from the C library's zookeeper.h / zk_adaptor.h.
C_VALUES = {
    "OK": 0, "SYSTEMERROR": -1, "RUNTIMEINCONSISTENCY": -2, "DATAINCONSISTENCY": -3,
    "CONNECTIONLOSS": -4, "MARSHALLINGERROR": -5, "UNIMPLEMENTED": -6, "OPERATIONTIMEOUT": -7,
    "BADARGUMENTS": -8, "INVALIDSTATE": -9, "APIERROR": -100, "NONODE": -101, "NOAUTH": -102,
    "BADVERSION": -103, "NOCHILDRENFOREPHEMERALS": -108, "NODEEXISTS": -110, "NOTEMPTY": -111,
    "SESSIONEXPIRED": -112, "INVALIDCALLBACK": -113, "INVALIDACL": -114, "AUTHFAILED": -115,
    "CLOSING": -116, "NOTHING": -117, "SESSIONMOVED": -118,
    "PERM_READ": 1, "PERM_WRITE": 2, "PERM_CREATE": 4, "PERM_DELETE": 8, "PERM_ADMIN": 16,
    "PERM_ALL": 31, "EPHEMERAL": 1, "SEQUENCE": 2,
    "EXPIRED_SESSION_STATE": -112, "AUTH_FAILED_STATE": -113, "CONNECTING_STATE": 1,
    "ASSOCIATING_STATE": 2, "CONNECTED_STATE": 3,
    "CREATED_EVENT": 1, "DELETED_EVENT": 2, "CHANGED_EVENT": 3, "CHILD_EVENT": 4,
    "SESSION_EVENT": -1, "NOTWATCHING_EVENT": -2,
    "LOG_LEVEL_ERROR": 1, "LOG_LEVEL_WARN": 2, "LOG_LEVEL_INFO": 3, "LOG_LEVEL_DEBUG": 4,
}
# The official module's exception classes and the code each stands for.
EXCEPTIONS = {
    "SystemErrorException": -1, "RuntimeInconsistencyException": -2,
    "DataInconsistencyException": -3, "ConnectionLossException": -4,
    "MarshallingErrorException": -5, "UnimplementedException": -6,
    "OperationTimeoutException": -7, "BadArgumentsException": -8,
    "InvalidStateException": -9, "ApiErrorException": -100, "NoNodeException": -101,
    "NoAuthException": -102, "BadVersionException": -103,
    "NoChildrenForEphemeralsException": -108, "NodeExistsException": -110,
    "NotEmptyException": -111, "SessionExpiredException": -112,
    "InvalidCallbackException": -113, "InvalidACLException": -114,
    "AuthFailedException": -115, "ClosingException": -116, "NothingException": -117,
    "SessionMovedException": -118,
}
# The binding's method table, and what this module adds from the C library (get_children2,
# sync) or for Python 3 (install).
FUNCTIONS = [
    "init", "init_ssl", "close", "state", "client_id", "recv_timeout", "is_unrecoverable",
    "set_watcher", "add_auth", "set_debug_level", "set_log_stream", "deterministic_conn_order",
    "zerror", "create", "delete", "exists", "get", "set", "set2", "get_children",
    "get_acl", "set_acl", "acreate", "adelete", "aexists", "aget",
    "aset", "aget_children", "aget_acl", "aset_acl", "async",
] + ["get_children2", "sync"]


@pytest.mark.parametrize("name", sorted(C_VALUES))
def test_each_constant_has_the_c_librarys_value(name: str) -> None:
    value = getattr(zookeeper, name)
    assert type(value) is int and value == C_VALUES[name]


def test_the_version_reads_as_the_c_librarys() -> None:
    assert zookeeper.__version__.count(".") == 2
    assert all(part.isdigit() for part in zookeeper.__version__.split("."))


@pytest.mark.parametrize("name", sorted(EXCEPTIONS))
def test_each_exception_is_pykeepers_class_flat_under_zookeeper_exception(name: str) -> None:
    cls = getattr(zookeeper, name)
    assert cls is getattr(pykeeper, name)
    assert cls.__bases__ == (zookeeper.ZooKeeperException,)
    assert cls.code == EXCEPTIONS[name]
    assert zookeeper.ZooKeeperException.__bases__ == (Exception,)


@pytest.mark.parametrize("code, text", [
    (zookeeper.OK, "ok"), (zookeeper.NONODE, "no node"), (zookeeper.NODEEXISTS, "node exists"),
    (zookeeper.CONNECTIONLOSS, "connection loss"), (zookeeper.NOAUTH, "not authenticated"),
    (zookeeper.INVALIDSTATE, "invalid zhandle state"), (zookeeper.CLOSING, "zookeeper is closing"),
    (zookeeper.SESSIONEXPIRED, "session expired"), (-12345, "unknown error"),
])
def test_zerror_gives_the_c_librarys_text(code: int, text: str) -> None:
    assert zookeeper.zerror(code) == text


def test_zerror_of_a_positive_code_is_the_os_error_text() -> None:
    import errno
    import os
    assert zookeeper.zerror(errno.ECONNREFUSED) == os.strerror(errno.ECONNREFUSED)
    with pytest.raises(TypeError):
        zookeeper.zerror("no node")  # type: ignore[arg-type]


def test_every_function_of_the_binding_is_there_and_positional_only() -> None:
    assert callable(zookeeper.install)
    for name in FUNCTIONS:
        fn = getattr(zookeeper, name)
        assert callable(fn), name
        kinds = {p.kind for p in inspect.signature(fn).parameters.values()
                 if p.name != "binary"}
        assert kinds == {inspect.Parameter.POSITIONAL_ONLY}, name
    with pytest.raises(TypeError):
        zookeeper.get(zh=0, path="/")  # type: ignore[call-arg]


def test_async_is_reachable_by_its_keyword_name() -> None:
    assert getattr(zookeeper, "async") is zookeeper.async_


@pytest.mark.parametrize("call", [
    lambda: zookeeper.state(10**6), lambda: zookeeper.get(-1, "/"),
    lambda: zookeeper.close(10**6), lambda: zookeeper.aget(10**6, "/", None, print),
])
def test_an_unknown_handle_is_a_zookeeper_exception(call: object) -> None:
    with pytest.raises(zookeeper.ZooKeeperException, match="zhandle out of range"):
        call()  # type: ignore[operator]


def test_a_handle_that_is_not_an_int_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="handle is an int"):
        zookeeper.get("0", "/")  # type: ignore[arg-type]


def test_bad_init_arguments_fail_before_anything_starts() -> None:
    with pytest.raises(zookeeper.BadArgumentsException, match="bad port"):
        zookeeper.init("127.0.0.1:99999")
    with pytest.raises(zookeeper.BadArgumentsException, match="recv_timeout"):
        zookeeper.init("127.0.0.1:2181", None, 0)
    with pytest.raises(zookeeper.InvalidCallbackException, match="watcher"):
        zookeeper.init("127.0.0.1:2181", "not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        zookeeper.init(b"127.0.0.1:2181")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="client_id"):
        zookeeper.init("127.0.0.1:2181", None, 10000, 12345)  # type: ignore[arg-type]


def test_set_debug_level_sets_the_loggers_and_refuses_other_levels() -> None:
    import logging
    loggers = [logging.getLogger(name) for name in ("pykeeper", "zookeeper")]
    before = [logger.level for logger in loggers]
    try:
        zookeeper.set_debug_level(zookeeper.LOG_LEVEL_DEBUG)
        assert [logger.level for logger in loggers] == [logging.DEBUG] * 2
        zookeeper.set_debug_level(zookeeper.LOG_LEVEL_ERROR)
        assert [logger.level for logger in loggers] == [logging.ERROR] * 2
        with pytest.raises(ValueError, match="LOG_LEVEL"):
            zookeeper.set_debug_level(7)
    finally:
        for logger, level in zip(loggers, before):
            logger.setLevel(level)


def test_set_log_stream_wants_a_file() -> None:
    with pytest.raises(ValueError, match="file object"):
        zookeeper.set_log_stream("zk.log")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_install_lets_import_zookeeper_give_this_module(tmp_path: Path) -> None:
    result = _python("""
        import pykeeper.zookeeper
        assert pykeeper.zookeeper.install() is pykeeper.zookeeper
        import zookeeper
        assert zookeeper is pykeeper.zookeeper and zookeeper.NONODE == -101
        assert pykeeper.zookeeper.install() is zookeeper   # (twice is fine)
        print("ok")
    """, tmp_path)
    assert result.stdout.strip() == "ok", result.stderr


def test_install_never_shadows_a_real_zookeeper_module(tmp_path: Path) -> None:
    (tmp_path / "zookeeper.py").write_text("REAL = True\n")
    result = _python("""
        import pykeeper.zookeeper
        try:
            pykeeper.zookeeper.install()
        except ImportError as exc:
            print("refused:", exc)
        import zookeeper
        print("real" if getattr(zookeeper, "REAL", False) else "shadowed")
    """, tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused: a module named zookeeper is installed"), result.stderr
    assert "zookeeper.py" in lines[0]
    assert lines[1] == "real"


def test_install_refuses_when_another_zookeeper_is_already_imported() -> None:
    saved = sys.modules.get("zookeeper")
    sys.modules["zookeeper"] = importlib.import_module("json")
    try:
        with pytest.raises(ImportError, match="already imported"):
            zookeeper.install()
    finally:
        if saved is None:
            del sys.modules["zookeeper"]
        else:
            sys.modules["zookeeper"] = saved
