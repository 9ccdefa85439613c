"""Writes retried after a connection loss, whose first try may have
been applied: find out, rather than apply them twice or fail wrongly.

- A plain create that meets NodeExists on a later try is ours if the node
  was created after our first try was sent (czxid above the last zxid we
  had seen then), holds our data, and, if ephemeral, belongs to our session.
- A sequential create gets a protected name, "_c_<guid>-<name>" (Curator's
  protection mode): a later try first looks for a child carrying the guid.
- A versioned set that meets BadVersion is ours if the node is now at the
  next version, was modified after our first try, and holds our data.
- A delete that meets NoNode on a later try has done its job either way.

Each function is called once per try, with the retry's `Attempt`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Optional, Tuple

from .protocol import requests as rq
from .protocol.errors import BadVersionException, NodeExistsException, NoNodeException
from .protocol.records import CreateFlags, Stat
from .retry import Attempt

if TYPE_CHECKING:
    from .client import ZooKeeper

PROTECTION_PREFIX = "_c_"
_SEQUENTIAL_FLAGS = (CreateFlags.SEQUENTIAL, CreateFlags.SEQUENTIAL | CreateFlags.EPHEMERAL,
                     CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL)


def _first_try(client: "ZooKeeper", attempt: Attempt) -> None:
    if "zxid" not in attempt.state:
        attempt.state["zxid"] = client.last_zxid


def create(client: "ZooKeeper", request: rq.Create, attempt: Attempt) -> Tuple[str, Stat]:
    _first_try(client, attempt)
    if request.flags in _SEQUENTIAL_FLAGS:
        return _create_protected(client, request, attempt)
    try:
        return client._call(request)
    except NodeExistsException:
        if attempt.number == 0:
            raise
        stat = client.exists(request.path)
        if stat is not None and _is_our_create(client, request, stat, attempt):
            return request.path, stat
        raise


def _is_our_create(client: "ZooKeeper", request: rq.Create, stat: Stat,
                   attempt: Attempt) -> bool:
    if stat.czxid <= attempt.state["zxid"]:
        return False
    if request.flags == CreateFlags.EPHEMERAL and stat.ephemeralOwner != client.session_id:
        return False
    data, _ = client.get(request.path)
    return data == request.data


def _create_protected(client: "ZooKeeper", request: rq.Create,
                      attempt: Attempt) -> Tuple[str, Stat]:
    parent, _, name = request.path.rpartition("/")
    guid = attempt.state.get("guid")
    if guid is None:
        guid = attempt.state["guid"] = uuid.uuid4().hex
    elif attempt.number:
        found = _find_protected(client, parent or "/", guid)
        if found is not None:
            return found
    marker = f"{PROTECTION_PREFIX}{guid}-"
    request.path = f"{parent}/{marker}{name}"
    return client._call(request)


def _find_protected(client: "ZooKeeper", parent: str, guid: str) -> Optional[Tuple[str, Stat]]:
    marker = f"{PROTECTION_PREFIX}{guid}-"
    for child in client.get_children(parent):
        if child.startswith(marker):
            path = ("" if parent == "/" else parent) + "/" + child
            stat = client.exists(path)
            if stat is not None:
                return path, stat
    return None


def set_data(client: "ZooKeeper", request: rq.SetData, attempt: Attempt) -> Stat:
    _first_try(client, attempt)
    try:
        return client._call(request)
    except BadVersionException:
        if attempt.number == 0 or request.version < 0:
            raise
        data, stat = client.get(request.path)
        if (stat.version == request.version + 1 and stat.mzxid > attempt.state["zxid"]
                and data == request.data):
            return stat
        raise


def delete(client: "ZooKeeper", request: rq.Delete, attempt: Attempt) -> None:
    try:
        client._call(request)
    except NoNodeException:
        if attempt.number == 0:
            raise
