"""The pytest fixtures of pykeeper.testing, run in a separate pytest process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proc_checks import zookeeper_alive

REPO_ROOT = Path(__file__).resolve().parents[2]

_FIXTURE_USER = '''
import json, os

def record(name, server):
    with open(os.environ["PYKEEPER_FIXTURE_RECORD"], "a") as f:
        f.write(json.dumps({"name": name, "pid": server.pid, "dir": server.data_dir}) + "\\n")

def test_servers(zk_server, zk_fresh_server, zk_proxy):
    assert zk_server.four_letter("ruok") == "imok"
    assert zk_fresh_server.port != zk_server.port
    assert zk_fresh_server.four_letter("ruok") == "imok"
    assert zk_proxy.target == ("127.0.0.1", zk_server.port)
    record("zk_server", zk_server)
    record("zk_fresh_server", zk_fresh_server)

def test_ensemble(zk_ensemble):
    assert sorted(zk_ensemble.modes()) == ["follower", "follower", "leader"]
    for i, member in enumerate(zk_ensemble.members):
        record(f"member{i}", member)
'''


def _plugin_installed() -> bool:
    import importlib.metadata

    eps = importlib.metadata.entry_points()
    group = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
    return any(ep.value == "pykeeper.testing.pytest_plugin" for ep in group)


def test_fixtures_serve_and_leave_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(_FIXTURE_USER)
    record = tmp_path / "record.jsonl"
    env = dict(os.environ, PYKEEPER_FIXTURE_RECORD=str(record))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the fixtures come through the pytest11 entry point
    env.pop("PYTEST_ADDOPTS", None)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"]
    if not _plugin_installed():
        args[3:3] = ["-p", "pykeeper.testing.pytest_plugin"]  # e.g. run from a checkout without `pip install`
    result = subprocess.run(
        args,
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=90,
    )
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, output
    assert "2 passed" in output, output

    records = [json.loads(line) for line in record.read_text().splitlines()]
    assert sorted(r["name"] for r in records) == ["member0", "member1", "member2", "zk_fresh_server", "zk_server"]
    for r in records:
        assert not zookeeper_alive(r["pid"]), r
        assert not os.path.exists(r["dir"]), r
