"""The original pykeeper's switch for where the ZooKeeper library's logging
goes. pykeeper always logs through the stdlib `logging` module (loggers
`pykeeper` and `zookeeper`); these keep old code working."""

from __future__ import annotations

import logging
import sys
from typing import Optional

__all__ = [
    "install_log_stream", "uninstall_log_stream",
]

_stderr_handler: Optional[logging.Handler] = None


def install_log_stream() -> None:
    """Send the `zookeeper` logger's records only through stdlib logging
    (the default), undoing uninstall_log_stream()."""
    global _stderr_handler
    logger = logging.getLogger("zookeeper")
    if _stderr_handler is not None:
        logger.removeHandler(_stderr_handler)
        _stderr_handler = None
    logger.propagate = True


def uninstall_log_stream() -> None:
    """Write the `zookeeper` logger's records (warnings and up) straight to
    stderr, as the original's C library did, instead of through logging."""
    global _stderr_handler
    logger = logging.getLogger("zookeeper")
    if _stderr_handler is None:
        _stderr_handler = logging.StreamHandler(sys.stderr)
        _stderr_handler.setLevel(logging.WARNING)
        _stderr_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(_stderr_handler)
    logger.propagate = False
