"""`pykeeper shell`: every command at a prompt that shows the connection
state, with tab completion of commands and of paths from the live tree,
history kept across sessions, and cd / pwd."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
from typing import Any, List, Optional

from ..clients.base import State
from ..core.paths import join
from .context import CONNECTION_OPTIONS, Context, run
from .parser import build_parser

__all__ = ["Shell", "cmd_shell"]

BUILTINS = {"cd": "cd [PATH]: go to a node (default /)", "pwd": "pwd: where you are",
            "help": "help [COMMAND]: the commands, or one command's options",
            "exit": "exit (or Ctrl-D): leave the shell"}
_STATE_NOTES = {State.CONNECTING: "connection lost; reconnecting (commands wait for it)",
                State.EXPIRED_SESSION: "the session expired; starting a new one"}


def cmd_shell(ctx: Context, args: argparse.Namespace) -> int:
    return Shell(ctx).loop()


class Shell:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.parser = build_parser(prog="pykeeper")
        self.commands: List[str] = sorted(self._command_names()) + sorted(BUILTINS)
        self.client = ctx.client()
        self._lost = False
        self._write_lock = threading.Lock()
        self.history = os.environ.get("PYKEEPER_HISTORY") or os.path.expanduser(
            "~/.pykeeper_history")
        self.readline: Any = None
        try:
            import readline
        except ImportError:  # (no line editing on this Python: plain input())
            ctx.err.write("# no readline here: no completion or history (on Windows: "
                          "pip install 'pykeeper[cli]')\n")
            return
        self.readline = readline
        readline.set_completer(self.complete)
        readline.set_completer_delims(" \t\n")
        readline.parse_and_bind("tab: complete")
        readline.set_history_length(1000)
        if os.path.exists(self.history):
            try:
                readline.read_history_file(self.history)
            except OSError:
                pass

    def _command_names(self) -> List[str]:
        for action in self.parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return list(action.choices)
        return []

    @property
    def prompt(self) -> str:
        return f"pykeeper [{self.client.state_name}] {self.ctx.cwd}> "

    def loop(self) -> int:
        self.client.add_listener(self._on_state)
        self._say(f"connected to {self.ctx.hosts}; 'help' lists the commands, Ctrl-D leaves")
        try:
            while True:
                try:
                    line = input(self.prompt)
                except EOFError:
                    self.ctx.out.write("\n")
                    return 0
                except KeyboardInterrupt:
                    self.ctx.out.write("^C\n")
                    continue
                if self.execute(line) == "exit":
                    return 0
        finally:
            self.client.remove_listener(self._on_state)
            if self.readline is not None:
                try:
                    self.readline.write_history_file(self.history)
                except OSError as exc:
                    self.ctx.err.write(f"history not saved to {self.history}: {exc}\n")

    def execute(self, line: str) -> Optional[str]:
        """Run one line; returns "exit" when it asks to leave."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self.ctx.err.write(f"pykeeper: {exc}\n")
            return None
        if not words:
            return None
        name, rest = words[0], words[1:]
        if name in ("exit", "quit"):
            return "exit"
        if name == "pwd":
            self.ctx.print(self.ctx.cwd)
            return None
        if name == "cd":
            self._cd(rest[0] if rest else "/")
            return None
        if name == "help":
            self._help(rest)
            return None
        if name not in self.commands and not name.startswith("-"):
            self.ctx.err.write(f"pykeeper: no command {name!r}; 'help' lists them\n")
            return None
        try:
            args = self.parser.parse_args(words)
        except SystemExit:  # (argparse said what was wrong, or printed --help)
            return None
        if getattr(args, "func", None) is None:
            return None
        fixed = [name for name in CONNECTION_OPTIONS if name in vars(args)]
        if fixed:
            self.ctx.err.write(f"pykeeper: --{fixed[0].replace('_', '-')} is set when the shell "
                               f"starts (pykeeper --{fixed[0].replace('_', '-')} ... shell)\n")
            return None
        self.ctx.json = bool(getattr(args, "json", False))
        run(self.ctx, args)
        self.ctx.out.flush()
        return None

    def _cd(self, path: str) -> None:
        target = self.ctx.path(path)
        try:
            found = self.client.exists(target)
        except Exception as exc:
            self.ctx.err.write(f"pykeeper: {exc}\n")
            return
        if found is None:
            self.ctx.err.write(f"pykeeper: no node: {target}\n")
        else:
            self.ctx.cwd = target

    def _help(self, rest: List[str]) -> None:
        if rest and rest[0] not in BUILTINS:
            try:
                self.parser.parse_args([rest[0], "--help"])
            except SystemExit:
                pass
            return
        self.ctx.print("commands: " + " ".join(sorted(self._command_names())))
        for text in BUILTINS.values():
            self.ctx.print("  " + text)
        self.ctx.print("'help COMMAND' (or COMMAND --help) shows its options")

    def complete(self, text: str, index: int) -> Optional[str]:
        """readline's completer: command names first, then node paths."""
        if index == 0:
            self._matches = self._candidates(text)
        return self._matches[index] if index < len(self._matches) else None

    def _candidates(self, text: str) -> List[str]:
        line = self.readline.get_line_buffer() if self.readline is not None else ""
        begin = self.readline.get_begidx() if self.readline is not None else 0
        if not line[:begin].strip():
            return [name + " " for name in self.commands if name.startswith(text)]
        head, _, prefix = text.rpartition("/")
        parent = self.ctx.path(head or ("/" if text.startswith("/") else "."))
        try:
            names = sorted(self.client.get_children(parent))
        except Exception:
            return []
        names = [n for n in names if n.startswith(prefix)]
        stats = [self.client.exists_async(join(parent, n)) for n in names[:100]]
        out = []
        for i, name in enumerate(names):
            shown = (head + "/" if head or text.startswith("/") else "") + name
            try:
                stat = stats[i].result() if i < len(stats) else None
                has_children = stat is not None and stat.numChildren > 0
            except Exception:
                has_children = False
            out.append(shown + ("/" if has_children else " "))
        return out

    def _on_state(self, state: State) -> None:
        note = _STATE_NOTES.get(state)
        if state in _STATE_NOTES:
            self._lost = True
        elif state in (State.CONNECTED, State.CONNECTED_READONLY) and self._lost:
            self._lost = False
            note = f"connected again to {self.client.current_server}"
        if note:
            self._say(note, redraw=True)

    def _say(self, text: str, redraw: bool = False) -> None:
        with self._write_lock:
            out = sys.stdout
            out.write(("\r\n" if redraw else "") + f"# {text}\n")
            if redraw:
                out.write(self.prompt + (self.readline.get_line_buffer()
                                         if self.readline is not None else ""))
            out.flush()
