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
    reaches a server. Blocks for a few round trips (each at most `timeout` s).
    RuntimeError if the session keeps coming back.
    Raises ValueError if `client` has no session."""
    from ..clients.sync import ZooKeeper
    from ..protocol.errors import SessionExpiredException

    client_id = client.client_id
    if client_id is None:
        raise ValueError(f"{client!r} has no session to expire")
    # The client may win its session back between the take-over and the
    # close (its close then fails as SessionMoved): try until a take-over
    # finds the session gone.
    for _ in range(20):
        taker = ZooKeeper(hosts, client_id=client_id, reconnect=False)
        try:
            taker.connect(timeout=timeout)
        except SessionExpiredException:
            return
        finally:
            taker.close(timeout=timeout)
    raise RuntimeError(f"the session 0x{client_id[0]:x} would not end")
