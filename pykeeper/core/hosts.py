"""Connection strings: "host1:port1,host2:port2/chroot"."""

from __future__ import annotations

import random
from typing import List, NamedTuple, Optional, Tuple

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
    `update()` takes a new list (the ensemble changed) and says whether the
    client should move, as the Java client's StaticHostProvider decides.
    """

    def __init__(self, addresses: List[Address], shuffle: bool = True,
                 rng: Optional[random.Random] = None) -> None:
        self._random = rng or random.Random()
        self._shuffle = shuffle
        self.addresses = list(addresses)
        if shuffle:
            self._random.shuffle(self.addresses)
        self._index = -1
        # After an update that moves the client: where its next connection
        # goes (a new server with probability p_new, else one it knew).
        self._move: Optional[Tuple[float, List[Address], List[Address]]] = None

    def next(self) -> Tuple[Address, bool]:
        if self._move is not None:
            p_new, new, old = self._move
            self._move = None
            group = new if new and (not old or self._random.random() < p_new) else old
            address = self._random.choice(group)
            self._index = self.addresses.index(address)
            return address, False
        self._index = (self._index + 1) % len(self.addresses)
        return self.addresses[self._index], self._index == 0

    def update(self, addresses: List[Address], current: Optional[Address]) -> bool:
        """Take `addresses` as the ensemble's; True if the client, now on
        `current` (None: not connected), should move to spread the load.

        The Java client's rule: when servers were added, a client stays
        with probability old/new count (or moves to a new server); when
        its server was removed it moves, to a new server with the
        probability that keeps the old ones' load even. Removed servers are
        never handed out again."""
        if not addresses:
            raise ValueError("the new host list is empty")
        fresh = list(dict.fromkeys(addresses))  # (in order, without repeats)
        if self._shuffle:
            self._random.shuffle(fresh)
        before = self.addresses
        if current is None and 0 <= self._index < len(before):
            current = before[self._index]  # (not connected: the last one tried, as Java)
        old = [a for a in fresh if a in before]
        new = [a for a in fresh if a not in before]
        total, previous = len(fresh), len(before)
        staying = current is not None and current in fresh
        move = False
        p_new = 1.0
        if total > previous:
            # More servers: move (to a new one) with the share they should take.
            move = not staying or self._random.random() <= 1 - previous / total
        elif not staying and current is not None:
            move = True
            spare = (previous - len(old)) * total
            p_old = (len(old) * (previous - total)) / spare if spare else 0.0
            p_new = 1 - p_old
        self.addresses = fresh
        # (Round-robin goes on after the current server, not from the top.)
        self._index = fresh.index(current) if staying and current is not None else -1
        self._move = (p_new, new, old) if move and (new or old) else None
        return move
