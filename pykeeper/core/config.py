"""The ensemble's dynamic configuration (`get_config`, `reconfig`), parsed.

    server.1=10.0.0.1:2888:3888:participant;10.0.0.1:2181
    server.4=zk4.example.com:2888:3888:observer;2181
    version=100000003

Each `server.N` line is a member: its quorum and election addresses, its
role, and after the `;` the address clients connect to (a bare port means
every interface of the member's host). `version` is the configuration's
zxid in hex, what `reconfig(from_config=...)` names.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple, Union

__all__ = ["EnsembleConfig", "Member", "parse_config"]

_ANY_ADDRESS = ("0.0.0.0", "::", "0:0:0:0:0:0:0:0")


class Member(NamedTuple):
    """One `server.N` line of the configuration."""

    id: int
    host: str
    quorum_port: int
    election_port: int
    role: str  # "participant" or "observer"
    client_host: Optional[str]  # None: no client address in the line
    client_port: Optional[int]

    @property
    def client_address(self) -> Optional[str]:
        """"host:port" to connect to (the member's host when its client
        address is a wildcard), or None when the line has no client port."""
        if self.client_port is None:
            return None
        host = self.client_host
        if host is None or host in _ANY_ADDRESS:
            host = self.host
        return f"[{host}]:{self.client_port}" if ":" in host else f"{host}:{self.client_port}"


class EnsembleConfig(NamedTuple):
    """The configuration: its version and members, in id order."""

    version: int
    members: List[Member]

    @property
    def hosts(self) -> str:
        """A connect string of every member that has a client address."""
        return ",".join(m.client_address for m in self.members if m.client_address)


def _split_host_port(text: str, line: str) -> Tuple[str, str]:
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad address {text!r} in config line {line!r}")
        return host, rest[1:]
    host, _, rest = text.partition(":")
    return host, rest


def _port(text: str, line: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad port {text!r} in config line {line!r}")
    return int(text)


def _member(key: str, value: str, line: str) -> Member:
    server_id = key[len("server."):]
    if not server_id.isdigit():
        raise ValueError(f"bad server id in config line {line!r}")
    servers, _, client = value.partition(";")
    first = servers.split("|")[0]  # (3.6+ lists several addresses of one member)
    host, rest = _split_host_port(first, line)
    parts = rest.split(":")
    if len(parts) < 2 or not host:
        raise ValueError(f"config line {line!r} needs host:quorum_port:election_port")
    role = parts[2].strip() if len(parts) > 2 else "participant"
    if role not in ("participant", "observer"):
        raise ValueError(f"bad role {role!r} in config line {line!r}")
    client_host: Optional[str] = None
    client_port: Optional[int] = None
    client = client.strip()
    if client:
        if client.isdigit():
            client_port = _port(client, line)
        else:
            client_host, port = _split_host_port(client, line)
            client_port = _port(port, line)
    return Member(int(server_id), host, _port(parts[0], line), _port(parts[1], line), role,
                  client_host, client_port)


def parse_config(data: Union[bytes, str]) -> EnsembleConfig:
    """The members and version of a configuration as `get_config` returns
    it. Raises ValueError naming a line it cannot read."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    members: List[Member] = []
    version = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"config line {line!r} is not key=value")
        if key == "version":
            try:
                version = int(value.strip(), 16)
            except ValueError:
                raise ValueError(f"bad version in config line {line!r}") from None
        elif key.startswith("server."):
            members.append(_member(key, value, line))
    members.sort(key=lambda m: m.id)
    return EnsembleConfig(version, members)
