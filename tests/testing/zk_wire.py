"""Just enough of the ZooKeeper wire protocol to check a server from a test.

Written out by hand with ``struct`` on purpose: these tests check the test
servers, so they must not depend on pykeeper's own protocol code.
"""

from __future__ import annotations

import socket
import struct
from typing import Optional, Tuple

OP_CREATE = 1
OP_EXISTS = 3
OP_GET_DATA = 4
OP_CREATE_TTL = 21
OP_CLOSE = -11

OK = 0
NO_NODE = -101
NODE_EXISTS = -110
UNIMPLEMENTED = -6

PERSISTENT_WITH_TTL = 5

PERM_ALL = 31


def _ustring(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">i", len(raw)) + raw


def _buffer(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    parts = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("server closed the connection mid-frame")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def recv_frame(sock: socket.socket) -> bytes:
    (length,) = struct.unpack(">i", _recv_exact(sock, 4))
    return _recv_exact(sock, length)


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">i", len(payload)) + payload)


class RawSession:
    """A ZooKeeper session over one socket, one request at a time."""

    def __init__(self, host: str, port: int, session_timeout_ms: int = 10000, io_timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=io_timeout)
        self._xid = 0
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly
        request = struct.pack(">iqiq", 0, 0, session_timeout_ms, 0) + _buffer(b"\0" * 16) + struct.pack(">?", False)
        send_frame(self.sock, request)
        reply = recv_frame(self.sock)
        _, self.timeout_ms, self.session_id = struct.unpack(">iiq", reply[:16])
        if self.session_id == 0:
            raise ConnectionError("server refused the session")

    def _request(self, op: int, body: bytes) -> Tuple[int, bytes]:
        self._xid += 1
        send_frame(self.sock, struct.pack(">ii", self._xid, op) + body)
        reply = recv_frame(self.sock)
        xid, _zxid, err = struct.unpack(">iqi", reply[:16])
        if xid != self._xid:
            raise AssertionError(f"reply xid {xid} != request xid {self._xid}")
        return err, reply[16:]

    def create(self, path: str, data: bytes) -> int:
        """Create a persistent, world-writable node; return the error code (0 on success)."""
        err, _ = self._request(OP_CREATE, _ustring(path) + _buffer(data) + self._open_acl() + struct.pack(">i", 0))
        return err

    @staticmethod
    def _open_acl() -> bytes:
        return struct.pack(">ii", 1, PERM_ALL) + _ustring("world") + _ustring("anyone")

    def create_ttl(self, path: str, data: bytes, ttl_ms: int) -> int:
        """Create a persistent node with a TTL (refused unless the server enables extended types)."""
        err, _ = self._request(
            OP_CREATE_TTL,
            _ustring(path) + _buffer(data) + self._open_acl() + struct.pack(">iq", PERSISTENT_WITH_TTL, ttl_ms),
        )
        return err

    def exists(self, path: str) -> int:
        """Return 0 if ``path`` exists, NO_NODE if not."""
        err, _ = self._request(OP_EXISTS, _ustring(path) + struct.pack(">?", False))
        return err

    def get_data(self, path: str) -> Tuple[int, Optional[bytes]]:
        """Return (error code, data or None)."""
        err, body = self._request(OP_GET_DATA, _ustring(path) + struct.pack(">?", False))
        if err != OK:
            return err, None
        (length,) = struct.unpack(">i", body[:4])
        return err, (b"" if length < 0 else body[4 : 4 + length])

    def close(self) -> None:
        try:
            self._request(OP_CLOSE, b"")
        except OSError:
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> "RawSession":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
