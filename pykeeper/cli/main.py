"""The `pykeeper` command: parse the line, run the command, exit with its code."""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional, Sequence

from .context import Context, run
from .parser import build_parser
from .shell import cmd_shell

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The `pykeeper` command (and `python -m pykeeper`). Returns the exit code."""
    # Errors are reported as one line each: the library's warnings (which say
    # the same, logged) stay off the terminal.
    for name in ("zookeeper", "pykeeper"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    parser = build_parser(shell=cmd_shell)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    ctx = Context(args)
    try:
        return run(ctx, args)
    except BrokenPipeError:  # (the reader went away, as `| head` does: stop quietly)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        try:
            ctx.close()
        except KeyboardInterrupt:
            pass
