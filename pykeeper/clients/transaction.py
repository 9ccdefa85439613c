"""Transactions (ZooKeeper's multi): several writes applied atomically, and
read transactions (multiRead): several reads answered from one point in time."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, List, Optional, TypeVar

from ..core.paths import check_version, to_bytes, validate_path
from ..core import operations as ops
from ..protocol import requests as rq

if TYPE_CHECKING:
    from ..aio.client import ZooKeeper as AsyncZooKeeper
    from .sync import ACLs, Data, ZooKeeper
    from .base import ClientBase

__all__ = ["AsyncReadTransaction", "AsyncTransaction", "ReadTransaction", "Transaction"]

_T = TypeVar("_T", bound="_Queue")


class _Queue:
    """The operations a transaction has queued, sent once by its commit."""

    def __init__(self, client: ClientBase) -> None:
        self._client: ClientBase = client
        self.operations: List[rq.Request] = []
        self.committed = False

    def _commit_operation(self) -> ops.Operation[List[Any]]:
        if self.committed:
            raise ValueError("this transaction was already committed")
        if not self.operations:
            raise ValueError("a transaction needs at least one operation")
        self.committed = True
        return self._operation()

    def _operation(self) -> ops.Operation[List[Any]]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.operations)

    def __repr__(self) -> str:
        state = "committed" if self.committed else "not committed"
        queued = "; ".join(_describe_op(op) for op in self.operations[:5])
        more = f"; ... ({len(self.operations) - 5} more)" if len(self.operations) > 5 else ""
        return (f"<{type(self).__name__} of {len(self.operations)} operations, {state}"
                f"{': ' + queued + more if queued else ''}>")


class _Operations(_Queue):
    """The queue of a transaction: create/delete/set_data/check, each
    checking its arguments at once (ValueError/TypeError) and returning
    the transaction, so calls can be chained."""

    def create(self: _T, path: str, value: Data = b"", acl: Optional[ACLs] = None,
               flags: int = 0, *, ephemeral: bool = False, sequence: bool = False,
               container: bool = False, ttl: Optional[int] = None) -> _T:
        """Queue a create; its result in commit() is the created path."""
        self.operations.append(ops.create_request(
            self._client, path, value, acl, flags, ephemeral, sequence, container, ttl))
        return self

    def delete(self: _T, path: str, version: int = -1) -> _T:
        """Queue a delete; its result in commit() is True."""
        validate_path(path)
        self.operations.append(rq.Delete(path, check_version(version)))
        return self

    def set_data(self: _T, path: str, value: Data, version: int = -1) -> _T:
        """Queue a set; its result in commit() is the new Stat."""
        validate_path(path)
        self.operations.append(rq.SetData(path, to_bytes(value, self._client.max_data_size),
                                          check_version(version)))
        return self

    set = set_data

    def check(self: _T, path: str, version: int) -> _T:
        """Queue a check that the node is at `version`; its result is True."""
        validate_path(path)
        self.operations.append(rq.Check(path, check_version(version)))
        return self

    def _operation(self) -> ops.Operation[List[Any]]:
        return ops.commit(self._client, self.operations)


class _Reads(_Queue):
    """The queue of a read transaction: get/get_children, each checking its
    path at once and returning the transaction, so calls can be chained."""

    def get(self: _T, path: str) -> _T:
        """Queue a get; its result in commit() is (data, Stat)."""
        validate_path(path)
        self.operations.append(rq.GetData(path))
        return self

    def get_children(self: _T, path: str) -> _T:
        """Queue a get_children; its result in commit() is the list of names."""
        validate_path(path)
        self.operations.append(rq.GetChildren(path))
        return self

    def _operation(self) -> ops.Operation[List[Any]]:
        return ops.read_commit(self._client, self.operations)


class _SyncCommit(_Queue):
    """commit() for the sync client: blocking, or as a future."""

    _client: ZooKeeper

    def commit(self) -> List[Any]:
        """Send the operations; returns one result per operation, in order
        (what each method's docstring says; see the class for failures)."""
        return self._client._drive(self._commit_operation())

    def commit_async(self) -> Future[List[Any]]:
        """Like commit(), but returns at once a concurrent.futures.Future of
        the results (or of the exception commit() would raise)."""
        return ops.drive_future(self._commit_operation(), self._client._send)


class _AsyncCommit(_Queue):
    """commit() for the asyncio client: awaited, or as a future."""

    _client: AsyncZooKeeper

    async def commit(self) -> List[Any]:
        """As the sync client's commit(), awaited."""
        return await self._client._drive(self._commit_operation())

    def commit_async(self) -> Future[List[Any]]:
        """Start commit() and return at once a concurrent.futures.Future of
        the results (or of the exception commit() would raise)."""
        return ops.drive_future(self._commit_operation(), self._client._send)


class Transaction(_SyncCommit, _Operations):
    """Operations queued with create/delete/set_data/check, sent together by
    commit(). Either all of them are applied or none is: if any fails,
    commit() raises its exception (NoNodeException, BadVersionException,
    ...), with `.results` holding every operation's outcome
    (RolledBackException for the ones that would have succeeded).

    Each method checks its arguments at once (ValueError/TypeError) and
    returns the transaction, so calls can be chained. Usable as a context
    manager (commits on exit).
    """

    def __init__(self, client: ZooKeeper) -> None:
        super().__init__(client)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self.committed:
            self.commit()


class AsyncTransaction(_AsyncCommit, _Operations):
    """The asyncio client's Transaction (`pykeeper.aio.Transaction`):
    queue as with `pykeeper.Transaction`, then `await commit()`, or use
    `async with` (commits on exit)."""

    def __init__(self, client: AsyncZooKeeper) -> None:
        super().__init__(client)

    async def __aenter__(self) -> AsyncTransaction:
        return self

    async def __aexit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self.committed:
            await self.commit()


class ReadTransaction(_SyncCommit, _Reads):
    """Reads queued with get/get_children, answered by commit() from one
    point of the server's history (a multiRead, servers 3.6+): no write
    lands between them. commit() returns one entry per read, in order: its
    result, or the exception it met (NoNodeException, NoAuthException, ...)
    as a value; it raises only for what fails the whole (a lost connection,
    UnimplementedException on older servers). Reads set no watches."""

    def __init__(self, client: ZooKeeper) -> None:
        super().__init__(client)


class AsyncReadTransaction(_AsyncCommit, _Reads):
    """The asyncio client's ReadTransaction (`pykeeper.aio.ReadTransaction`):
    queue as with `pykeeper.ReadTransaction`, then `await commit()`."""

    def __init__(self, client: AsyncZooKeeper) -> None:
        super().__init__(client)


def _describe_op(op: rq.Request) -> str:
    version = getattr(op, "version", -1)
    at = f" at version {version}" if version >= 0 else ""
    if isinstance(op, rq.Create):
        return f"create {op.path!r} ({len(op.data)} bytes)"
    if isinstance(op, rq.SetData):
        return f"set {op.path!r} ({len(op.data)} bytes){at}"
    if isinstance(op, rq.Delete):
        return f"delete {op.path!r}{at}"
    if isinstance(op, rq.Check):
        return f"check {op.path!r}{at}"
    return repr(op)
