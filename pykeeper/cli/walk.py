"""Reading a whole subtree fast: breadth-first, each level's reads
pipelined (many in flight on the one connection), parents before children."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, TypeVar

from ..core.paths import join
from ..protocol.errors import NoNodeException
from ..protocol.records import Stat

__all__ = ["Node", "pipelined", "walk"]

T = TypeVar("T")
R = TypeVar("R")

# Reads in flight at once (the server stops reading a connection at 1,000).
_WINDOW = 400


class Node(NamedTuple):
    path: str
    data: bytes
    stat: Stat
    children: List[str]  # (sorted)


def walk(client: Any, root: str, data: bool = True,
         depth: Optional[int] = None) -> Iterator[Node]:
    """Every node at and below `root` (to `depth` levels below it), parents
    first. Nodes deleted during the walk are skipped; NoNodeException if
    `root` is missing. Without `data`, Node.data is b"" (fewer bytes read)."""
    level, below = [root], 0
    while level:
        found: List[Node] = []
        for start in range(0, len(level), _WINDOW):
            # (a lost connection re-reads the batch once the client is back)
            found.extend(client.retry(_read, client, root, level[start:start + _WINDOW], data))
        for node in found:
            yield node
        below += 1
        if depth is not None and below > depth:
            return
        level = [join(node.path, name) for node in found for name in node.children]


def _read(client: Any, root: str, batch: List[str], data: bool) -> List[Node]:
    reads = [(path, client.get_async(path) if data else client.exists_async(path),
              client.get_children_async(path)) for path in batch]
    found = []
    for path, read, listing in reads:
        try:
            answer, children = read.result(), listing.result()
        except NoNodeException:
            answer = children = None
        if answer is None or children is None:
            if path == root:
                raise NoNodeException(path=root)
            continue  # (deleted while the walk went on)
        content, stat = answer if data else (b"", answer)
        found.append(Node(path, content, stat, sorted(children)))
    return found


def pipelined(start: Callable[[T], "Future[R]"], items: Sequence[T]) -> Iterator[R]:
    """start(item)'s results, in order, with at most _WINDOW in flight."""
    for begin in range(0, len(items), _WINDOW):
        futures = [start(item) for item in items[begin:begin + _WINDOW]]
        for future in futures:
            yield future.result()
