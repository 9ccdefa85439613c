"""pykeeper.testing.ZooKeeperServer against real ZooKeeper processes."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pykeeper.testing import ServerStartError, ZooKeeperNotInstalled, ZooKeeperServer, wait_until
from pykeeper.testing import _process
from pykeeper.testing._install import find_java, zookeeper_classpath

from proc_checks import zookeeper_alive
from zk_wire import NO_NODE, OK, RawSession

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_server_keeps_its_data_over_restart(zk_fresh_server: ZooKeeperServer) -> None:
    server = zk_fresh_server
    with RawSession("127.0.0.1", server.port) as session:
        assert session.create("/persist", b"survives") == OK
        assert session.exists("/persist") == OK
    old_pid, old_port = server.pid, server.port

    server.restart()

    assert server.running and server.pid != old_pid and server.port == old_port
    assert not zookeeper_alive(old_pid)
    with RawSession("127.0.0.1", server.port) as session:
        assert session.get_data("/persist") == (OK, b"survives")
        assert session.exists("/never-created") == NO_NODE


def test_stop_kills_and_start_serves_again(zk_fresh_server: ZooKeeperServer) -> None:
    server = zk_fresh_server
    pid = server.pid
    server.stop()
    assert not server.running and server.pid is None
    assert not zookeeper_alive(pid)
    assert server.mode() is None
    with pytest.raises(OSError):
        server.four_letter("ruok")
    server.start()
    assert server.four_letter("ruok") == "imok"
    assert server.mode() == "standalone"


def test_server_runs_with_the_promised_settings(zk_server: ZooKeeperServer) -> None:
    conf = dict(line.split("=", 1) for line in zk_server.four_letter("conf").splitlines() if "=" in line)
    assert conf["tickTime"] == "200"
    assert conf["minSessionTimeout"] == "400"
    assert conf["maxSessionTimeout"] == "30000"
    assert conf["clientPort"] == str(zk_server.port)
    assert conf["maxClientCnxns"] == "0"
    assert zk_server.hosts == f"127.0.0.1:{zk_server.port}"
    # A 10 s session is granted as asked, and TTL nodes are enabled.
    with RawSession("127.0.0.1", zk_server.port, session_timeout_ms=10000) as session:
        assert session.timeout_ms == 10000
        assert session.create_ttl(f"/ttl-{os.getpid()}", b"", ttl_ms=60000) == OK


def test_context_manager_leaves_no_process_or_directory() -> None:
    with ZooKeeperServer() as server:
        pid, data_dir = server.pid, server.data_dir
        assert pid is not None and zookeeper_alive(pid)
        assert os.path.isfile(os.path.join(data_dir, "zoo.cfg"))
        assert server.four_letter("ruok") == "imok"
    assert not zookeeper_alive(pid)
    assert not os.path.exists(data_dir)
    with pytest.raises(RuntimeError):
        server.start()


def test_server_outlives_the_thread_that_started_it() -> None:
    # PR_SET_PDEATHSIG fires when the forking *thread* exits: a server
    # forked from this short-lived thread would be killed with it.
    server = ZooKeeperServer()
    try:
        native_ids = []

        def start() -> None:
            native_ids.append(threading.get_native_id())
            server.start()

        starter = threading.Thread(target=start)
        starter.start()
        starter.join()
        wait_until(lambda: not os.path.exists(f"/proc/self/task/{native_ids[0]}"), 10)
        with pytest.raises(TimeoutError):
            wait_until(lambda: not server.running, timeout=0.5)
        assert server.four_letter("ruok") == "imok"
    finally:
        server.close()


_ORPHAN_SCRIPT = """
import sys
from pykeeper.testing import ZooKeeperServer
server = ZooKeeperServer()
server.start()
print(server.pid, server.data_dir, flush=True)
sys.stdin.read()
"""


def test_server_dies_when_its_python_process_is_sigkilled() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    child = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=str(REPO_ROOT),
    )
    pid, data_dir = None, None
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 30)
        assert ready, "the child never reported its server"
        pid_text, data_dir = child.stdout.readline().decode().split()
        pid = int(pid_text)
        assert zookeeper_alive(pid)

        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)

        wait_until(lambda: not zookeeper_alive(pid), 10, message=f"java pid {pid} to die")
        # atexit never ran, so the directory is still there until a sweep.
        assert os.path.isdir(data_dir)
        assert data_dir in _process.sweep_stale_dirs(os.path.dirname(data_dir))
        assert not os.path.exists(data_dir)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if pid is not None and zookeeper_alive(pid):
            os.kill(pid, signal.SIGKILL)
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


def test_sweep_keeps_directories_of_live_processes() -> None:
    server = ZooKeeperServer()
    try:
        assert server.data_dir not in _process.sweep_stale_dirs(os.path.dirname(server.data_dir))
        assert os.path.isdir(server.data_dir)
    finally:
        server.close()


def test_failed_start_raises_with_the_log_tail() -> None:
    server = ZooKeeperServer(extra_config={"tickTime": "not-a-number"})
    try:
        started = time.monotonic()
        with pytest.raises(ServerStartError) as info:
            server.start()
        assert time.monotonic() - started < 20  # noticed the exit, did not wait out the timeout
        assert "exited" in str(info.value)
        assert "not-a-number" in info.value.log_tail
        assert not server.running
    finally:
        server.close()


def test_extra_config_none_removes_a_default() -> None:
    with pytest.raises(ValueError):
        ZooKeeperServer(extra_config={"clientPort": 2181})
    server = ZooKeeperServer(extra_config={"forceSync": None, "globalOutstandingLimit": 500})
    try:
        assert "forceSync" not in server.config
        assert server.config["globalOutstandingLimit"] == "500"
    finally:
        server.close()


def test_missing_zookeeper_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ZooKeeperNotInstalled) as info:
        zookeeper_classpath({"ZOOKEEPER_HOME": str(tmp_path)})
    message = str(info.value)
    assert "apt-get install zookeeper" in message
    assert "ZOOKEEPER_HOME" in message and "ZOOKEEPER_CLASSPATH" in message


def test_missing_java_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ZooKeeperNotInstalled) as info:
        find_java({"PATH": str(tmp_path)})
    assert "default-jre-headless" in str(info.value)


def test_missing_install_fails_before_creating_anything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOOKEEPER_HOME", str(tmp_path))
    monkeypatch.delenv("ZOOKEEPER_CLASSPATH", raising=False)
    monkeypatch.setattr(_process, "make_temp_dir", lambda *a: pytest.fail("made a directory"))
    with pytest.raises(ZooKeeperNotInstalled):
        ZooKeeperServer()


def test_tarball_and_explicit_classpaths(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    for name in ("lib/zookeeper-3.9.2.jar", "lib/logback-classic-1.2.13.jar", "zookeeper-3.9.2.jar"):
        (tmp_path / name).write_bytes(b"")
    entries = zookeeper_classpath({"ZOOKEEPER_HOME": str(tmp_path)})
    assert entries[0] == str(tmp_path / "conf")
    assert str(tmp_path / "lib" / "zookeeper-3.9.2.jar") in entries
    assert not any("slf4j-simple" in e for e in entries)  # logback already logs

    explicit = zookeeper_classpath({"ZOOKEEPER_CLASSPATH": f"/a.jar{os.pathsep}/b"})
    assert explicit[:2] == ["/a.jar", "/b"]
