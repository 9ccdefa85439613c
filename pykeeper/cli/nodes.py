"""The commands on single nodes and listings: ls, tree, stat, get, set,
create, rm, getacl, setacl, sync."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any, Dict, List, Optional, Tuple

from ..core.paths import join
from ..protocol.errors import NodeExistsException
from ..protocol.records import ACL, Id, Stat
from .context import CommandError, Context
from .output import (
    acl_text, data_json, data_text, is_text, lines_out, perms_text, stat_json, table,
    timestamp, write_json,
)
from .walk import walk

__all__ = [
    "cmd_create", "cmd_get", "cmd_getacl", "cmd_ls", "cmd_rm", "cmd_set", "cmd_setacl",
    "cmd_stat", "cmd_sync", "cmd_tree", "parse_acl",
]

_PERM_BITS = {"c": 4, "d": 8, "r": 1, "w": 2, "a": 16}


def cmd_ls(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    client = ctx.client()
    rows: List[Tuple[str, Optional[Stat]]]
    if args.recursive:
        nodes = list(walk(client, path, data=False))
        rows = [(n.path, n.stat) for n in nodes if n.path != path]
    elif args.long:
        names = sorted(client.get_children(path))
        futures = [(name, client.exists_async(join(path, name))) for name in names]
        rows = [(name, future.result()) for name, future in futures]
        rows = [(name, stat) for name, stat in rows if stat is not None]  # (gone meanwhile)
    else:
        rows = [(name, None) for name in sorted(client.get_children(path))]
    if ctx.json:
        if args.long:
            write_json([{"name": name, **stat_json(stat)} for name, stat in rows
                        if stat is not None], ctx.out)
        else:
            write_json([name for name, _ in rows], ctx.out)
        return 0
    if not args.long:
        lines_out((name for name, _ in rows), ctx.out)
        return 0
    lines_out(table([
        (f"{stat.dataLength:,}", stat.numChildren, timestamp(stat.mtime),
         "e" if stat.ephemeralOwner else "-", name) for name, stat in rows if stat is not None
    ]), ctx.out)
    return 0


def cmd_tree(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    nodes = list(walk(ctx.client(), root, data=False, depth=args.depth))
    by_path = {n.path: n for n in nodes}

    def kids(path: str) -> List[str]:
        return [join(path, name) for name in by_path[path].children
                if join(path, name) in by_path]

    def entry(path: str) -> Dict[str, Any]:
        stat = by_path[path].stat
        return {"name": path if path == root else path.rsplit("/", 1)[1],
                "bytes": stat.dataLength, "children": stat.numChildren, "nodes": []}

    if ctx.json:  # (built without recursion: trees may be deeper than Python's stack)
        top = entry(root)
        stack = [(root, top)]
        while stack:
            path, made = stack.pop()
            for kid in kids(path):
                child = entry(kid)
                made["nodes"].append(child)
                stack.append((kid, child))
        write_json(top, ctx.out)
        return 0
    lines: List[str] = []
    # (path, prefix of its line, prefix of its children's lines), depth first
    todo: List[Tuple[str, str, str]] = [(root, "", "")]
    while todo:
        path, lead, below = todo.pop()
        stat = by_path[path].stat
        name = path if path == root else path.rsplit("/", 1)[1]
        lines.append(f"{lead}{name}  ({stat.dataLength:,} B, {stat.numChildren} children"
                     + (", ephemeral)" if stat.ephemeralOwner else ")"))
        children = kids(path)
        for i, kid in reversed(list(enumerate(children))):
            last = i == len(children) - 1
            todo.append((kid, below + ("└── " if last else "├── "),
                         below + ("    " if last else "│   ")))
    lines_out(lines, ctx.out)
    return 0


def cmd_stat(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    stat = ctx.client().exists(path)
    if stat is None:
        raise CommandError(f"no node: {path}", 3)
    if ctx.json:
        write_json({"path": path, **stat_json(stat)}, ctx.out)
    else:
        lines_out(_stat_lines(stat), ctx.out)
    return 0


def _stat_lines(stat: Stat) -> List[str]:
    rows = []
    for field, value in zip(Stat._fields, stat):
        shown = f"0x{value:x}" if field in ("czxid", "mzxid", "pzxid", "ephemeralOwner") else value
        if field in ("ctime", "mtime"):
            shown = f"{timestamp(value)} ({value})"
        rows.append((field, shown))
    return table(rows)


def cmd_get(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    data, stat = ctx.client().get(path)
    if ctx.json:
        write_json({"path": path, **data_json(data), **({"stat": stat_json(stat)}
                                                        if args.stat else {})}, ctx.out)
        return 0
    if is_text(data) or ctx.out.isatty() or ctx.out is not sys.stdout:
        ctx.out.write(data_text(data) + "\n")
    else:  # (binary data to a pipe or file: the bytes themselves)
        sys.stdout.flush()
        raw: Any = sys.stdout
        raw.buffer.write(data)
        raw.buffer.flush()
    if args.stat:
        lines_out(_stat_lines(stat), ctx.err if not is_text(data) else ctx.out)
    return 0


def _value(args: argparse.Namespace) -> bytes:
    if args.value == "-":
        return sys.stdin.buffer.read()
    return (args.value or "").encode("utf-8")


def cmd_set(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    client = ctx.client()
    value = _value(args)
    stat = client.retry(client.set, path, value, args.version)
    if ctx.json:
        write_json({"path": path, **stat_json(stat)}, ctx.out)
    return 0


def cmd_create(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path) + ("/" if args.path.endswith("/") and args.sequential else "")
    client = ctx.client()
    value = _value(args) if args.value is not None else b""
    if args.parents:
        parent = path.rsplit("/", 1)[0]
        if parent and client.exists(parent) is None:
            try:
                client.retry(client.create_recursive, parent)
            except NodeExistsException:
                pass  # (made meanwhile by someone else: as good)
    # (a retried sequential create would get a protected "_c_<guid>-" name: not here)
    create = client.create if args.sequential else functools.partial(client.retry, client.create)
    created = create(path, value, None, 0, ephemeral=args.ephemeral, sequence=args.sequential,
                     container=args.container, ttl=args.ttl)
    if ctx.json:
        write_json({"path": created}, ctx.out)
    else:
        ctx.print(created)
    return 0


def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    client = ctx.client()
    if args.recursive and args.version != -1:
        raise CommandError("--version applies to one node: not with -r", 2)
    if args.dry_run and not args.recursive:
        stat = client.exists(path)
        if stat is None:
            raise CommandError(f"no node: {path}", 3)
        if stat.numChildren:
            raise CommandError(f"not empty: {path} (-r removes what is below it)", 7)
    if args.recursive or args.dry_run:
        removed = client.retry(client.delete_recursive, path, args.dry_run, args.force)
        if ctx.json:
            write_json({"removed" if not args.dry_run else "would_remove": removed}, ctx.out)
        else:
            prefix = "would remove " if args.dry_run else "removed "
            lines_out((prefix + p for p in removed), ctx.out)
            kept = path != "/" and not args.dry_run and client.exists(path) is not None
            if kept:
                ctx.err.write(f"kept {path}: it has ephemeral nodes below it (--force removes "
                              f"them)\n")
        return 0
    client.retry(client.delete, path, args.version)
    return 0


def cmd_getacl(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    acls, stat = ctx.client().get_acl(path)
    if ctx.json:
        write_json({"path": path, "aversion": stat.aversion,
                    "acl": [{"scheme": a.id.scheme, "id": a.id.id, "perms": perms_text(a.perms)}
                            for a in acls]}, ctx.out)
    else:
        lines_out((acl_text(a) for a in acls), ctx.out)
    return 0


def parse_acl(spec: str) -> ACL:
    """"scheme:id:perms" (perms of cdrwa; the id may hold colons, as digest's
    user:hash does) as an ACL entry."""
    scheme, sep, rest = spec.partition(":")
    ident, sep2, perms = rest.rpartition(":")
    if not sep or not sep2 or not scheme or not perms:
        raise CommandError(f"bad ACL {spec!r}: write scheme:id:perms, e.g. world:anyone:cdrwa "
                           f"or digest:user:HASH:rwa", 2)
    bits = 0
    for letter in perms:
        if letter not in _PERM_BITS:
            raise CommandError(f"bad permission {letter!r} in {spec!r}: use letters of cdrwa", 2)
        bits |= _PERM_BITS[letter]
    return ACL(bits, Id(scheme, ident))


def cmd_setacl(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    acls = [parse_acl(spec) for spec in args.acl]
    client = ctx.client()
    client.retry(client.set_acl, path, acls, args.version)
    return 0


def cmd_sync(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.path(args.path)
    ctx.client().sync(path)
    return 0
