"""Checking paths and data before anything is sent to the server."""

from __future__ import annotations

import re
from typing import Any, Optional

__all__ = [
    "DEFAULT_MAX_DATA", "check_version", "join", "to_bytes", "validate_path",
]

# Code points the server rejects in a path (its PathUtils rules). The server
# checks Java (UTF-16) chars, so every code point above U+FFFF -- sent as a
# surrogate pair, inside its rejected U+D800..U+F8FF -- is refused too.
_BAD_CHARS = re.compile("[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff"
                        "\U00010000-\U0010ffff]")

# The server's default jute.maxbuffer: it bounds a whole request (path,
# data, ACL and headers), so a value at a short path can be ~55 bytes less.
DEFAULT_MAX_DATA = 0xFFFFF


def validate_path(path: Any, what: str = "path", sequential: bool = False) -> str:
    """Return `path` if the server would accept it, else raise.

    Raises TypeError for a non-str, ValueError naming the fault otherwise.
    A sequential create may end with '/' (the server appends the number).
    """
    if not isinstance(path, str):
        raise TypeError(f"{what} must be a str, not {type(path).__name__}: {path!r}")
    if not path.startswith("/"):
        raise ValueError(f"{what} must be absolute (start with '/'): {path!r}")
    if path == "/":
        return path
    body = path[:-1] if sequential and path.endswith("/") else path
    if body.endswith("/"):
        raise ValueError(f"{what} must not end with '/': {path!r}")
    match = _BAD_CHARS.search(path)
    if match:
        raise ValueError(f"{what} contains the disallowed character "
                         f"U+{ord(match.group()):04X}: {path!r}")
    for segment in body[1:].split("/"):
        if segment == "":
            raise ValueError(f"{what} has an empty segment ('//'): {path!r}")
        if segment in (".", ".."):
            raise ValueError(f"{what} has a relative segment {segment!r}: {path!r}")
    return path


def to_bytes(value: Any, max_size: Optional[int] = DEFAULT_MAX_DATA, what: str = "value") -> bytes:
    """Node data as bytes: bytes-like kept, str UTF-8 encoded, None empty.

    Raises TypeError for anything else and ValueError for data over
    `max_size` (the client's request limit: no request holding more fits).
    """
    if value is None:
        data = b""
    elif isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytearray, memoryview)):
        data = bytes(value)
    else:
        raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")
    if max_size is not None and len(data) > max_size:
        raise ValueError(
            f"{what} is {len(data)} bytes, over the {max_size} bytes a whole request may "
            f"be (the server's jute.maxbuffer; for a server started with a larger "
            f"-Djute.maxbuffer, pass max_data_size= to the client)")
    return data


def join(*parts: str) -> str:
    """Join path parts with single slashes: join('/a/', 'b', '/c') -> '/a/b/c'."""
    pieces = [p.strip("/") for p in parts if p and p.strip("/")]
    return "/" + "/".join(pieces)


def check_version(version: Any) -> int:
    """`version` if it is -1 (any version) or a valid node version; else raise."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"version must be an int, not {type(version).__name__}")
    if not -1 <= version <= 0x7FFFFFFF:
        raise ValueError(f"version must be -1 (any) or a node version >= 0, not {version}")
    return version
