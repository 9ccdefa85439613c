"""How the command shows things: node data as text when it is UTF-8 (else
escaped, never raw bytes to a terminal), JSON for scripts, drawn trees,
aligned tables, a progress line on a terminal."""

from __future__ import annotations

import base64
import datetime
import json
import sys
import unicodedata
from typing import Any, Dict, IO, Iterable, List, Optional, Sequence

from ..protocol.records import ACL, Stat

__all__ = [
    "Progress", "acl_text", "data_json", "data_text", "is_text", "lines_out", "perms_text",
    "stat_json", "table", "timestamp", "write_json",
]

_PERM_LETTERS = (("c", 4), ("d", 8), ("r", 1), ("w", 2), ("a", 16))


def is_text(data: bytes) -> bool:
    """UTF-8 without control or format characters (C0, C1, bidi overrides)
    other than tab and newline: safe to show on a terminal."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def data_text(data: bytes) -> str:
    """Node data for a person: the text, or an escaped bytes literal."""
    return data.decode("utf-8") if is_text(data) else repr(data)


def data_json(data: bytes) -> Dict[str, Any]:
    """Node data for JSON: {"data": text} when it is UTF-8, else
    {"data": null, "data_base64": ...}."""
    try:
        return {"data": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"data": None, "data_base64": base64.b64encode(data).decode("ascii")}


def timestamp(ms: int) -> str:
    """A node time (ms since the epoch) as ISO 8601 UTC."""
    moment = datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def stat_json(stat: Stat) -> Dict[str, Any]:
    fields: Dict[str, Any] = dict(zip(Stat._fields, (int(v) for v in stat)))
    fields["ctime_iso"] = timestamp(stat.ctime)
    fields["mtime_iso"] = timestamp(stat.mtime)
    return fields


def perms_text(perms: int) -> str:
    return "".join(letter for letter, bit in _PERM_LETTERS if perms & bit) or "-"


def acl_text(acl: ACL) -> str:
    return f"{acl.id.scheme}:{acl.id.id}:{perms_text(acl.perms)}"


def write_json(value: Any, out: IO[str]) -> None:
    json.dump(value, out, indent=2, sort_keys=False)
    out.write("\n")


def table(rows: Sequence[Sequence[Any]], header: Optional[Sequence[str]] = None) -> List[str]:
    """Rows as lines of left-aligned columns (numbers right-aligned)."""
    cells = [[str(c) for c in row] for row in ([header] if header else []) + list(rows)]
    if not cells:
        return []
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(cells[0]))]
    numeric = [all(_is_number(row[i]) for row in cells[1 if header else 0:] if i < len(row))
               for i in range(len(widths))]
    lines = []
    for row in cells:
        parts = [cell.rjust(w) if num else cell.ljust(w)
                 for cell, w, num in zip(row, widths, numeric)]
        lines.append("  ".join(parts).rstrip())
    return lines


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


class Progress:
    """"what: n/total" redrawn in place on stderr when it is a terminal;
    silent otherwise (scripts and pipes get no control characters)."""

    def __init__(self, what: str, total: int, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.what = what
        self.total = total
        self.done = 0
        self.enabled = self.stream.isatty() and total >= 100

    def advance(self, count: int) -> None:
        self.done += count
        if self.enabled and (self.done % 100 < count or self.done >= self.total):
            width = 30
            filled = width * self.done // max(1, self.total)
            self.stream.write(f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total}")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def lines_out(lines: Iterable[str], out: IO[str]) -> None:
    for line in lines:
        out.write(line + "\n")

