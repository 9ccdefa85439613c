"""Connection strings: "host1:port1,host2:port2/chroot"."""

from __future__ import annotations

import random
from typing import List, NamedTuple, Tuple

from .paths import validate_path

DEFAULT_PORT = 2181


class Address(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_hosts(hosts: str) -> Tuple[List[Address], str]:
    """Split a connection string into its addresses and its chroot ('' for none).

    Accepts `host`, `host:port`, `[v6addr]:port` and `[v6addr]`; the default
    port is 2181. Raises ValueError naming the bad part.
    """
    if not isinstance(hosts, str):
        raise TypeError(f"hosts must be a str like '127.0.0.1:2181', not {type(hosts).__name__}")
    text = hosts.strip()
    chroot = ""
    slash = text.find("/")
    if slash != -1:
        text, chroot = text[:slash], text[slash:]
        if chroot == "/":
            chroot = ""
        else:
            validate_path(chroot, what="chroot")
    addresses = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty host in connection string {hosts!r}")
        addresses.append(_parse_address(part, hosts))
    return addresses, chroot


def _parse_address(part: str, whole: str) -> Address:
    if part.startswith("["):
        close = part.find("]")
        if close == -1:
            raise ValueError(f"unclosed '[' in host {part!r} of {whole!r}")
        host, rest = part[1:close], part[close + 1:]
        if rest and not rest.startswith(":"):
            raise ValueError(f"unexpected {rest!r} after ']' in {whole!r}")
        port_text = rest[1:] if rest else ""
    elif part.count(":") > 1:
        raise ValueError(f"IPv6 address {part!r} must be written as [addr]:port in {whole!r}")
    else:
        host, _, port_text = part.partition(":")
    if not host:
        raise ValueError(f"missing host name in {part!r} of {whole!r}")
    if not port_text:
        return Address(host, DEFAULT_PORT)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad port {port_text!r} in {whole!r}")
    return Address(host, int(port_text))


class HostRotation:
    """The addresses shuffled once, then handed out round-robin.

    `next()` returns the next address and whether it starts a new round
    (so the caller can back off between rounds rather than between hosts).
    """

    def __init__(self, addresses: List[Address], shuffle: bool = True) -> None:
        self.addresses = list(addresses)
        if shuffle:
            random.shuffle(self.addresses)
        self._index = -1

    def next(self) -> Tuple[Address, bool]:
        self._index = (self._index + 1) % len(self.addresses)
        return self.addresses[self._index], self._index == 0
