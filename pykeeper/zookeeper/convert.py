"""The official binding's argument and result shapes, and checking the
arguments before anything is sent: stat dicts, ACL dicts, data as str,
create flags, callbacks."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from ..core.paths import check_version, to_bytes, validate_path
from ..protocol.errors import (
    BadArgumentsException, InvalidACLException, InvalidCallbackException,
)
from ..protocol.records import ACL, Id, Stat
from .constants import CONTAINER, EPHEMERAL, SEQUENCE

__all__ = [
    "StatDict", "check_callback", "check_data", "check_flags", "check_path",
    "check_version_arg", "data_out", "parse_acls", "stat_dict",
]

StatDict = Dict[str, int]
_STAT_KEYS = Stat._fields
_ACL_KEYS = ("perms", "scheme", "id")


def stat_dict(stat: Optional[Stat]) -> Optional[StatDict]:
    """The binding's stat: a dict of the 11 Stat fields (None for no stat)."""
    return None if stat is None else dict(zip(_STAT_KEYS, stat))


def parse_acls(acls: Any) -> List[ACL]:
    """The binding's ACL argument (a list of dicts with perms, scheme and id)
    as ACL entries. InvalidACLException naming the fault otherwise."""
    if not isinstance(acls, (list, tuple)):
        raise InvalidACLException(
            f"invalid acl: a list of {{'perms', 'scheme', 'id'}} dicts is needed, "
            f"not {type(acls).__name__}")
    if not acls:
        raise InvalidACLException("invalid acl: the list is empty (a node needs an entry)")
    parsed = []
    for index, entry in enumerate(acls):
        if not isinstance(entry, Mapping):
            raise InvalidACLException(
                f"invalid acl: entry {index} is a {type(entry).__name__}, not a dict")
        missing = [key for key in _ACL_KEYS if key not in entry]
        if missing:
            raise InvalidACLException(f"invalid acl: entry {index} has no {', '.join(missing)}")
        perms, scheme, ident = entry["perms"], entry["scheme"], entry["id"]
        if isinstance(perms, bool) or not isinstance(perms, int) or not 0 <= perms <= 0x7FFFFFFF:
            raise InvalidACLException(f"invalid acl: entry {index}'s perms must be an int of "
                                      f"PERM_* bits, not {perms!r}")
        if not isinstance(scheme, str) or not isinstance(ident, str):
            raise InvalidACLException(
                f"invalid acl: entry {index}'s scheme and id must be str")
        parsed.append(ACL(perms, Id(scheme, ident)))
    return parsed


def check_path(path: Any, sequential: bool = False) -> str:
    """`path` if the server takes it; TypeError for a non-str (as the
    binding's argument parsing), BadArgumentsException for a bad path."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    try:
        return validate_path(path, sequential=sequential)
    except ValueError as exc:
        raise BadArgumentsException(f"bad arguments: {exc}") from None


def check_data(value: Any, max_size: int) -> bytes:
    """Node data as bytes (str is UTF-8 encoded, None is empty); TypeError
    for other types, BadArgumentsException for data over `max_size`."""
    try:
        return to_bytes(value, max_size)
    except ValueError as exc:
        raise BadArgumentsException(f"bad arguments: {exc}") from None


def check_version_arg(version: Any) -> int:
    try:
        return check_version(version)
    except ValueError as exc:
        raise BadArgumentsException(f"bad arguments: {exc}") from None


def check_flags(flags: Any) -> int:
    """create()'s flags: EPHEMERAL and SEQUENCE OR-ed, or CONTAINER alone."""
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"flags must be an int, not {type(flags).__name__}")
    if flags not in (0, EPHEMERAL, SEQUENCE, EPHEMERAL | SEQUENCE, CONTAINER):
        raise BadArgumentsException(
            f"bad arguments: flags must be 0, EPHEMERAL and/or SEQUENCE, or CONTAINER, "
            f"not {flags}")
    return flags


def check_callback(callback: Any, what: str) -> Optional[Callable[..., Any]]:
    """`callback` if it is None or callable; InvalidCallbackException otherwise."""
    if callback is not None and not callable(callback):
        raise InvalidCallbackException(
            f"invalid callback: the {what} must be callable or None, not "
            f"{type(callback).__name__}")
    checked: Optional[Callable[..., Any]] = callback
    return checked


def data_out(data: bytes, binary: bool, path: str) -> Union[str, bytes]:
    """Node data as the binding returned it: str decoded from UTF-8 (or, on
    a handle opened with binary=True, the bytes). UnicodeDecodeError naming
    the node and the remedy when the data is not UTF-8."""
    if binary:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnicodeDecodeError(
            exc.encoding, exc.object, exc.start, exc.end,
            f"{exc.reason}: the data of {path} is not UTF-8 text; open the handle with "
            f"init(..., binary=True) to get node data as bytes") from None
