"""What a type checker sees of the public surface: mypy, run on a small
program that uses both clients, infers each call's precise type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

pytest.importorskip("mypy")
pytest.importorskip("typing_extensions")

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = '''
from concurrent.futures import Future
from typing import Any, List, Optional, Tuple
from typing_extensions import assert_type

import pykeeper
import pykeeper.aio
from pykeeper import Stat


def sync(zk: pykeeper.ZooKeeper, flag: bool) -> None:
    assert_type(zk.get("/x"), Tuple[bytes, Stat])
    assert_type(zk.get_async("/x"), "Future[Tuple[bytes, Stat]]")
    assert_type(zk.exists_async("/x"), "Future[Optional[Stat]]")
    assert_type(zk.set_async("/x", b"v"), "Future[Stat]")
    assert_type(zk.create_async("/x", b"v", ephemeral=True), "Future[str]")
    assert_type(zk.delete_async("/x"), "Future[None]")
    assert_type(zk.create("/x", acl=pykeeper.OPEN_ACL_UNSAFE), str)
    assert_type(zk.create2("/x", "v", [{"perms": 31, "scheme": "world", "id": "anyone"}]),
                Tuple[str, Stat])
    assert_type(zk.set_acl("/x", pykeeper.READ_ACL_UNSAFE, 0), Stat)
    assert_type(zk.set_acl("/x", 0, pykeeper.READ_ACL_UNSAFE), Stat)  # (the original order)
    assert_type(zk.get_children("/x"), List[str])
    assert_type(zk.get_children("/x", include_stat=True), Tuple[List[str], Stat])
    assert_type(zk.get_children_async("/x"), "Future[List[str]]")
    assert_type(zk.transaction().create("/a").commit(), List[Any])
    assert_type(zk.transaction().commit_async(), "Future[List[Any]]")


async def aio(zk: pykeeper.aio.ZooKeeper) -> None:
    assert_type(await zk.get("/x"), Tuple[bytes, Stat])
    assert_type(await zk.set2("/x", b"v"), Stat)
    assert_type(await zk.exists("/x"), Optional[Stat])
    assert_type(await zk.get_children("/x"), List[str])
    assert_type(await zk.get_children("/x", None, True), Tuple[List[str], Stat])
    assert_type(await zk.create_recursive("/a/b"), str)
    assert_type(zk.get_async("/x"), "Future[Tuple[bytes, Stat]]")
    assert_type(await zk.transaction().delete("/a").commit(), List[Any])
'''


def _mypy(tmp_path: Path, program: str) -> Tuple[str, List[str]]:
    source = tmp_path / "uses_pykeeper.py"
    source.write_text(program)
    # (In a process of its own: mypy retunes the garbage collector of the
    # process it runs in, which would change the timing of later tests.)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-error-summary", f"--cache-dir={ROOT / '.mypy_cache'}", str(source)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    errors = [line for line in run.stdout.splitlines() if "uses_pykeeper.py" in line]
    return run.stderr, errors


def test_type_checkers_see_precise_types(tmp_path: Path) -> None:
    err, errors = _mypy(tmp_path, PROGRAM)
    assert not err
    assert errors == []


def test_a_wrong_expectation_is_reported(tmp_path: Path) -> None:
    err, errors = _mypy(tmp_path, PROGRAM.replace(
        'assert_type(zk.get_async("/x"), "Future[Tuple[bytes, Stat]]")',
        'assert_type(zk.get_async("/x"), "Future[str]")'))
    assert len(errors) == 2 and all("assert_type" in e or "Expression" in e for e in errors)
