"""Checks on processes, independent of pykeeper.testing's own bookkeeping."""

from __future__ import annotations


def zookeeper_alive(pid: int) -> bool:
    """True if ``pid`` is a live (not zombie) ZooKeeper server process.

    A zombie counts as dead: the container's init may never reap an orphan.
    Checking the command line guards against the pid being reused.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False
    state = stat[stat.rfind(b")") + 2 :].split()[0]
    return state not in (b"Z", b"X") and b"QuorumPeerMain" in cmdline

