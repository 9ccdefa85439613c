"""The four-letter-word client (`srvr`, `isro`, `ruok`, ...), written once:
what to send, how to read the answer, what it means; with one blocking
and one asyncio way to ask. A server answers and closes the connection."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import List, Optional

__all__ = ["encode_word", "decode_answer", "ask", "ask_async", "serves_writes",
           "parse_srvr_zxid", "parse_mode", "MAX_ANSWER"]

# An answer longer than this is cut short (no server word says that much).
MAX_ANSWER = 1 << 20


def encode_word(word: str) -> bytes:
    """The bytes to send for `word`. Raises ValueError unless it has four letters."""
    if len(word) != 4:
        raise ValueError(f"four-letter words have four letters, not {word!r}")
    return word.encode("ascii")


def decode_answer(chunks: List[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", "replace")


def ask(host: str, port: int, word: str, timeout: float = 1.0,
        ssl_context: Optional[ssl.SSLContext] = None) -> str:
    """Send `word` to host:port and return the whole answer; blocks at most
    about `timeout` seconds in all. Raises OSError (ConnectionRefusedError,
    socket.timeout, ssl.SSLError, ...) when the server cannot be reached
    or does not finish answering in time."""
    data = encode_word(word)
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = (ssl_context.wrap_socket(raw, server_hostname=host)
                if ssl_context is not None else raw)
        with sock:
            sock.sendall(data)
            chunks: List[bytes] = []
            size = 0
            while size < MAX_ANSWER:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout(
                        f"{word} reply from {host}:{port} incomplete after {timeout:g} s")
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return decode_answer(chunks)


async def ask_async(host: str, port: int, word: str, timeout: float = 1.0,
                    ssl_context: Optional[ssl.SSLContext] = None) -> str:
    """As `ask`, on the running event loop; waits at most about `timeout`
    seconds. Raises OSError or asyncio.TimeoutError."""
    data = encode_word(word)
    deadline = time.monotonic() + timeout
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ssl_context,
                                server_hostname=host if ssl_context is not None else None),
        timeout)
    try:
        writer.write(data)
        chunks: List[bytes] = []
        size = 0
        while size < MAX_ANSWER:
            chunk = await asyncio.wait_for(reader.read(65536),
                                           max(0.0, deadline - time.monotonic()))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return decode_answer(chunks)
    finally:
        writer.close()


def serves_writes(isro_answer: Optional[str]) -> bool:
    """Whether an answer to 'isro' says the server serves writes ("rw")."""
    return (isro_answer or "").startswith("rw")


def parse_srvr_zxid(answer: Optional[str]) -> Optional[int]:
    """The "Zxid: 0x..." of a serving server's answer to 'srvr', or None."""
    for line in (answer or "").splitlines():
        if line.startswith("Zxid:"):
            try:
                return int(line.split(":", 1)[1].strip(), 16)
            except ValueError:
                return None
    return None


def parse_mode(srvr_answer: str) -> Optional[str]:
    """The ``Mode:`` of a ``srvr`` answer (standalone, leader, follower, observer), or None."""
    for line in srvr_answer.splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return None
