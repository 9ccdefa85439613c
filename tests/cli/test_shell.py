"""`pykeeper shell` driven through a pseudo-terminal, as a person would use
it: tab completion of commands and of paths from the live tree, history
across sessions, cd/pwd, a failing command that leaves the shell running,
binary data shown escaped, and a server restarted under it."""

from __future__ import annotations

import fcntl
import os
import platform
import pty
import re
import select
import subprocess
import termios
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import pykeeper

from ..support import WAIT
from .conftest import COMMAND

# select, pselect6, poll and ppoll: how readline waits for a key
_KEY_WAITS = {"x86_64": {"23", "270", "7", "271"}, "aarch64": {"72", "73"}}
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


class Terminal:
    """A process on a pseudo-terminal: type into it, wait for what it shows."""

    def __init__(self, args: list, env: dict) -> None:
        master, slave = pty.openpty()
        def controlling_terminal() -> None:  # (so that Ctrl-C is SIGINT, as in a real one)
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        preexec_fn=controlling_terminal)
        os.close(slave)
        self.master = master
        self.screen = ""  # (everything shown so far, escape sequences removed)
        self.mark = 0

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def expect(self, pattern: str, timeout: float = WAIT) -> str:
        """Wait until `pattern` (a regex) shows after the last match; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.screen, self.mark)
            if found:
                self.mark = found.end()
                return found.group(0)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} never showed; the screen:\n{self.screen}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the shell ended; the screen:\n{self.screen}")
                self.screen += _ESCAPES.sub("", chunk.decode("utf-8", "replace"))

    def wait_until_reading(self, timeout: float = WAIT) -> None:
        """Wait until the shell's main thread sleeps waiting for a key.

        CPython's readline notices a signal only when it interrupts that wait:
        a Ctrl-C landing while a key is still being handled stays pending until
        the next key, so a test must not type one there."""
        task = f"/proc/{self.process.pid}/task/{self.process.pid}"
        waits = _KEY_WAITS.get(platform.machine(), set())
        deadline = time.monotonic() + timeout
        while True:
            with open(f"{task}/wchan") as wchan, open(f"{task}/syscall") as syscall:
                where, number = wchan.read(), syscall.read().split()[0]
            if "select" in where or "poll" in where or number in waits:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell never waited for a key (at {where!r})")
            select.select([], [], [], 0.001)  # (a poll of /proc, not a wait for the shell)

    def close(self) -> int:
        if self.process.poll() is None:
            self.type("\x04")  # (Ctrl-D)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(WAIT)
        os.close(self.master)
        return self.process.returncode


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Any]:
    opened = []

    def open_shell(hosts: str) -> Terminal:
        env = dict(os.environ, ZOOKEEPER_HOSTS=hosts, TERM="xterm",
                   PYKEEPER_HISTORY=str(tmp_path / "history"))
        terminal = Terminal([COMMAND, "shell"], env)
        opened.append(terminal)
        terminal.expect(r"pykeeper \[connected\] /> ")
        return terminal

    yield open_shell
    for terminal in opened:
        terminal.close()


def test_commands_cd_pwd_and_a_failing_command(shell: Any, zk_server: Any, base: str,
                                               client: pykeeper.ZooKeeper) -> None:
    client.create(base + "/config", b"colour=red")
    term = shell(zk_server.hosts)
    term.type("get /no/such/node\n")
    term.expect(r"pykeeper: no node: /no/such/node")
    term.expect(r"\[connected\] /> ")
    term.type(f"cd {base}\n")
    term.expect(rf"\[connected\] {base}> ")
    term.type("pwd\n")
    term.expect(rf"\n{base}\n")
    term.type("get config\n")
    term.expect(r"colour=red")
    term.type("set config colour=blue\n")
    term.type("get config\n")
    term.expect(r"\ncolour=blue\n")
    assert client.get(base + "/config")[0] == b"colour=blue"
    term.type("ls --bogus\n")
    term.expect(r"unrecognized arguments: --bogus")
    term.type("help\n")
    term.expect(r"commands: .*cp.*tree")
    term.type("ls / --hosts 127.0.0.1:1\n")
    term.expect(r"--hosts is set when the shell starts")
    term.type("find / --data (\n")
    term.expect(r"bad --data regular expression")
    term.type("pwd\n")  # (still there)
    term.expect(rf"\n{base}\n")
    term.type("exit\n")
    assert term.process.wait(WAIT) == 0


def test_tab_completes_commands_and_paths_from_the_live_tree(
        shell: Any, zk_server: Any, base: str, client: pykeeper.ZooKeeper) -> None:
    client.create_recursive(base + "/services/alpha-one", b"found by completion")
    term = shell(zk_server.hosts)
    term.type("tre\t")
    term.expect(r"tree ")
    term.type("\x15")  # (Ctrl-U: clear the line)
    term.type(f"get {base}/serv\t")
    term.expect(rf"get {base}/services/")
    term.type("al\t")
    term.expect(r"alpha-one ")
    term.type("\n")
    term.expect(r"found by completion")


def test_history_is_kept_across_sessions(shell: Any, zk_server: Any, tmp_path: Path) -> None:
    term = shell(zk_server.hosts)
    term.type("ls /zookeeper\n")
    term.expect(r"quota")
    term.type("exit\n")
    assert term.process.wait(WAIT) == 0
    assert "ls /zookeeper" in (tmp_path / "history").read_text()
    again = shell(zk_server.hosts)
    again.type("\x1b[A")  # (the up arrow: the last line of the last session, "exit")
    again.expect(r"exit")
    again.type("\x1b[A")  # (and the one before it)
    again.expect(r"ls /zookeeper")
    again.type("\n")
    again.expect(r"quota")


def test_binary_data_is_shown_escaped_on_the_terminal(shell: Any, zk_server: Any, base: str,
                                                     client: pykeeper.ZooKeeper) -> None:
    client.create(base + "/bin", b"\x00\x1b[31m\xff")
    term = shell(zk_server.hosts)
    term.type(f"get {base}/bin\n")
    term.expect(re.escape(r"b'\x00\x1b[31m\xff'"))


def test_ctrl_c_at_the_prompt_keeps_the_shell(shell: Any, zk_server: Any) -> None:
    term = shell(zk_server.hosts)
    term.type("half a line")
    term.expect(r"half a line")
    term.wait_until_reading()  # (readline is done with the keys: Ctrl-C now goes to it)
    term.type("\x03")
    term.expect(r"\^C")
    term.type("pwd\n")
    term.expect(r"\n/\n")


def test_the_shell_keeps_working_through_a_server_restart(shell: Any,
                                                         zk_fresh_server: Any) -> None:
    with pykeeper.ZooKeeper(zk_fresh_server.hosts) as client:
        client.create("/kept", b"still here")
    term = shell(zk_fresh_server.hosts)
    zk_fresh_server.restart()
    term.expect(r"# connection lost; reconnecting")
    term.expect(r"# connected again to ")
    term.type("get /kept\n")
    term.expect(r"still here")
    term.expect(r"pykeeper \[connected\] /> ")
