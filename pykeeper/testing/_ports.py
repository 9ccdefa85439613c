"""Pick free TCP ports on the loopback interface."""

from __future__ import annotations

import socket
from typing import List

__all__ = ["free_port", "free_ports"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The port is only known to be free at the moment of the call: another
    process may take it before the caller binds it.
    """
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> List[int]:
    """Return ``count`` distinct free TCP ports on ``host``.

    All probe sockets stay bound until every port is chosen, so the kernel
    cannot hand out the same port twice within one call.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        return [p.getsockname()[1] for p in probes]
    finally:
        for probe in probes:
            probe.close()
