"""`server`: a four-letter word asked of every member of the ensemble (as
`conf` lists them; else the servers of --hosts), the answers side by side."""

from __future__ import annotations

import argparse
from typing import Dict, List, Optional, Tuple

from ..core.config import parse_config
from ..core.hosts import parse_hosts
from ..drivers.fourletter_io import ask
from .context import CommandError, Context
from .output import lines_out, table, write_json

__all__ = ["WORDS", "cmd_config", "cmd_server", "cmd_whoami", "members"]

WORDS = ["srvr", "stat", "conf", "mntr", "ruok", "cons", "envi"]


def _parse(word: str, answer: str) -> Optional[Dict[str, str]]:
    """key -> value of an answer that has them (None: show it as text)."""
    separator = {"srvr": ":", "stat": ":", "conf": "=", "envi": "=", "mntr": "\t"}.get(word)
    if separator is None:
        return None
    fields: Dict[str, str] = {}
    for line in answer.splitlines():
        key, sep, value = line.partition(separator)
        if sep and key.strip() and not line.startswith(" "):
            fields[key.strip()] = value.strip()
    return fields


def members(conf: str, host: str) -> List[Tuple[str, int]]:
    """The client addresses of the ensemble's members in a `conf` answer
    ("server.N=host:quorum:election:role;[client host:]port" lines)."""
    found = []
    for line in conf.splitlines():
        if not line.startswith("server.") or ";" not in line:
            continue
        client = line.split(";", 1)[1].strip()
        where, _, port = client.rpartition(":")
        if not port.isdigit():
            continue
        if not where or where in ("0.0.0.0", "::", "[::]"):
            where = host  # (it listens everywhere: reach it as we reached the one we asked)
        found.append((where, int(port)))
    return found


def _targets(ctx: Context) -> List[Tuple[str, int]]:
    """Every member of the ensemble, as the first server that answers `conf`
    lists them (else the servers of --hosts)."""
    addresses, _ = parse_hosts(ctx.hosts)
    given = [(address.host, address.port) for address in addresses]
    for host, port in given:
        try:
            listed = members(ask(host, port, "conf", timeout=min(ctx.timeout, 5.0)), host)
        except OSError:
            continue
        return listed + [g for g in given if g not in listed] if listed else given
    return given


def cmd_server(ctx: Context, args: argparse.Namespace) -> int:
    answers: List[Tuple[str, Optional[str], Optional[str]]] = []
    for host, port in _targets(ctx):
        name = f"{host}:{port}"
        try:
            reply = ask(host, port, args.word, timeout=min(ctx.timeout, 5.0))
            if "not in the whitelist" in reply or not reply.strip():
                answers.append((name, None, reply.strip() or f"no answer to {args.word!r}"))
            else:
                answers.append((name, reply, None))
        except OSError as exc:
            answers.append((name, None, str(exc) or type(exc).__name__))
    if ctx.json:
        write_json({name: ({"error": error} if error else
                           _parse(args.word, answer or "") or {"answer": answer})
                    for name, answer, error in answers}, ctx.out)
    else:
        parsed = [(name, _parse(args.word, answer) if answer is not None else None, answer, error)
                  for name, answer, error in answers]
        if all(fields is not None or error for _, fields, _, error in parsed):
            keys: List[str] = []
            for _, fields, _, _ in parsed:
                keys.extend(k for k in (fields or {}) if k not in keys)
            rows = [[key] + [(fields or {}).get(key, "") for _, fields, _, _ in parsed]
                    for key in keys]
            if any(error for *_, error in parsed):
                rows.append(["error"] + [error or "" for *_, error in parsed])
            lines_out(table(rows, [args.word] + [name for name, *_ in parsed]), ctx.out)
        else:
            for name, _, answer, error in parsed:
                ctx.print(f"== {name}")
                lines_out((error or answer or "").rstrip("\n").splitlines(), ctx.out)
    if all(error for _, _, error in answers):
        raise CommandError(f"no server of {ctx.hosts} answered {args.word!r}", 6)
    return 0


def cmd_config(ctx: Context, args: argparse.Namespace) -> int:
    """`config`: the ensemble's dynamic configuration, one member a row."""
    data, stat = ctx.client().get_config()
    config = parse_config(data)
    if ctx.json:
        write_json({"version": f"{config.version:x}",
                    "members": [dict(m._asdict(), client_address=m.client_address)
                                for m in config.members]}, ctx.out)
        return 0
    if not config.members:
        ctx.print("no dynamic configuration (a standalone server, or one older than 3.5)")
        return 0
    rows = [(m.id, m.role, f"{m.host}:{m.quorum_port}:{m.election_port}",
             m.client_address or "-") for m in config.members]
    lines_out(table(rows, ("id", "role", "quorum:election", "clients at")), ctx.out)
    ctx.print(f"version {config.version:x}")
    return 0


def cmd_whoami(ctx: Context, args: argparse.Namespace) -> int:
    """`whoami`: the identities the server gave this session."""
    identities = ctx.client().whoami()
    if ctx.json:
        write_json([info._asdict() for info in identities], ctx.out)
    else:
        lines_out(table([(i.auth_scheme, i.user) for i in identities], ("scheme", "user")),
                  ctx.out)
    return 0
