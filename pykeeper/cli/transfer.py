"""Commands over whole subtrees: find, du, diff, and dump / restore / cp
(a tree as JSON: data as text, or base64 where it is not UTF-8; ephemeral
nodes left out; written back atomically in batches of one multi each)."""

from __future__ import annotations

import argparse
import base64
import fnmatch
import json
import re
import sys
from typing import Any, Dict, IO, List, Tuple

from ..core.paths import join, validate_path
from ..protocol.records import ACL, Id, OPEN_ACL_UNSAFE
from .context import CommandError, Context
from .output import Progress, data_json, lines_out, table, write_json
from .walk import walk

__all__ = ["cmd_cp", "cmd_diff", "cmd_du", "cmd_dump", "cmd_find", "cmd_restore", "load_dump"]

FORMAT = "pykeeper-dump"
# A multi is one request: keep each under the server's 1 MiB jute.maxbuffer.
_BATCH_OPS = 500
_BATCH_BYTES = 700 * 1024


def _relative(root: str, path: str) -> str:
    return "" if path == root else path[len(root.rstrip("/")):]


def cmd_find(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    pattern = re.compile(args.data.encode("utf-8")) if args.data else None
    found = []
    for node in walk(ctx.client(), root, data=pattern is not None):
        name = node.path.rsplit("/", 1)[1] or "/"
        if args.name and not fnmatch.fnmatchcase(name, args.name):
            continue
        if args.ephemeral and not node.stat.ephemeralOwner:
            continue
        if pattern is not None and not pattern.search(node.data):
            continue
        found.append(node.path)
    if ctx.json:
        write_json(found, ctx.out)
    else:
        lines_out(found, ctx.out)
    return 0


def cmd_du(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    nodes = list(walk(ctx.client(), root, data=False))
    # (bytes, nodes) of each subtree, summed from the deepest up
    totals: Dict[str, List[int]] = {n.path: [n.stat.dataLength, 1] for n in nodes}
    for node in reversed(nodes):
        if node.path != root:
            parent = node.path.rsplit("/", 1)[0] or "/"
            if parent in totals:
                totals[parent][0] += totals[node.path][0]
                totals[parent][1] += totals[node.path][1]
    top = nodes[0]
    shown = [join(root, name) for name in top.children if join(root, name) in totals] + [root]
    if ctx.json:
        write_json([{"path": p, "bytes": totals[p][0], "nodes": totals[p][1]} for p in shown],
                   ctx.out)
    else:
        lines_out(table([(f"{totals[p][0]:,}", f"{totals[p][1]:,}", p) for p in shown],
                        ("bytes", "nodes", "path")), ctx.out)
    return 0


def _snapshot(client: Any, root: str, with_acl: bool) -> List[Dict[str, Any]]:
    """The subtree as dump records, parents first, ephemeral nodes left out."""
    records = []
    skipped: List[str] = []
    for node in walk(client, root):
        if node.stat.ephemeralOwner or any(node.path.startswith(s + "/") for s in skipped):
            skipped.append(node.path)
            continue
        record: Dict[str, Any] = {"path": _relative(root, node.path), **data_json(node.data)}
        records.append(record)
    if with_acl:
        futures = [client.get_acl_async(join(root, r["path"]) if r["path"] else root)
                   for r in records]
        for record, future in zip(records, futures):
            record["acl"] = [{"scheme": a.id.scheme, "id": a.id.id, "perms": int(a.perms)}
                             for a in future.result()[0]]
    return records


def cmd_dump(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    records = _snapshot(ctx.client(), root, args.acl)
    document = {"format": FORMAT, "version": 1, "root": root, "hosts": ctx.hosts,
                "nodes": records}
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1)
            f.write("\n")
    else:
        json.dump(document, ctx.out, indent=1)
        ctx.out.write("\n")
    if ctx.err.isatty():
        ctx.err.write(f"dumped {len(records)} nodes of {root}\n")
    return 0


def load_dump(stream: IO[str], where: str) -> List[Dict[str, Any]]:
    """The node records of a dump, checked."""
    try:
        document = json.load(stream)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{where} is not a dump: {exc}", 2) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CommandError(f"{where} is not a pykeeper dump (no \"format\": \"{FORMAT}\")", 2)
    records = document.get("nodes")
    if not isinstance(records, list) or not all(
            isinstance(r, dict) and isinstance(r.get("path"), str) for r in records):
        raise CommandError(f"{where}: \"nodes\" must be a list of {{\"path\": ...}} records", 2)
    return records


def _record_data(record: Dict[str, Any]) -> bytes:
    if record.get("data") is not None:
        return str(record["data"]).encode("utf-8")
    if record.get("data_base64") is not None:
        return base64.b64decode(record["data_base64"])
    return b""


def _record_acl(record: Dict[str, Any], with_acl: bool) -> List[ACL]:
    if not with_acl or not record.get("acl"):
        return list(OPEN_ACL_UNSAFE)
    return [ACL(int(a["perms"]), Id(a["scheme"], a["id"])) for a in record["acl"]]


def _write_tree(ctx: Context, client: Any, records: List[Dict[str, Any]], target: str,
                overwrite: bool, dry_run: bool, with_acl: bool) -> Tuple[int, int]:
    """Create (or with `overwrite`, set) every record under `target`.
    Returns (created, overwritten). Fails before writing if a node exists
    and not `overwrite`."""
    existing = set()
    if client.exists(target) is not None:
        existing = {node.path for node in walk(client, target, data=False)}
    plan: List[Tuple[str, str, bytes, List[ACL]]] = []
    for record in records:
        dest = target if not record["path"] else target.rstrip("/") + record["path"]
        try:
            validate_path(dest)  # (all checked before anything is written)
        except ValueError:
            raise CommandError(f"bad path {record['path']!r} in the dump", 2) from None
        if not record["path"] == "" and not record["path"].startswith("/"):
            raise CommandError(f"bad path {record['path']!r} in the dump", 2)
        if dest in existing:
            if dest == target and not overwrite:
                continue  # (the target may exist: it keeps its data)
            action = "set"
        else:
            action = "create"
        plan.append((action, dest, _record_data(record), _record_acl(record, with_acl)))
    conflicts = [dest for action, dest, _, _ in plan if action == "set"]
    if conflicts and not overwrite:
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise CommandError(f"{conflicts[0]}{more} already exist(s): --overwrite replaces "
                           f"their data", 4)
    if dry_run:
        lines_out((f"would {action} {dest}" for action, dest, _, _ in plan), ctx.out)
        return (sum(1 for p in plan if p[0] == "create"), sum(1 for p in plan if p[0] == "set"))
    parent = target.rsplit("/", 1)[0]
    if parent and client.exists(parent) is None:
        client.retry(client.create_recursive, parent)
    progress = Progress("restoring", len(plan), ctx.err)
    batch = client.transaction()
    size = 0
    for action, dest, data, acl in plan:
        if action == "create":
            batch.create(dest, data, acl)
        else:
            batch.set_data(dest, data)
        size += len(dest) + len(data) + 64
        if len(batch) >= _BATCH_OPS or size >= _BATCH_BYTES:
            count = len(batch)
            batch.commit()
            progress.advance(count)
            batch, size = client.transaction(), 0
    if len(batch):
        count = len(batch)
        batch.commit()
        progress.advance(count)
    progress.finish()
    return (sum(1 for p in plan if p[0] == "create"), sum(1 for p in plan if p[0] == "set"))


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    if args.file == "-":
        records = load_dump(sys.stdin, "standard input")
    else:
        with open(args.file, encoding="utf-8") as f:
            records = load_dump(f, args.file)
    target = ctx.path(args.path)
    created, overwritten = _write_tree(ctx, ctx.client(), records, target, args.overwrite,
                                       args.dry_run, args.acl)
    _report(ctx, created, overwritten, target, args.dry_run)
    return 0


def _report(ctx: Context, created: int, overwritten: int, target: str, dry_run: bool) -> None:
    if ctx.json:
        write_json({"target": target, "created": created, "overwritten": overwritten,
                    "dry_run": dry_run}, ctx.out)
    elif not dry_run:
        ctx.print(f"created {created}, overwrote {overwritten} nodes under {target}")


def cmd_cp(ctx: Context, args: argparse.Namespace) -> int:
    source = ctx.path(args.source)
    target = ctx.path(args.target)
    records = _snapshot(ctx.client(), source, args.acl)
    destination = ctx.client(args.to_hosts) if args.to_hosts else ctx.client()
    if not args.to_hosts and (target == source or target.startswith(source.rstrip("/") + "/")):
        raise CommandError(f"cannot copy {source} into itself ({target})", 2)
    created, overwritten = _write_tree(ctx, destination, records, target, args.overwrite,
                                       args.dry_run, args.acl)
    _report(ctx, created, overwritten, target, args.dry_run)
    return 0


def cmd_diff(ctx: Context, args: argparse.Namespace) -> int:
    left_root, right_root = ctx.path(args.a), ctx.path(args.b)
    left = {r["path"]: r for r in _snapshot(ctx.client(), left_root, False)}
    right_client = ctx.client(args.hosts_b) if args.hosts_b else ctx.client()
    right = {r["path"]: r for r in _snapshot(right_client, right_root, False)}
    changes: List[Tuple[str, str]] = []
    for path in sorted(set(left) | set(right)):
        if path not in right:
            changes.append(("-", path))
        elif path not in left:
            changes.append(("+", path))
        elif _record_data(left[path]) != _record_data(right[path]):
            changes.append(("~", path))
    if ctx.json:
        write_json([{"change": {"-": "only_a", "+": "only_b", "~": "data"}[c], "path": p or "/"}
                    for c, p in changes], ctx.out)
    else:
        lines_out((f"{c} {p or '/'}" for c, p in changes), ctx.out)
    return 1 if changes else 0

