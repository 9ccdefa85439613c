"""The `pykeeper` command: a ZooKeeper shell and scriptable command line
(`pykeeper --help`). `main(argv)` runs it and returns the exit code."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
