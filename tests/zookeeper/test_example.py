"""example/zkpython_config.py, a program in the C binding's style, runs
against a real server and prints what it did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "example" / "zkpython_config.py"


def test_the_zkpython_style_example_runs(zk_server: Any) -> None:
    result = subprocess.run([sys.executable, str(EXAMPLE), zk_server.hosts],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("connected: session 0x")
    assert lines[1].endswith("= 'colour=red' (version 0)")
    assert lines[2:4] == ["watcher saw 'colour=green' (version 1)",
                          "watcher saw 'colour=blue' (version 2)"]
    assert lines[4].startswith("ok: zkpython-example-") and lines[4].endswith(": True")
    assert lines[5].startswith("creating it again: NodeExistsException")
    assert result.stderr == ""
