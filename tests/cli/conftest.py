"""Fixtures for the `pykeeper` command's tests: it is run as users run it,
through the installed entry point, as a subprocess, against real servers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import pytest

import pykeeper

COMMAND = str(Path(sys.executable).parent / "pykeeper")

Run = Callable[..., "subprocess.CompletedProcess[str]"]


def run_command(*args: str, hosts: Optional[str] = None, input: Optional[str] = None,
                env: Optional[Dict[str, str]] = None,
                timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    """`pykeeper ARGS` with ZOOKEEPER_HOSTS=hosts; its exit code, stdout, stderr."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("ZOOKEEPER_HOSTS", "ZOOKEEPER_AUTH")}
    if hosts:
        environment["ZOOKEEPER_HOSTS"] = hosts
    environment.update(env or {})
    return subprocess.run([COMMAND, *args], input=input, capture_output=True, text=True,
                          env=environment, timeout=timeout)


@pytest.fixture
def cli(zk_server: Any) -> Run:
    """run(*args, **kw): the command against the shared server."""
    return lambda *args, **kwargs: run_command(*args, hosts=zk_server.hosts, **kwargs)


@pytest.fixture
def client(zk_server: Any) -> Iterator[pykeeper.ZooKeeper]:
    with pykeeper.ZooKeeper(zk_server.hosts) as zk:
        yield zk


@pytest.fixture
def base(client: pykeeper.ZooKeeper) -> Iterator[str]:
    """A node "/cli-<uuid>" of this test's own, removed with its subtree after."""
    path = "/cli-" + uuid.uuid4().hex[:12]
    client.create(path)
    yield path
    client.delete_recursive(path, force=True)
