"""Recursive create and delete, built on the public client API only."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, List

from .paths import to_bytes, validate_path
from .protocol.errors import NodeExistsException, NoNodeException, NotEmptyException

if TYPE_CHECKING:
    from .client import ZooKeeper

log = logging.getLogger("pykeeper")

# Bounds the retries when other clients keep deleting parents (for create)
# or adding children (for delete) while we work: a livelock gets an error.
MAX_ROUNDS = 20


def _child(parent: str, name: str) -> str:
    return "/" + name if parent == "/" else parent + "/" + name


def create_recursive(client: "ZooKeeper", path: str, value: Any = b"", acl: Any = None) -> str:
    validate_path(path)
    data = to_bytes(value, client.max_data_size)
    parents = []
    prefix = ""
    for part in path.split("/")[1:-1]:
        prefix += "/" + part
        parents.append(prefix)
    for _ in range(MAX_ROUNDS):
        try:
            return client.create(path, data, acl)
        except NoNodeException:
            pass
        # Top-down, ignoring parents that exist: racing creators all succeed.
        for parent in parents:
            try:
                client.create(parent, b"", acl)
            except NodeExistsException:
                pass
            except NoNodeException:
                break  # an ancestor vanished under us; start over
    raise NoNodeException(f"parents of {path} kept disappearing while creating it", path)


def delete_recursive(client: "ZooKeeper", path: str, dry_run: bool = False,
                     force: bool = False) -> List[str]:
    validate_path(path)
    removed: List[str] = []
    if path == "/":
        # The root cannot be deleted, and /zookeeper belongs to the server.
        for name in client.get_children("/"):
            if name != "zookeeper":
                removed.extend(delete_recursive(client, "/" + name, dry_run, force))
        return removed
    _delete_tree(client, path, dry_run, force, removed)
    return removed


def _delete_tree(client: "ZooKeeper", path: str, dry_run: bool, force: bool,
                 removed: List[str]) -> bool:
    """Delete below and at `path`; True if something had to be kept."""
    for _ in range(MAX_ROUNDS):
        try:
            children, _stat = client.get_children(path, include_stat=True)
        except NoNodeException:
            return False
        kept = False
        for name in children:
            kept = _delete_tree(client, _child(path, name), dry_run, force, removed) or kept
        if kept:
            log.debug("keeping %s: it has an ephemeral descendant", path)
            return True
        stat = client.exists(path)
        if stat is None:
            return False
        if stat.ephemeralOwner and not force:
            log.debug("keeping ephemeral node %s", path)
            return True
        if dry_run:
            removed.append(path)
            return False
        try:
            client.delete(path)
        except NoNodeException:
            return False
        except NotEmptyException:
            continue  # children were created meanwhile: delete them too
        removed.append(path)
        return False
    raise NotEmptyException(f"children kept appearing under {path} while deleting it", path)
