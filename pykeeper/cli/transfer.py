"""Commands over whole subtrees: find, du, diff, and dump / restore / cp
(a tree as JSON: data as text, or base64 where it is not UTF-8; ephemeral
nodes left out; written back atomically in batches of one multi each)."""

from __future__ import annotations

import argparse
import base64
import fnmatch
import json
import os
import re
import sys
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple

from ..core.acl import acl_dicts
from ..core.paths import join, validate_path
from ..protocol.records import ACL, Id, OPEN_ACL_UNSAFE
from ..protocol.errors import ConnectionLossException, OperationTimeoutException
from .context import CommandError, Context, error_exit
from .output import Progress, data_json, lines_out, table, write_json
from .walk import pipelined, walk

__all__ = ["cmd_cp", "cmd_diff", "cmd_du", "cmd_dump", "cmd_find", "cmd_restore", "load_dump"]

FORMAT = "pykeeper-dump"
# A multi is one request: keep each under the server's 1 MiB jute.maxbuffer.
_BATCH_OPS = 500
_BATCH_BYTES = 700 * 1024


def _relative(root: str, path: str) -> str:
    return "" if path == root else path[len(root.rstrip("/")):]


def cmd_find(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    try:
        pattern = re.compile(args.data.encode("utf-8")) if args.data else None
    except re.error as exc:
        raise CommandError(f"bad --data regular expression: {exc}", 2) from None
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
    try:
        total = client.get_all_children_number(root) + 1
    except Exception:  # (servers before 3.6: no count, no progress line)
        total = 0
    progress = Progress("reading", total, sys.stderr)
    for node in walk(client, root):
        progress.advance(1)
        if node.stat.ephemeralOwner:  # (ephemeral nodes have no children)
            continue
        if root == "/" and (node.path == "/zookeeper" or node.path.startswith("/zookeeper/")):
            continue  # (the server's own: quotas and the ensemble's config)
        record: Dict[str, Any] = {"path": _relative(root, node.path), **data_json(node.data)}
        records.append(record)
    progress.finish()
    if with_acl:
        reads = pipelined(client.get_acl_async, [join(root, r["path"]) if r["path"] else root
                                                 for r in records])
        for record, (acls, _) in zip(records, reads):
            record["acl"] = acl_dicts(acls)
    return records


def cmd_dump(ctx: Context, args: argparse.Namespace) -> int:
    root = ctx.path(args.path)
    records = _snapshot(ctx.client(), root, args.acl)
    document = {"format": FORMAT, "version": 1, "root": root, "hosts": ctx.hosts,
                "nodes": records}
    if args.output and args.output != "-":
        partial = args.output + ".partial"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1)
            f.write("\n")
        os.replace(partial, args.output)  # (an old dump is replaced only by a whole one)
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
        try:
            return base64.b64decode(record["data_base64"], validate=True)
        except (ValueError, TypeError):
            raise CommandError(f"bad data_base64 of {record['path']!r} in the dump", 2) from None
    return b""


def _record_acl(record: Dict[str, Any], with_acl: bool) -> List[ACL]:
    if not with_acl or not record.get("acl"):
        return list(OPEN_ACL_UNSAFE)
    try:
        return [ACL(int(a["perms"]), Id(str(a["scheme"]), str(a["id"]))) for a in record["acl"]]
    except (KeyError, TypeError, ValueError):
        raise CommandError(f"bad acl of {record['path']!r} in the dump: each entry needs "
                           f"scheme, id and perms", 2) from None


def _write_tree(ctx: Context, client: Any, records: List[Dict[str, Any]], target: str,
                overwrite: bool, dry_run: bool, with_acl: bool) -> Dict[str, Any]:
    """Create (or with `overwrite`, set) every record under `target`; with
    `with_acl`, then give each node its ACL (deepest first, so no ACL of a
    parent stops the writes below it). Everything is checked before the
    first write; a failure later says how much was written. Returns the
    summary (with the plan, for a dry run)."""
    existing = set()
    if client.exists(target) is not None:
        existing = {node.path for node in walk(client, target, data=False)}
    plan: List[Tuple[str, str, bytes]] = []
    acls: List[Tuple[str, List[ACL]]] = []
    known = set(existing)
    for record in records:
        rel = record["path"]
        dest = target if not rel else target.rstrip("/") + rel
        try:
            if rel and not rel.startswith("/"):
                raise ValueError(rel)
            validate_path(dest)
        except ValueError:
            raise CommandError(f"bad path {rel!r} in the dump", 2) from None
        parent = dest.rsplit("/", 1)[0] or "/"
        if dest != target and parent not in known:
            raise CommandError(f"the dump has {rel!r} before (or without) its parent", 2)
        if dest in known and dest not in existing:
            raise CommandError(f"the dump has {rel!r} twice", 2)
        known.add(dest)
        if with_acl:
            acls.append((dest, _record_acl(record, True)))
        if dest in existing:
            if dest == target and not overwrite:
                continue  # (the target may exist: it keeps its data)
            plan.append(("set", dest, _record_data(record)))
        else:
            plan.append(("create", dest, _record_data(record)))
    conflicts = [dest for action, dest, _ in plan if action == "set"]
    if conflicts and not overwrite:
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise CommandError(f"{conflicts[0]}{more} already exist(s): --overwrite replaces "
                           f"their data", 4)
    summary: Dict[str, Any] = {
        "target": target, "created": sum(1 for p in plan if p[0] == "create"),
        "overwritten": len(conflicts), "dry_run": dry_run}
    if dry_run:
        summary["plan"] = [f"{action} {dest}" for action, dest, _ in plan]
        return summary
    parent = target.rsplit("/", 1)[0]
    if parent and client.exists(parent) is None:
        client.retry(client.create_recursive, parent)
    written = 0
    try:
        progress = Progress("restoring", len(plan), ctx.err)
        for batch, probe in _batches(client, plan):
            _commit(client, batch, probe)
            written += len(batch)
            progress.advance(len(batch))
        progress.finish()
        _set_acls(client, acls)
    except BaseException as exc:
        if isinstance(exc, Exception):
            error = error_exit(exc)
            code, why = error.code, str(error)
        elif isinstance(exc, KeyboardInterrupt):
            code, why = 130, "interrupted"
        else:
            raise
        raise CommandError(f"{why}; wrote {written} of {len(plan)} nodes under {target} "
                           f"(run again with --overwrite to finish)", code) from None
    return summary


def _batches(client: Any, plan: List[Tuple[str, str, bytes]]) -> Iterator[Tuple[Any, Any]]:
    """Transactions of at most _BATCH_OPS operations and about _BATCH_BYTES
    (a node bigger than that goes alone), with the path of each one's first
    create (None: only sets)."""
    batch, size, probe = client.transaction(), 0, None
    for action, dest, data in plan:
        cost = len(dest) + len(data) + 64
        if len(batch) and (len(batch) >= _BATCH_OPS or size + cost > _BATCH_BYTES):
            yield batch, probe
            batch, size, probe = client.transaction(), 0, None
        if action == "create":
            batch.create(dest, data)
            probe = probe or dest
        else:
            batch.set_data(dest, data)
        size += cost
    if len(batch):
        yield batch, probe


def _commit(client: Any, batch: Any, probe: Optional[str]) -> None:
    """Commit a batch; after a lost connection, find out whether it was
    applied (a multi applies whole or not at all) before trying again."""
    while True:
        try:
            batch.commit()
            return
        except (ConnectionLossException, OperationTimeoutException):
            client.wait_until_connected(client.retry_policy.deadline if client.retry_policy
                                        else None)
            if probe is not None and client.exists(probe) is not None:
                return


def _set_acls(client: Any, acls: List[Tuple[str, List[ACL]]]) -> None:
    ordered = sorted(acls, key=lambda entry: -entry[0].count("/"))
    for _ in pipelined(lambda entry: client.set_acl_async(*entry), ordered):
        pass


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    if args.file == "-":
        records = load_dump(sys.stdin, "standard input")
    else:
        with open(args.file, encoding="utf-8") as f:
            records = load_dump(f, args.file)
    target = ctx.path(args.path)
    _report(ctx, _write_tree(ctx, ctx.client(), records, target, args.overwrite, args.dry_run,
                             args.acl))
    return 0


def _report(ctx: Context, summary: Dict[str, Any]) -> None:
    if ctx.json:
        write_json(summary, ctx.out)
    elif summary["dry_run"]:
        lines_out(("would " + step for step in summary["plan"]), ctx.out)
    else:
        ctx.print(f"created {summary['created']}, overwrote {summary['overwritten']} nodes "
                  f"under {summary['target']}")


def cmd_cp(ctx: Context, args: argparse.Namespace) -> int:
    source = ctx.path(args.source)
    target = ctx.path(args.target)
    records = _snapshot(ctx.client(), source, args.acl)
    destination = ctx.client(args.to_hosts) if args.to_hosts else ctx.client()
    if not args.to_hosts and (target == source or target.startswith(source.rstrip("/") + "/")):
        raise CommandError(f"cannot copy {source} into itself ({target})", 2)
    _report(ctx, _write_tree(ctx, destination, records, target, args.overwrite, args.dry_run,
                             args.acl))
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

