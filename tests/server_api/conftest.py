"""A client of either kind, connected or not: the security tests' fixtures."""

from ..security.conftest import kind, make_client, unconnected

__all__ = ["kind", "make_client", "unconnected"]
