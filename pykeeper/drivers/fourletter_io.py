"""Asking a server a four-letter word: one blocking and one asyncio way. A
server answers and closes the connection."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import List, Optional

from ..core.fourletter import MAX_ANSWER, decode_answer, encode_word

__all__ = ["ask", "ask_async"]


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
