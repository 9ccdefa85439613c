"""`Counter`: a number in a node, changed atomically by every client.

    counter = client.Counter("/app/visits")
    counter += 1                    # (asyncio: await counter.add(1))
    counter.value, counter.pre_value, counter.post_value

kazoo's layout: the value as ASCII text in the node's data (`repr` of the
int or float), or with `support_curator=True` as Curator's SharedCount
(a 4-byte big-endian int). A change reads the value and its version and
sets the sum at that version; a BadVersion (another client changed it in
between) reads again. A set whose reply was lost is recognised by the
retried set (the node is at the next version with our data), so a change
is applied exactly once across dropped connections.
"""

from __future__ import annotations

import struct
from typing import Optional, Tuple, Union

from ..core import operations as ops
from ..core.steps import Call, Helper, HelperClient
from ..protocol.errors import BadVersionException, NoNodeException
from .base import Recipe, ensure_path

__all__ = ["CounterBase", "Counter"]

Number = Union[int, float]


class CounterBase(Recipe):
    """What both Counter fronts share: the read and the versioned change."""

    def __init__(self, client: HelperClient, path: str, default: Union[int, float] = 0,
                 support_curator: bool = False) -> None:
        super().__init__(client, path)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise TypeError(f"default must be an int or a float, not {default!r}")
        if support_curator and not isinstance(default, int):
            raise TypeError("with support_curator (Curator's SharedCount) the default "
                            f"must be an int, not {default!r}")
        self.default = default
        self.default_type = type(default)
        self.support_curator = support_curator
        self.pre_value: Optional[Number] = None   # the value before this object's last change
        self.post_value: Optional[Number] = None  # the value it set

    def _decode(self, data: bytes) -> Number:
        if data == b"":
            return self.default
        if self.support_curator:
            if len(data) != 4:
                raise ValueError(f"{self.path} holds {len(data)} bytes, not a SharedCount's 4")
            value: Number = struct.unpack(">i", data)[0]
            return value
        try:
            return self.default_type(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            kind = "an int" if self.default_type is int else "a float"
            raise ValueError(f"{self.path} does not hold {kind}: {data[:40]!r}") from None

    def _encode(self, value: Number) -> bytes:
        if self.support_curator:
            return struct.pack(">i", value)
        return repr(value).encode("ascii")

    def _read(self) -> "Helper[Tuple[Number, int]]":
        try:
            data, stat = yield Call(ops.get, self.path, retry=True)
        except NoNodeException:
            yield from ensure_path(self.path)
            data, stat = yield Call(ops.get, self.path, retry=True)
        return self._decode(data), stat.version

    def _value(self) -> "Helper[Number]":
        value, _ = yield from self._read()
        return value

    def _add(self, amount: Number) -> "Helper[Number]":
        if isinstance(amount, bool) or not isinstance(amount, self.default_type):
            raise TypeError(f"the counter {self.path} counts in {self.default_type.__name__}s; "
                            f"cannot add {amount!r}")
        if self.support_curator and not -2**31 <= amount < 2**31:
            raise ValueError(f"{amount!r} does not fit a SharedCount's 32 bits")
        while True:
            before, version = yield from self._read()
            after = before + amount
            data = self._encode(after)  # (struct.error for an overflowing SharedCount)
            try:
                yield Call(ops.set_data, self.path, data, version, retry=True)
            except BadVersionException:
                continue  # another client changed it in between: read again
            self.pre_value, self.post_value = before, after
            return after


class Counter(CounterBase):
    """A shared int or float counter (the type of `default`). See the module
    docstring. Safe to share between threads; each change is a few round
    trips (more under contention), retried across connection losses."""

    @property
    def value(self) -> Number:
        """The current value (the default if the node is empty or new: it
        is made then). One round trip."""
        return self._run_sync(self._value())

    def add(self, amount: Number) -> Number:
        """Add `amount` (of the counter's type; negative to subtract)
        atomically; returns the value it set (also `post_value`, with the
        one before in `pre_value`). TypeError for another type."""
        return self._run_sync(self._add(amount))

    def __iadd__(self, amount: Number) -> "Counter":
        self._run_sync(self._add(amount))
        return self

    def __isub__(self, amount: Number) -> "Counter":
        self._run_sync(self._add(-amount))
        return self

    def __add__(self, amount: Number) -> "Counter":
        # kazoo's spelling: counter + 1 changes the counter and returns it.
        self._run_sync(self._add(amount))
        return self

    def __sub__(self, amount: Number) -> "Counter":
        self._run_sync(self._add(-amount))
        return self
