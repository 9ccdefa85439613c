"""Four-letter words (`srvr`, `isro`, `ruok`, ...), sans-I/O: what to send,
how to read the answer, what it means. `pykeeper.drivers.fourletter` asks."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

__all__ = ["encode_word", "decode_answer", "serves_writes", "parse_srvr_zxid", "parse_mode",
           "parse_version", "MAX_ANSWER"]

# An answer longer than this is cut short (no server word says that much).
MAX_ANSWER = 1 << 20


def encode_word(word: str) -> bytes:
    """The bytes to send for `word`. Raises ValueError unless it has four letters."""
    if len(word) != 4:
        raise ValueError(f"four-letter words have four letters, not {word!r}")
    return word.encode("ascii")


def decode_answer(chunks: List[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", "replace")


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


_VERSION = re.compile(r"^Zookeeper version: (\d+)\.(\d+)\.(\d+)", re.M)


def parse_version(srvr_answer: str) -> Tuple[int, int, int]:
    """The server's version, (3, 8, 4), from its ``srvr`` answer
    ("Zookeeper version: 3.8.4-..., built on ..."). Raises ValueError,
    quoting the answer's first line, when it names none."""
    match = _VERSION.search(srvr_answer)
    if match is None:
        first = (srvr_answer.strip().splitlines() or [""])[0][:120]
        raise ValueError(f"the server's srvr answer names no version: {first!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))
