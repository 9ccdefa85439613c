"""Ending a client's session from outside, as a server does when it
expires one: the way to test what a client (or a recipe) does on expiry
without waiting out an outage."""

from __future__ import annotations

from typing import Any

__all__ = ["expire_session"]


def expire_session(client: Any, hosts: str, timeout: float = 10.0) -> None:
    """End the session of `client` (either pykeeper client) on the servers
    at `hosts`: a second connection takes the session over by its
    (session id, password) and closes it. The server deletes the session's
    ephemeral nodes at once; `client` hears SESSION_EXPIRED when it next
    reaches a server. Blocks for two round trips (at most `timeout` s).
    Raises ValueError if `client` has no session."""
    from ..clients.sync import ZooKeeper

    client_id = client.client_id
    if client_id is None:
        raise ValueError(f"{client!r} has no session to expire")
    taker = ZooKeeper(hosts, client_id=client_id, reconnect=False)
    try:
        taker.connect(timeout=timeout)
    finally:
        taker.close(timeout=timeout)
