"""Run a real ZooKeeper ensemble: n servers on loopback that elect a leader."""

from __future__ import annotations

import os
import time
from typing import Dict, List, Mapping, Optional, Sequence

from . import _process
from ._install import find_java, zookeeper_classpath
from ._ports import free_ports
from ._wait import wait_until
from .server import ZooKeeperServer

__all__ = ["ZooKeeperEnsemble"]

_SERVING_MODES = ("leader", "follower", "observer")


class ZooKeeperEnsemble:
    """``n`` ZooKeeper servers forming one ensemble on 127.0.0.1.

    Members are indexed from 0 (``members[i]`` has ``myid`` i + 1). Client,
    quorum and election ports are all free ports; each member is a
    ZooKeeperServer with its own data directory under one temporary root.
    ``init_limit``/``sync_limit`` are in ticks (20 and 10 at the 200 ms
    default tick: 4 s to join, 2 s of follower lag before it is dropped).

    With ``reconfig``, the members take dynamic reconfiguration
    (``reconfigEnabled``; each member keeps the configuration it rewrites)
    and ``super_password`` gives the digest super user reconfig needs
    (``super_credentials``); ``add_member()`` starts another server ready
    to join, ``member_spec(i)`` is a member's ``server.N=...`` line.

    Raises ZooKeeperNotInstalled when Java or ZooKeeper cannot be found,
    ValueError for ``n < 1``.
    """

    def __init__(
        self,
        n: int = 3,
        tick_time: int = 200,
        extra_config: Optional[Mapping[str, object]] = None,
        java_options: Sequence[str] = (),
        *,
        init_limit: int = 20,
        sync_limit: int = 10,
        start_timeout: float = 30.0,
        reconfig: bool = False,
        super_password: Optional[str] = None,
    ) -> None:
        if n < 1:
            raise ValueError(f"an ensemble needs at least one member, not {n}")
        self._java = find_java()
        self._classpath = zookeeper_classpath()
        self.start_timeout = start_timeout
        self._tick_time = tick_time
        self._java_options = list(java_options)
        self._reconfig = reconfig
        self._super_password = super_password
        self._specs: List[str] = []
        config: Dict[str, object] = {"initLimit": init_limit, "syncLimit": sync_limit}
        if n == 1 or reconfig:
            # Otherwise a lone member runs as a plain standalone server, with
            # no leader for leader() to find (nor a configuration to change).
            config["standaloneEnabled"] = False
        if reconfig:
            config["reconfigEnabled"] = True
        ports = free_ports(3 * n)  # (in one call: distinct across the members)
        for i in range(n):
            self._specs.append(self._new_spec(i + 1, ports=ports[3 * i:3 * i + 3]))
            config[f"server.{i + 1}"] = self._specs[i].partition("=")[2]
        config.update(extra_config or {})
        self._config = config
        self._root = _process.make_temp_dir("ensemble-")
        self._closed = False
        self._members = [self._member(i + 1, config) for i in range(n)]

    def _new_spec(self, server_id: int, role: str = "participant",
                  ports: Optional[List[int]] = None) -> str:
        quorum, election, client = ports or free_ports(3)
        return f"server.{server_id}=127.0.0.1:{quorum}:{election}:{role};127.0.0.1:{client}"

    def _member(self, server_id: int, config: Mapping[str, object]) -> ZooKeeperServer:
        client_port = int(self._specs[server_id - 1].rsplit(":", 1)[1])
        return ZooKeeperServer(
            self._tick_time,
            config,
            self._java_options,
            port=client_port,
            data_dir=os.path.join(self._root, f"member-{server_id}"),
            server_id=server_id,
            start_timeout=self.start_timeout,
            java=self._java,
            classpath=self._classpath,
            super_password=self._super_password,
            keep_config=self._reconfig,
        )

    def member_spec(self, index: int) -> str:
        """Member ``index``'s line in the configuration,
        ``server.N=127.0.0.1:quorum:election:participant;127.0.0.1:client``:
        what ``reconfig(joining=...)`` takes."""
        return self._specs[index]

    def add_member(self, role: str = "participant", wait: bool = True,
                   timeout: Optional[float] = None) -> int:
        """Start a new server (myid n + 1) whose configuration is the
        members' plus itself, ready to be added with
        ``reconfig(joining=ensemble.member_spec(index))``; returns its index.
        With ``wait``, returns once it serves (as a learner of the leader).
        RuntimeError without ``reconfig``."""
        if not self._reconfig:
            raise RuntimeError("add_member needs an ensemble made with reconfig=True")
        if role not in ("participant", "observer"):
            raise ValueError(f"role must be 'participant' or 'observer', not {role!r}")
        server_id = len(self._members) + 1
        self._specs.append(self._new_spec(server_id, role))
        config = dict(self._config)
        config[f"server.{server_id}"] = self._specs[-1].partition("=")[2]
        member = self._member(server_id, config)
        self._members.append(member)
        member.start(wait=wait, timeout=timeout)
        return len(self._members) - 1

    @property
    def super_credentials(self) -> str:
        """``"super:PASSWORD"`` for ``add_auth("digest", ...)``, with ``super_password``."""
        if self._super_password is None:
            raise RuntimeError("this ensemble has no super user: make it with super_password=")
        return f"super:{self._super_password}"

    @property
    def members(self) -> List[ZooKeeperServer]:
        """The member servers, in ``myid`` order (a new list each time)."""
        return list(self._members)

    @property
    def hosts(self) -> str:
        """The connect string naming every member: ``"127.0.0.1:p1,127.0.0.1:p2,..."``."""
        return ",".join(m.hosts for m in self._members)

    @property
    def data_dir(self) -> str:
        """The directory holding every member's directory."""
        return self._root

    @property
    def quorum_size(self) -> int:
        return len(self._members) // 2 + 1

    def start(self, timeout: Optional[float] = None) -> None:
        """Start every stopped member and wait until all of them serve (as leader or follower).

        Raises ServerStartError (after stopping every member) if one exits or
        the ensemble is not serving within ``timeout`` (default ``start_timeout``),
        RuntimeError after ``close()``.
        """
        if self._closed:
            raise RuntimeError("this ZooKeeperEnsemble is closed")
        deadline = time.monotonic() + (self.start_timeout if timeout is None else timeout)
        try:
            # Launch all before waiting on any: no member can serve alone.
            for member in self._members:
                member.start(wait=False)
            for member in self._members:
                member.wait_until_serving(max(0.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill every member (SIGKILL); their data is kept for ``start()``."""
        for member in self._members:
            member.stop()

    def stop_member(self, index: int) -> None:
        """Kill member ``index`` (SIGKILL), keeping its data."""
        self._members[index].stop()

    def start_member(self, index: int, wait: bool = True, timeout: Optional[float] = None) -> None:
        """Start member ``index`` again; with ``wait``, return once it serves.

        A member cannot serve without a quorum of running members: start it
        with ``wait=False`` when it is one of too few. Raises ServerStartError
        like ``ZooKeeperServer.start``.
        """
        if self._closed:
            raise RuntimeError("this ZooKeeperEnsemble is closed")
        self._members[index].start(wait=wait, timeout=timeout)

    def modes(self) -> List[Optional[str]]:
        """Each member's ``srvr`` Mode (``leader``, ``follower``, ...), None where stopped or not serving."""
        return [m.mode(timeout=0.5) if m.running else None for m in self._members]

    def leader(self) -> int:
        """Return the index of the member that reports itself leader.

        Raises LookupError if no member, or more than one, does right now.
        """
        modes = self.modes()
        leaders = [i for i, mode in enumerate(modes) if mode == "leader"]
        if len(leaders) != 1:
            raise LookupError(f"expected exactly one leader, member modes are {modes}")
        return leaders[0]

    def wait_for_leader(self, timeout: float = 30.0) -> int:
        """Wait until exactly one member leads and a quorum serves; return the leader's index.

        Raises TimeoutError if that does not happen within ``timeout``.
        """

        def settled() -> Optional[int]:
            modes = self.modes()
            leaders = [i for i, mode in enumerate(modes) if mode == "leader"]
            serving = sum(mode in _SERVING_MODES for mode in modes)
            if len(leaders) == 1 and serving >= self.quorum_size:
                return leaders[0] + 1  # +1 so index 0 is truthy
            return None

        found = wait_until(settled, timeout, interval=0.05, message="one leader and a serving quorum")
        assert found is not None  # (wait_until returns only a truthy answer)
        return found - 1

    def close(self) -> None:
        """Stop every member and delete all their data; idempotent."""
        self._closed = True
        for member in self._members:
            member.close()
        _process.remove_temp_dir(self._root)

    def __enter__(self) -> "ZooKeeperEnsemble":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        running = sum(m.running for m in self._members)
        return f"<ZooKeeperEnsemble {self.hosts} {running}/{len(self._members)} running>"
