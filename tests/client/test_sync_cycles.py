"""1,000 connect/close cycles leave no thread, socket or memory behind."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref

import pykeeper

from pykeeper.testing import wait_until

from ..support import WAIT, server_sessions

CYCLES = 1000
WARM_UP = 50
MIB = 1024 * 1024


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def cycle(hosts, index, sessions=None):
    zk = pykeeper.ZooKeeper(hosts)
    zk.connect()
    assert zk.state == "connected"
    if sessions is not None:
        sessions.add(zk.session_id)
    if index % 10 == 0:  # now and then do some work, watchers included
        assert zk.exists("/", watcher=lambda event: None) is not None
    zk.close()
    assert zk.state == "closed"
    return weakref.ref(zk)


def test_connect_close_cycles_leak_nothing(zk_server):
    for i in range(WARM_UP):
        cycle(zk_server.hosts, i)
    gc.collect()
    threads_before = threading.active_count()
    names_before = sorted(t.name for t in threading.enumerate())
    fds_before = open_fds()
    rss_before = rss_bytes()

    started = time.monotonic()
    sessions = set()
    refs = [cycle(zk_server.hosts, i, sessions) for i in range(CYCLES)]
    elapsed = time.monotonic() - started

    gc.collect()
    # every client object is gone, so nothing (a thread, a callback) holds one
    assert sum(ref() is not None for ref in refs) == 0
    assert threading.active_count() == threads_before, (
        sorted(t.name for t in threading.enumerate()), names_before)
    assert open_fds() == fds_before
    growth = rss_bytes() - rss_before
    assert growth < 5 * MIB, f"RSS grew by {growth / MIB:.1f} MiB over {CYCLES} cycles"
    # the server was told of every close: none of our sessions lingers
    assert len(sessions) == CYCLES
    wait_until(lambda: not sessions & set(server_sessions(zk_server)),
               WAIT, message="all sessions closed on the server")
    print(f"{CYCLES} connect/close cycles in {elapsed:.1f} s, RSS growth "
          f"{growth / 1024:.0f} KiB")
    assert elapsed < 60, f"{CYCLES} cycles took {elapsed:.1f} s"


def test_close_is_not_taken_for_a_disconnect(zk_server) -> None:
    """After CloseSession the server ends the connection: that must not be
    reported as a disconnect, nor the closed session reconnected."""
    for _ in range(100):
        events = []
        zk = pykeeper.ZooKeeper(zk_server.hosts)
        zk.on_event += events.append
        states = []
        zk.add_listener(states.append)
        zk.connect()
        zk.close()
        assert [e.state for e in events] == [pykeeper.KeeperState.SYNC_CONNECTED]
        assert states[-1] == "closed" and "expired_session" not in states
