"""Vectors of strings decode the same through the split fast path (short
ASCII names) and the element-by-element loop, for any input; and bytes
that are not exactly such a vector never pass the fast path."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykeeper.protocol import ProtocolError
from pykeeper.protocol.jute import Reader, Writer


def encode(names, trailing: bytes = b"") -> bytes:
    w = Writer()
    w.ustring_vector(names)
    return bytes(w.buf) + trailing


class LoopReader(Reader):
    """A Reader without the fast path."""

    __slots__ = ()

    def _short_ascii_strings(self, count, end):
        return None


def by_loop(data: bytes, trailing: int = 0):
    r = LoopReader(data)
    return r.ustring_vector(trailing), r.offset


names = st.lists(st.one_of(st.text(max_size=3), st.text(min_size=120, max_size=140),
                           st.text(alphabet="\x00\x01\x7f\x80abc/", max_size=8)),
                 max_size=40)


@settings(max_examples=600, deadline=None)
@given(names, st.binary(max_size=80))
def test_fast_path_agrees_with_the_loop(values, tail) -> None:
    data = encode(values, tail)
    for trailing in {0, len(tail)}:
        try:
            expected = by_loop(data, trailing)
        except ProtocolError:
            with pytest.raises(ProtocolError):
                Reader(data).ustring_vector(trailing)
            continue
        r = Reader(data)
        assert (r.ustring_vector(trailing), r.offset) == expected


@settings(max_examples=600, deadline=None)
@given(st.integers(0, 50), st.binary(max_size=200))
def test_arbitrary_bytes_decode_alike_or_fail_alike(count, body) -> None:
    data = struct.pack(">i", count) + body
    try:
        expected = by_loop(data)
    except ProtocolError:
        with pytest.raises(ProtocolError):
            Reader(data).ustring_vector(0)
        return
    r = Reader(data)
    assert (r.ustring_vector(0), r.offset) == expected


def test_the_fast_path_is_taken_for_node_names() -> None:
    data = encode([f"child-{i:04d}" for i in range(1000)] + ["\x7f", "x" * 127])
    r = Reader(data)
    assert r._short_ascii_strings(r.vector_length(4), len(data)) is not None
